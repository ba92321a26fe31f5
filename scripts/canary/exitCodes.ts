/**
 * `npm run canary`'s exit codes: a contract with CI, like drift's (scripts/drift/exitCodes.ts).
 * The drift workflow (.github/workflows/drift.yml) maps 7 from either command to the
 * same outcome, "open or update the stack's issue", so "not delivered" shares drift's
 * code rather than having one of its own.
 */
import { DRIFT_EXIT } from "../drift/exitCodes";

export const CANARY_EXIT = {
  /** ServiceNow recorded the published alarm as an event. */
  delivered: 0,
  /** SNS accepted the message and ServiceNow recorded nothing within the wait: alarms are being lost. */
  notDelivered: DRIFT_EXIT.drift,
  /** Publishing failed, or reading the result did: the chain was not judged. */
  failed: 1,
  /** The canary could not start (bad arguments, no configuration, no topic, no read access): nothing was published. */
  cannotRun: 2,
} as const;

/** What a run found; "cannot run" has no report, so it is not among them. */
export type CanaryOutcome = "delivered" | "not-delivered" | "failed";

export function canaryExitCode(outcome: CanaryOutcome): number {
  if (outcome === "delivered") return CANARY_EXIT.delivered;
  if (outcome === "not-delivered") return CANARY_EXIT.notDelivered;
  return CANARY_EXIT.failed;
}

/** What an exit code of `npm run canary` means; the drift workflow maps codes the same way. */
export function canaryOutcomeOf(exitCode: number): "delivered" | "not-delivered" | "error" {
  if (exitCode === CANARY_EXIT.delivered) return "delivered";
  if (exitCode === CANARY_EXIT.notDelivered) return "not-delivered";
  return "error";
}
