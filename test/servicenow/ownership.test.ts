/**
 * A create refused because a unique value is taken says whose record holds it: another
 * keywire stack's (its sys_id carries keywire's mark) or a person's, with its sys_id and a
 * link, never that the deploying user lacks roles. The refused create is not sent again
 * under another sys_id: a taken value refuses every sys_id alike.
 */
import { RunningEmulator } from "../../emulator/servicenow";
import { KEYWIRE_MARK, isKeywireSysId } from "../../resources/servicenow/engine/createIdentity";
import { accessPolicyProvider } from "../../resources/servicenow/records/accessPolicy";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { ProviderDriver, startEmulator } from "../support/serviceNow";

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => emu.reset());

const identity = (stack: string, type: string, name: string) => `keywire/${stack}/${type}/${name}`;

async function refusal(create: Promise<unknown>): Promise<string> {
  return create.then(
    () => "created",
    (e: Error) => e.message,
  );
}

test("the same prefix on a second stack: the policy it would create is another stack's, named by its sys_id, with one POST", async () => {
  const policy = { name: "keywire-dev Event Management inbound policy", apiPath: "sn_em_connector/em", applyAllMethods: true };
  const first = await new ProviderDriver(accessPolicyProvider, emu.url).create({ ...policy, identity: identity("dev", "AccessPolicy", "keywire-event-api") });
  expect(first.id.startsWith(KEYWIRE_MARK)).toBe(true);
  emu.resetMetrics();
  const said = await refusal(
    new ProviderDriver(accessPolicyProvider, emu.url).create({ ...policy, identity: identity("staging", "AccessPolicy", "keywire-event-api") }),
  );
  expect(said).toContain(`sys_api_access_policy ${first.id} (created by admin on `);
  expect(said).toMatch(/which keywire made for another stack, not this one/);
  expect(said).toContain(`/nav_to.do?uri=${encodeURIComponent(`sys_api_access_policy.do?sys_id=${first.id}`)}`);
  expect(said).toMatch(/another keywire:namePrefix and its own integration user/);
  expect(said).not.toMatch(/lacks the roles/);
  expect(emu.metrics().byTable.sys_api_access_policy?.POST).toBe(1);
  expect(emu.store.query("sys_api_access_policy", (r) => r.name === policy.name).map((r) => r.sys_id)).toEqual([first.id]);
});

test("a person's record of that name: said to be no keywire stack's", async () => {
  const theirs = emu.store.insert("sys_user", { user_name: "svc.keywire.events", first_name: "made by hand" });
  expect(isKeywireSysId(theirs.sys_id)).toBe(false);
  const said = await refusal(
    new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.keywire.events", identity: identity("dev", "ServiceNowUser", "keywire-user") }),
  );
  expect(said).toContain(`sys_user ${theirs.sys_id}`);
  expect(said).toMatch(/keywire did not make under a sys_id of its own, so a person or another tool did/);
  expect(emu.store.get("sys_user", theirs.sys_id)?.first_name).toBe("made by hand");
});
