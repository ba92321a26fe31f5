/** Jest started directly (`npx jest`) on a Node older than keywire needs stops here,
 * with the message saying how to get Node 22, before any suite fails obscurely. */
import { assertNodeVersion } from "../../config/nodeVersion";

export default function globalSetup(): void {
  assertNodeVersion();
}
