/**
 * Two stacks in dedicated mode on one instance. Each stack's own Table API policy holds
 * the shipped Table GET/POST policies off; destroying one stack leaves them off while the
 * other still holds them, and the last stack to go gives them back what the instance had
 * before the first stack, not the "inactive" the second stack found.
 */
import { accessPolicyProvider } from "../../resources/servicenow/records/accessPolicy";
import { HOLD_PREFIX, holdBefore } from "../../resources/servicenow/engine/createIdentity";
import { ADMIN_PASSWORD, ProviderDriver } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD });

const SHIPPED = ["Table GET API Access Policy", "Table POST API Access Policy"];
const shippedActive = () => SHIPPED.map((n) => emu.store.query("sys_api_access_policy", (r) => r.name === n)[0].active);

/** What one stack's dedicated mode makes: its hold, then the shipped policies turned off under it. */
async function deploy(stack: string) {
  const driver = new ProviderDriver(accessPolicyProvider, emu.url);
  const hold = await driver.create({
    name: `${stack} Table API policy`,
    apiPath: "now/table",
    applyAllMethods: true,
    applyAllResources: true,
    applyAllVersions: true,
    applyAllTables: true,
    holdsShipped: true,
    identity: `keywire/${stack}/AccessPolicy/keywire-table-api`,
  });
  const off = [];
  for (const [i, name] of SHIPPED.entries()) {
    off.push(await driver.create({ name, adopt: true, active: false, heldBy: hold.id, identity: `keywire/${stack}/AccessPolicy/keywire-off-${i}` }));
  }
  return { hold, off };
}

/** What destroy does, in the engine's order: the shipped policies' restore first, then the hold. */
async function destroy(stack: Awaited<ReturnType<typeof deploy>>) {
  const driver = new ProviderDriver(accessPolicyProvider, emu.url);
  for (const o of stack.off) await driver.delete(o.id, o.outs);
  await driver.delete(stack.hold.id, stack.hold.outs);
}

test("a hold's sys_id says what the shipped policies were before keywire", async () => {
  expect(shippedActive()).toEqual(["true", "true"]);
  const a = await deploy("dev");
  expect(a.hold.id.startsWith(HOLD_PREFIX)).toBe(true);
  expect(holdBefore(a.hold.id)).toEqual({ get: true, post: true });
  expect(shippedActive()).toEqual(["false", "false"]);
  // The second stack finds them off, and carries the first stack's record on.
  const b = await deploy("staging");
  expect(holdBefore(b.hold.id)).toEqual({ get: true, post: true });
  expect(b.hold.id).not.toBe(a.hold.id);
});

test.each([
  ["the first stack goes first", [0, 1]],
  ["the second stack goes first", [1, 0]],
])("%s: the shipped policies stay off while the other stack holds them, and come back as they were when the last one goes", async (_label, order) => {
  const stacks = [await deploy("dev"), await deploy("staging")];
  await destroy(stacks[order[0]]);
  expect(shippedActive()).toEqual(["false", "false"]);
  await destroy(stacks[order[1]]);
  expect(shippedActive()).toEqual(["true", "true"]);
});

test("shipped policies that were inactive before keywire are left inactive", async () => {
  for (const n of SHIPPED)
    emu.store.update("sys_api_access_policy", emu.store.query("sys_api_access_policy", (r) => r.name === n)[0].sys_id, { active: "false" });
  const a = await deploy("dev");
  expect(holdBefore(a.hold.id)).toEqual({ get: false, post: false });
  await destroy(a);
  expect(shippedActive()).toEqual(["false", "false"]);
});

test("a shipped policy adopted without a hold (attach mode, or a state from before holds) is restored as found", async () => {
  const driver = new ProviderDriver(accessPolicyProvider, emu.url);
  const off = await driver.create({ name: SHIPPED[0], adopt: true, active: false });
  expect(shippedActive()[0]).toBe("false");
  await driver.delete(off.id, off.outs);
  expect(shippedActive()[0]).toBe("true");
});
