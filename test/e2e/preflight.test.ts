/**
 * Preflight through the real engine: on an instance that is not ready, `up`
 * stops before anything is written and says what to fix.
 */
import { RunningEmulator } from "../../emulator/servicenow";
import { LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS } from "../support/pulumiCli";
import { ADMIN_PASSWORD, startEmulator } from "../support/serviceNow";

jest.setTimeout(10 * 60_000);

let emu: RunningEmulator;
let stack: LocalStack;

const pulumi = (args: string[]) => stack.run(args);

beforeAll(async () => {
  emu = await startEmulator({ plugin: "inactive" });
  stack = await createLocalStack("preflight", emu.url);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  stack?.cleanup();
});

test("an inactive plugin and a missing push connector stop up before any record is written", async () => {
  const connector = emu.store.query("sn_em_connector_push_instance", () => true)[0];
  emu.store.delete("sn_em_connector_push_instance", connector.sys_id);
  const before = emu.metrics().byMethod;
  const res = await pulumi(["up", "--yes", "--skip-preview"]);
  expect(res.code).not.toBe(0);
  const out = res.stdout + res.stderr;
  expect(out).toMatch(/com\.glide\.tokenbased_auth is installed but inactive: activate it/);
  expect(out).toMatch(/no push connector instance is named "AWS SNS push connector"/);
  expect(out).toMatch(/Nothing was created/);
  expect(out).not.toContain(ADMIN_PASSWORD);
  // Not one write reached the instance.
  const after = emu.metrics().byMethod;
  for (const method of ["POST", "PATCH", "PUT", "DELETE"]) expect(after[method] ?? 0).toBe(before[method] ?? 0);
});
