/**
 * Stops a process on a Node older than keywire needs, with a message saying how to get
 * the right one, instead of running on it. Imported for that effect, first, by every
 * npm-script entry, the `keywire` command and the emulator's command line (ES imports
 * run in order, so nothing after it loads on an old Node); `npm test` runs it on its own
 * before the type check. It lives in config/ beside the check it runs so that every
 * entry, the emulator's too, imports it from below rather than from scripts/.
 */
import { nodeVersionProblem } from "./nodeVersion";

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
