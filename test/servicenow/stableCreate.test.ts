/**
 * A create that a rerun recognises. When the process dies after the instance committed
 * a record but before the engine saw the answer, Pulumi calls create again on the next
 * `up`. The sys_id follows from the stack and the resource, so the rerun's POST is refused
 * as a duplicate, the record is found by that sys_id, and brought to the declared inputs:
 * one record, never a second of the same name, and never another stack's.
 */
import { stableSysId } from "../../resources/servicenow/engine/createIdentity";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { rateLimitRuleProvider } from "../../resources/servicenow/records/rateLimitRule";
import { userRoleGrantProvider } from "../../resources/servicenow/records/userRoleGrant";
import { ADMIN_PASSWORD, ProviderDriver } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD });

const identity = (stack: string, type: string, name: string) => `keywire/${stack}/${type}/${name}`;

/** What the engine's first create did before the process died: the POST reached the instance, nobody saw the answer. */
async function killedAfterCommit(driver: ProviderDriver, inputs: Record<string, unknown>): Promise<string> {
  const first = await driver.create(inputs);
  return first.id;
}

test("a profile's rerun create finds the record the killed run made: one row, the same sys_id", async () => {
  const inputs = { name: "keywire-dev api key (query parameter)", keyLocation: "query", identity: identity("dev", "InboundProfile", "keywire-profile") };
  const killed = await killedAfterCommit(new ProviderDriver(inboundProfileProvider, emu.url), inputs);
  const rerun = await new ProviderDriver(inboundProfileProvider, emu.url).create(inputs);
  expect(rerun.id).toBe(killed);
  expect(emu.store.query("http_key_auth", (r) => r.name === inputs.name)).toHaveLength(1);
});

test("the rerun brings the found record to the declared inputs", async () => {
  const inputs = { name: "keywire-dev api key (query parameter)", keyLocation: "query", identity: identity("dev", "InboundProfile", "keywire-profile") };
  const killed = await killedAfterCommit(new ProviderDriver(inboundProfileProvider, emu.url), { ...inputs, description: "an earlier program" });
  const rerun = await new ProviderDriver(inboundProfileProvider, emu.url).create({ ...inputs, description: "Managed by keywire" });
  expect(rerun.id).toBe(killed);
  expect(emu.store.get("http_key_auth", killed)?.description).toBe("Managed by keywire");
});

test("a user's rerun create is recognised instead of failing on its unique user_name", async () => {
  const inputs = { userName: "svc.keywire.events", identity: identity("dev", "ServiceNowUser", "keywire-user") };
  const killed = await killedAfterCommit(new ProviderDriver(serviceNowUserProvider, emu.url), inputs);
  const rerun = await new ProviderDriver(serviceNowUserProvider, emu.url).create(inputs);
  expect(rerun.id).toBe(killed);
  expect(emu.store.query("sys_user", (r) => r.user_name === "svc.keywire.events")).toHaveLength(1);
});

test("a rate-limit rule and a role grant: the rerun leaves one row each", async () => {
  await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.rl", identity: identity("dev", "ServiceNowUser", "u") });
  const rule = { name: "keywire-dev svc.rl", user: "svc.rl", requestsPerHour: 3600, identity: identity("dev", "RateLimitRule", "keywire-rate-limit") };
  const grant = { user: "svc.rl", role: "evt_mgmt_integration", identity: identity("dev", "UserRoleGrant", "keywire-role") };
  for (const [provider, inputs] of [
    [rateLimitRuleProvider(), rule],
    [userRoleGrantProvider, grant],
  ] as const) {
    const killed = await killedAfterCommit(new ProviderDriver(provider, emu.url), inputs);
    expect((await new ProviderDriver(provider, emu.url).create(inputs)).id).toBe(killed);
  }
  expect(emu.store.query("sys_rate_limit_rules", (r) => r.name === rule.name)).toHaveLength(1);
  const user = emu.store.query("sys_user", (r) => r.user_name === "svc.rl")[0];
  expect(emu.store.query("sys_user_has_role", (r) => r.user === user.sys_id)).toHaveLength(1);
});

test("another stack's resource of the same name and type is another record: nothing is taken over", async () => {
  const dev = await new ProviderDriver(inboundProfileProvider, emu.url).create({
    name: "dev profile",
    keyLocation: "query",
    identity: identity("dev", "InboundProfile", "keywire-profile"),
  });
  const prod = await new ProviderDriver(inboundProfileProvider, emu.url).create({
    name: "prod profile",
    keyLocation: "query",
    identity: identity("prod", "InboundProfile", "keywire-profile"),
  });
  expect(prod.id).not.toBe(dev.id);
  expect(emu.store.get("http_key_auth", dev.id)?.name).toBe("dev profile");
});

test("the sys_id follows from the identity, the table and what makes the record this one; a replacement gets its own", () => {
  const a = stableSysId("keywire/dev/UserRoleGrant/r", "sys_user_has_role", { instance: "https://a", user: "u1", role: "r1" });
  expect(a).toMatch(/^[0-9a-f]{32}$/);
  expect(stableSysId("keywire/dev/UserRoleGrant/r", "sys_user_has_role", { role: "r1", user: "u1", instance: "https://a" })).toBe(a);
  expect(stableSysId("keywire/dev/UserRoleGrant/r", "sys_user_has_role", { instance: "https://a", user: "u2", role: "r1" })).not.toBe(a);
  expect(stableSysId("keywire/prod/UserRoleGrant/r", "sys_user_has_role", { instance: "https://a", user: "u1", role: "r1" })).not.toBe(a);
  expect(stableSysId("keywire/dev/UserRoleGrant/r", "sys_user_has_role", { instance: "https://b", user: "u1", role: "r1" })).not.toBe(a);
});

test("a replaced record (a grant for another role) is created beside the old one, never on top of it", async () => {
  await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.r", identity: identity("dev", "ServiceNowUser", "u") });
  const id = identity("dev", "UserRoleGrant", "keywire-role");
  const old = await new ProviderDriver(userRoleGrantProvider, emu.url).create({ user: "svc.r", role: "itil", identity: id });
  const replacement = await new ProviderDriver(userRoleGrantProvider, emu.url).create({ user: "svc.r", role: "evt_mgmt_integration", identity: id });
  expect(replacement.id).not.toBe(old.id);
  expect(emu.store.get("sys_user_has_role", old.id)).toBeDefined();
});

test("without an identity (a program from before it), a create keeps a fresh sys_id each time", async () => {
  const d = new ProviderDriver(inboundProfileProvider, emu.url);
  const a = await d.create({ name: "x", keyLocation: "query" });
  await d.delete(a.id, a.outs);
  const b = await d.create({ name: "x", keyLocation: "query" });
  expect(b.id).not.toBe(a.id);
});

test("two stacks with the same name prefix: the second is refused with what collides, not told it lacks roles", async () => {
  await new ProviderDriver(serviceNowUserProvider, emu.url).create({
    userName: "svc.keywire.events",
    identity: identity("dev", "ServiceNowUser", "keywire-user"),
  });
  const message = await new ProviderDriver(serviceNowUserProvider, emu.url)
    .create({ userName: "svc.keywire.events", identity: identity("staging", "ServiceNowUser", "keywire-user") })
    .then(
      () => "created",
      (e: Error) => e.message,
    );
  expect(message).toMatch(/user_name must be unique.*another sys_user record already has that value/);
  expect(message).toMatch(/another keywire:namePrefix/);
  expect(message).not.toMatch(/lacks the roles/);
  expect(emu.store.query("sys_user", (r) => r.user_name === "svc.keywire.events")).toHaveLength(1);
});

test("an instance that ignores the sys_id sent: keywire keeps the one it answers and says so once", async () => {
  emu.setOptions({ clientSysIds: "ignored" });
  const said: string[] = [];
  const spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    said.push(String(chunk));
    return true;
  });
  try {
    const driver = new ProviderDriver(inboundProfileProvider, emu.url);
    const a = await driver.create({ name: "ignored a", keyLocation: "query", identity: identity("dev", "InboundProfile", "a") });
    const b = await driver.create({ name: "ignored b", keyLocation: "query", identity: identity("dev", "InboundProfile", "b") });
    expect(emu.store.get("http_key_auth", a.id)?.name).toBe("ignored a");
    expect(emu.store.get("http_key_auth", b.id)?.name).toBe("ignored b");
    expect(a.id).not.toBe(stableSysId(identity("dev", "InboundProfile", "a"), "http_key_auth", { instance: emu.url }));
    expect(said.filter((l) => l.includes("does not keep the sys_id a create sends"))).toHaveLength(1);
  } finally {
    spy.mockRestore();
    emu.setOptions({ clientSysIds: "honoured" });
  }
});
