/**
 * ServiceNow calls per operation, as the engine drives one provider process:
 * lookups every resource asks the same way are made once per process, adoption
 * reads its record once, restore is one PATCH, and outputs are plain data the
 * engine's gRPC Struct can carry.
 */
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { accessPolicyProvider } from "../../resources/servicenow/records/accessPolicy";
import { accessPolicyProfileLinkProvider } from "../../resources/servicenow/records/accessPolicyProfileLink";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { ADMIN_PASSWORD, ProviderDriver, calls } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD, tokenReadback: "input_display_value" });

/** A header profile linked to the shipped Table GET policy (what a probe needs), and a user. */
async function chain(userName: string): Promise<void> {
  const profile = await new ProviderDriver(inboundProfileProvider, emu.url).create({ name: `hdr ${userName}`, keyLocation: "header" });
  const policy = emu.store.query("sys_api_access_policy", (r) => r.name === "Table GET API Access Policy")[0];
  await new ProviderDriver(accessPolicyProfileLinkProvider, emu.url).create({ policy: policy.sys_id, profile: profile.id });
  await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName });
}

/** Every value, however deep, is one the engine's Struct accepts (no undefined, no function). */
function plainData(value: unknown): boolean {
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return true;
  if (Array.isArray(value)) return value.every(plainData);
  if (typeof value === "object") return Object.values(value as Record<string, unknown>).every(plainData);
  return false;
}

beforeEach(() => {
  emu.setOptions({ tokenReadback: "input_display_value" });
});

test("keys created in one process: 1 POST and 1 probe each; the user and the parked keys are asked for once", async () => {
  await chain("svc.counts");
  emu.resetMetrics();
  const keys = new ProviderDriver(apiKeyProvider, emu.url);
  const made = await Promise.all([0, 1, 2, 3].map((i) => keys.create({ name: `counted ${i}`, user: "svc.counts" })));
  expect(made.map((m) => m.outs.tokenSource)).toEqual(Array(4).fill("input_display_value"));
  expect(calls(emu, "api_key", "POST")).toBe(4);
  // The parked-key check: one list for the process.
  expect(calls(emu, "api_key", "GET")).toBe(1);
  // One user lookup, then one probe per key.
  expect(calls(emu, "sys_user", "GET")).toBe(1 + 4);
  expect(emu.metrics().total).toBe(4 + 1 + 1 + 4);
});

test("configuring another resource type mid-run keeps this type's lookups: the key-location rows are read once", async () => {
  emu.resetMetrics();
  const profiles = new ProviderDriver(inboundProfileProvider, emu.url);
  await profiles.create({ name: "first of the run", keyLocation: "query" });
  // The engine configures each type as its first resource arrives, while others are under way.
  new ProviderDriver(apiKeyProvider, emu.url);
  new ProviderDriver(serviceNowUserProvider, emu.url);
  await profiles.create({ name: "second of the run", keyLocation: "query" });
  expect(calls(emu, "http_key_auth", "POST")).toBe(2);
  expect(calls(emu, "sys_token_auth_parameter", "GET")).toBe(1);
});

test("a key whose optional inputs are left out has outputs the engine can carry", async () => {
  await chain("svc.plain");
  const { outs } = await new ProviderDriver(apiKeyProvider, emu.url).create({ name: "plain", user: "svc.plain" });
  for (const [k, v] of Object.entries(outs)) expect([k, plainData(v)]).toEqual([k, true]);
  expect("rotation" in outs).toBe(false);
});

test("profiles created in one process resolve their key location once", async () => {
  const profiles = new ProviderDriver(inboundProfileProvider, emu.url);
  emu.resetMetrics();
  await Promise.all([0, 1, 2].map((i) => profiles.create({ name: `p${i}`, keyLocation: "query" })));
  expect(calls(emu, "sys_token_auth_parameter", "GET")).toBe(1);
  expect(calls(emu, "http_key_auth", "POST")).toBe(3);
});

test("a name not found is not remembered: once the user exists, the same process finds it", async () => {
  const keys = new ProviderDriver(apiKeyProvider, emu.url);
  await expect(keys.create({ name: "early", user: "svc.later" })).rejects.toThrow(/no sys_user record has user_name "svc.later"/);
  await chain("svc.later");
  const { outs } = await keys.create({ name: "early", user: "svc.later" });
  expect(outs.tokenSource).toBe("input_display_value");
});

test("configure forgets what was looked up (another instance, or the same one reset)", async () => {
  await chain("svc.again");
  await new ProviderDriver(apiKeyProvider, emu.url).create({ name: "first", user: "svc.again" });
  emu.reset();
  await chain("svc.again");
  emu.resetMetrics();
  // A new driver configures again: the user's new sys_id is looked up, not the old one reused.
  const { id } = await new ProviderDriver(apiKeyProvider, emu.url).create({ name: "second", user: "svc.again" });
  expect(calls(emu, "sys_user", "GET")).toBe(2);
  const user = emu.store.query("sys_user", (r) => r.user_name === "svc.again")[0];
  expect(emu.store.get("api_key", id)?.user).toBe(user.sys_id);
});

test("a key parked before the process started still blocks a second key of that name", async () => {
  await chain("svc.parked");
  const user = emu.store.query("sys_user", (r) => r.user_name === "svc.parked")[0];
  const parked = emu.store.insert("api_key", { name: "parked key", user: user.sys_id, active: "false" });
  const keys = new ProviderDriver(apiKeyProvider, emu.url);
  await keys.create({ name: "other key", user: "svc.parked" });
  emu.resetMetrics();
  await expect(keys.create({ name: "parked key", user: "svc.parked" })).rejects.toThrow(
    new RegExp(`inactive key with this name already exists \\(${parked.sys_id}\\)`),
  );
  expect(calls(emu, "api_key", "POST")).toBe(0);
  expect(emu.metrics().total).toBe(0);
});

test("adopting reads the record once (check and create together); restoring on destroy is one PATCH", async () => {
  const p = new ProviderDriver(accessPolicyProvider, emu.url);
  emu.resetMetrics();
  const { id, outs } = await p.create({ name: "Table GET API Access Policy", adopt: true, active: true });
  expect(calls(emu, "sys_api_access_policy", "GET")).toBe(1);
  emu.resetMetrics();
  await p.delete(id, outs);
  expect(calls(emu, "sys_api_access_policy", "PATCH")).toBe(1);
  expect(emu.metrics().total).toBe(1);
});

test("restoring a record deleted out of band succeeds with nothing to restore", async () => {
  const p = new ProviderDriver(accessPolicyProvider, emu.url);
  const { id, outs } = await p.create({ name: "Table POST API Access Policy", adopt: true, active: true });
  emu.store.delete("sys_api_access_policy", id);
  emu.resetMetrics();
  await expect(p.delete(id, outs)).resolves.toBeUndefined();
  expect(emu.metrics().total).toBe(1);
  expect(emu.store.get("sys_api_access_policy", id)).toBeUndefined();
});
