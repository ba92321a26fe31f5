/**
 * The crash matrix, the chain's records in a first deployment (test/support/crashMatrix.ts):
 * `up` of an empty stack killed as a pre-empted CI runner is (the CLI, the language host and
 * the providers at once) right after the instance committed (c) the integration user, the
 * inbound profile, a policy link. The rerun sends the same sys_id for the record (a create's
 * sys_id follows from the stack and the resource: engine/createIdentity.ts) and takes the
 * record it finds; the runbook's commands bring the stack to exactly what it declares.
 * Between cases the stack is destroyed, and must leave nothing behind.
 */
import { AFTER_A_KILLED_CREATE, judge, ok, runCase, setUpMatrix, wrote } from "../support/crashMatrix";

jest.setTimeout(5 * 60_000);

const { matrix } = setUpMatrix("chain, first deployment");

/** Destroys the stack of the last case, which must leave the instance as it was. */
async function emptyStack(): Promise<void> {
  const m = matrix();
  await ok(m, ["destroy", "--yes", "--skip-preview"]);
  expect(await judge(m.emu, m.stack, m.base, "destroyed")).toEqual([]);
}

test("(c) the integration user committed", async () => {
  const outcome = await runCase(matrix(), { name: "(c) integration user created", run: "up", moment: wrote("POST", "sys_user"), scope: "group" });
  expect(outcome.problems).toEqual([]);
  expect(outcome.recovery?.commands).toEqual(AFTER_A_KILLED_CREATE);
});

test("(c) the inbound profile committed", async () => {
  await emptyStack();
  const outcome = await runCase(matrix(), { name: "(c) inbound profile created", run: "up", moment: wrote("POST", "http_key_auth"), scope: "group" });
  expect(outcome.problems).toEqual([]);
  expect(outcome.recovery?.commands).toEqual(AFTER_A_KILLED_CREATE);
});

test("(c) a policy link committed", async () => {
  await emptyStack();
  const outcome = await runCase(matrix(), { name: "(c) policy link created", run: "up", moment: wrote("POST", "sys_auth_profile_mapping"), scope: "group" });
  expect(outcome.problems).toEqual([]);
  expect(outcome.recovery?.commands).toEqual(AFTER_A_KILLED_CREATE);
});
