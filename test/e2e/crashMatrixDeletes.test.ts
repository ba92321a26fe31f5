/**
 * The crash matrix, the deletes and the CLI alone (test/support/crashMatrix.ts): a first
 * deployment killed right after the instance committed (c) the rate-limit rule; a rotation
 * whose CLI alone is killed right after the instance committed the replacement key (the
 * host and the provider stop by themselves, while the instance answers them), recovered by
 * the runbook's steps for CI; a rotation killed right after the instance deleted (e) the key
 * it replaced; and (f) a destroy killed right after the instance deleted the key. Except
 * where the CLI alone is, the CLI, the language host and the providers are killed at once,
 * as a pre-empted CI runner is; and except where CI's steps are, a laptop's recover. After
 * each, the stack is exactly what it declares, or after (f) nothing of it is left.
 */
import { AFTER_A_KILLED_CREATE, ok, outputsOf, runCase, setUpMatrix, wrote } from "../support/crashMatrix";

jest.setTimeout(5 * 60_000);

const { matrix } = setUpMatrix("deletes, CLI alone");

async function rotate(trigger: string): Promise<void> {
  await ok(matrix(), ["config", "set", "--path", "keywire:apiKey.rotation.trigger", trigger]);
}

test("(c) the rate-limit rule committed", async () => {
  const outcome = await runCase(matrix(), { name: "(c) rate-limit rule created", run: "up", moment: wrote("POST", "sys_rate_limit_rules"), scope: "group" });
  expect(outcome.problems).toEqual([]);
  expect(outcome.recovery?.commands).toEqual(AFTER_A_KILLED_CREATE);
});

test("the CLI alone killed once a rotation's replacement key is committed, as a job's timeout does: the rest stops by itself, and CI's recovery converges", async () => {
  await rotate("crash-cli");
  const outcome = await runCase(matrix(), {
    name: "(b) rotation's replacement key created, CLI alone",
    run: "up",
    moment: wrote("POST", "api_key"),
    scope: "cli",
    recovery: "ci",
  });
  expect(outcome.problems).toEqual([]);
  // The recover workflow drops the pending create before the deploy job runs again, which then warns of nothing.
  expect(outcome.recovery?.commands).toEqual(["cancel", "refresh --clear-pending-creates", "up --refresh"]);
  expect(outcome.recovery?.printed["up --refresh"]).not.toContain("pending operations");
});

test("(e) the replaced key's delete committed: up --refresh finds it gone, and no pending operation is left", async () => {
  const old = String((await outputsOf(matrix().stack)).apiKeySysId);
  await rotate("crash-e");
  const outcome = await runCase(matrix(), { name: "(e) replaced key deleted", run: "up", moment: wrote("DELETE", "api_key", old), scope: "group" });
  expect(outcome.problems).toEqual([]);
  expect(outcome.recovery?.commands).toEqual(["cancel", "up --refresh"]);
  expect(outcome.recovery?.printed["up --refresh"]).not.toContain("pending operations");
});

test("(f) a destroy killed once the key is deleted: destroy again warns of the interrupted deletes and leaves nothing of the stack", async () => {
  const key = String((await outputsOf(matrix().stack)).apiKeySysId);
  const outcome = await runCase(matrix(), { name: "(f) destroy, key deleted", run: "destroy", moment: wrote("DELETE", "api_key", key), scope: "group" });
  expect(outcome.problems).toEqual([]);
  expect(outcome.recovery?.commands).toEqual(["cancel", "destroy"]);
  const printed = outcome.recovery?.printed.destroy ?? "";
  expect(printed).toMatch(/warning: Attempting to deploy or update resources with \d+ pending operations from previous deployment\./);
  expect(printed).toContain("servicenow:ApiKey::keywire-key, interrupted while deleting");
  expect(printed).toMatch(/- \d+ deleted/);
});
