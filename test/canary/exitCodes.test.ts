/** `npm run canary`'s exit codes: the contract the drift workflow maps. */
import { CANARY_EXIT, canaryExitCode, canaryOutcomeOf } from "../../scripts/canary/exitCodes";
import { DRIFT_EXIT } from "../../scripts/drift/exitCodes";

test("0 delivered, 7 not delivered, 1 failed, 2 cannot run", () => {
  expect(CANARY_EXIT).toEqual({ delivered: 0, notDelivered: 7, failed: 1, cannotRun: 2 });
});

test("not delivered is drift's code, so the workflow opens or updates the issue for either", () => {
  expect(CANARY_EXIT.notDelivered).toBe(DRIFT_EXIT.drift);
  expect(CANARY_EXIT.failed).toBe(DRIFT_EXIT.failed);
  expect(CANARY_EXIT.cannotRun).toBe(DRIFT_EXIT.cannotRun);
});

test("each outcome has its code, and each code reads back as its outcome", () => {
  expect(canaryExitCode("delivered")).toBe(0);
  expect(canaryExitCode("not-delivered")).toBe(7);
  expect(canaryExitCode("failed")).toBe(1);
  expect([0, 7, 1, 2, 3, 130].map(canaryOutcomeOf)).toEqual(["delivered", "not-delivered", "error", "error", "error", "error"]);
});
