/**
 * PolicyHandover: deleted first on destroy, it turns the stack's own policies off so that
 * another stack's equally specific policy judges at once (the two-stack case end to end:
 * test/e2e/twoStacks.test.ts). It never replaces itself, which would turn policies off
 * while the stack still uses them.
 */
import { RunningEmulator } from "../../emulator/servicenow";
import { policyHandoverProvider } from "../../resources/servicenow/components/policyHandover";
import { ProviderDriver, startEmulator } from "../support/serviceNow";

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => emu.reset());

function policy(name: string): string {
  return emu.store.insert("sys_api_access_policy", {
    name,
    active: "true",
    api_path: "sn_em_connector/em",
    apply_all_methods: "true",
    apply_all_resources: "true",
    apply_all_versions: "true",
  }).sys_id;
}

test("delete turns the stack's policies off, leaves every other policy as it was, and passes over one already gone", async () => {
  const own = [policy("dev Event Management inbound policy"), policy("dev Table API policy")];
  const other = policy("staging Event Management inbound policy");
  const driver = new ProviderDriver(policyHandoverProvider, emu.url);
  const { id, outs } = await driver.create({ policies: [...own, "0".repeat(32)] });
  expect(own.map((p) => emu.store.get("sys_api_access_policy", p)?.active)).toEqual(["true", "true"]);
  await driver.delete(id, outs);
  expect(own.map((p) => emu.store.get("sys_api_access_policy", p)?.active)).toEqual(["false", "false"]);
  expect(emu.store.get("sys_api_access_policy", other)?.active).toBe("true");
});

test("new policies are an update in place, never a replacement; anything but sys_ids is refused in check", async () => {
  const driver = new ProviderDriver(policyHandoverProvider, emu.url);
  const a = policy("a");
  const b = policy("b");
  const diff = await driver.diff("handover", { policies: [a] }, { policies: [a, b] });
  expect(diff).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  expect((await driver.diff("handover", { policies: [a] }, { policies: [a] })).changes).toBe(false);
  const checked = await driver.check({ policies: ["Table GET API Access Policy"] });
  expect(checked.failures?.map((f) => f.property)).toEqual(["policies"]);
});
