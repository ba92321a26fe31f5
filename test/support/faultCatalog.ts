/**
 * The faults keywire must survive, as emulator settings aimed at one method on
 * one table: the fault matrix (test/servicenow/faultMatrix) and the rotation
 * through the real engine (test/e2e/rotationFaults.test.ts) use the same list.
 */
import type { FaultFilter, FaultSettings } from "../../emulator/servicenow/types";

/** Each fault, aimed at `target` (a method and a table). Late commits assume a client deadline under 1.2 s. */
export const FAULTS: Record<string, (target: FaultFilter) => FaultSettings> = {
  "dropped before commit": (t) => ({ dropNext: { count: 1, ...t } }),
  "dropped after commit": (t) => ({ commitThenFailNext: { count: 1, mode: "drop", ...t } }),
  "500 after commit": (t) => ({ commitThenFailNext: { count: 1, mode: "500", ...t } }),
  // The write lands 1.2 s after it arrived, after the client's 1 s deadline.
  "late commit": (t) => ({ lateCommitNext: { count: 1, delayMs: 1200, ...t } }),
  "429 burst with Retry-After": (t) => ({ failNext: { count: 3, status: 429, retryAfterSeconds: 0, ...t } }),
  // Every request, of any table: a third answered 500, 502 or 503.
  "5xx share": () => ({ errorRate: 0.34 }),
  "connection reset mid-body": (t) => ({ resetMidBodyNext: { count: 1, ...t } }),
};
