/**
 * An API key that a killed run left behind. The process died after the instance
 * committed the key but before the engine saw it, so the key is in no state and its
 * token went with the process. The rerun's create recognises it by its sys_id (the
 * resource's own, whatever its name), retires it, and makes the key under the next
 * sys_id of its generation: one active key, proven, never one nobody holds. A key of
 * the same name that another stack (or a person) parked is never taken over.
 */
import { RunningEmulator } from "../../emulator/servicenow";
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { keyLeftoversProvider } from "../../resources/servicenow/apiKey/keyLeftovers";
import { stableSysId } from "../../resources/servicenow/engine/createIdentity";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { accessPolicyProfileLinkProvider } from "../../resources/servicenow/records/accessPolicyProfileLink";
import { ProviderDriver, startEmulator } from "../support/serviceNow";

let emu: RunningEmulator;
afterEach(async () => {
  await emu?.stop();
});

const IDENTITY = "keywire/dev/ApiKey/keywire-key";
const ownSysId = (generation: number, attempt: number) =>
  stableSysId(IDENTITY, "api_key", { instance: emu.url, name: "dev events", generation: String(generation), attempt: String(attempt) });

/** The chain a probe needs (a header profile linked to the shipped Table GET policy) and the key's user. */
async function withUser(tokenReadback: "none" | "input_display_value"): Promise<void> {
  emu = await startEmulator({ tokenReadback });
  const profile = await new ProviderDriver(inboundProfileProvider, emu.url).create({ name: "hdr", keyLocation: "header" });
  const policy = emu.store.query("sys_api_access_policy", (r) => r.name === "Table GET API Access Policy")[0];
  await new ProviderDriver(accessPolicyProfileLinkProvider, emu.url).create({ policy: policy.sys_id, profile: profile.id });
  await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.events" });
}

const keysOf = () => emu.store.query("api_key", (r) => r.name.startsWith("dev events"));
const KEY = { name: "dev events", user: "svc.events", identity: IDENTITY };

test("a key is created under its resource's own sys_id", async () => {
  await withUser("input_display_value");
  const key = await new ProviderDriver(apiKeyProvider, emu.url).create(KEY);
  expect(key.id).toBe(ownSysId(1, 0));
});

test("a first key a killed run left active is retired; the rerun leaves one active, proven key", async () => {
  await withUser("input_display_value");
  // The killed run: the instance committed the key; its token died with the process.
  const killed = await new ProviderDriver(apiKeyProvider, emu.url).create(KEY);
  const rerun = await new ProviderDriver(apiKeyProvider, emu.url).create(KEY);
  expect(emu.store.get("api_key", killed.id)).toBeUndefined();
  expect(rerun.id).toBe(ownSysId(1, 1));
  const active = keysOf().filter((k) => k.active === "true");
  expect(active.map((k) => k.sys_id)).toEqual([rerun.id]);
  expect(rerun.outs.token).toBe(emu.tokenOf(rerun.id));
});

test("a killed rotation: the rerun retires the half-made key and makes the next one; the old key serves until it is deleted", async () => {
  await withUser("input_display_value");
  const first = await new ProviderDriver(apiKeyProvider, emu.url).create(KEY);
  // A new trigger starts generation 2; the engine checks the replacement against the key in the state.
  const next = { ...KEY, rotation: { trigger: "t-1" } };
  const killed = await new ProviderDriver(apiKeyProvider, emu.url).create(next, first.inputs);
  expect(killed.id).toBe(ownSysId(2, 0));
  // The rerun: the state still holds the first key, and the program still asks for generation 2.
  const rerun = await new ProviderDriver(apiKeyProvider, emu.url).create(next, first.inputs);
  expect(rerun.id).toBe(ownSysId(2, 1));
  expect(emu.store.get("api_key", killed.id)).toBeUndefined();
  expect(emu.store.get("api_key", first.id)?.active).toBe("true");
  expect(rerun.outs.name).toBe("dev events #2");
  // The engine then deletes the replaced key: one key for the user, active and authenticating.
  await new ProviderDriver(apiKeyProvider, emu.url).delete(first.id, first.outs);
  expect(keysOf().map((k) => [k.sys_id, k.active])).toEqual([[rerun.id, "true"]]);
});

test("on the manual route, another stack's parked key of the same name is not taken over", async () => {
  await withUser("none");
  const theirs = emu.store.insert("api_key", { name: "dev events", user: keysUser(), active: "false" });
  const err = await new ProviderDriver(apiKeyProvider, emu.url).create(KEY).then(
    () => undefined,
    (e: Error) => e.message,
  );
  // This resource parked a key of its own and asks for that key's token, not the other's.
  expect(err).toContain(ownSysId(1, 0));
  expect(err).not.toContain(theirs.sys_id);
  expect(emu.store.get("api_key", theirs.sys_id)?.active).toBe("false");
  expect(emu.store.get("api_key", ownSysId(1, 0))?.active).toBe("false");
});

test("on the manual route, the rerun with the operator's token takes over its own parked key", async () => {
  await withUser("none");
  await new ProviderDriver(apiKeyProvider, emu.url).create(KEY).catch(() => undefined);
  const parked = ownSysId(1, 0);
  const token = emu.tokenOf(parked)!;
  const taken = await new ProviderDriver(apiKeyProvider, emu.url).create({ ...KEY, token });
  expect(taken.id).toBe(parked);
  expect(emu.store.get("api_key", parked)?.active).toBe("true");
  expect(keysOf()).toHaveLength(1);
});

test("on the manual route, another stack's active key of the same name neither renames this key nor hides its parked one", async () => {
  await withUser("none");
  await new ProviderDriver(apiKeyProvider, emu.url).create(KEY).catch(() => undefined);
  const parked = ownSysId(1, 0);
  // Meanwhile another stack's key of the same name went into service.
  emu.store.insert("api_key", { name: "dev events", user: keysUser(), active: "true" });
  const checked = await new ProviderDriver(apiKeyProvider, emu.url).checked({ ...KEY, token: "now_x" });
  expect(checked.generation).toBe(1);
  expect((checked.parkedKey as { sysId: string } | undefined)?.sysId).toBe(parked);
  const taken = await new ProviderDriver(apiKeyProvider, emu.url).create({ ...KEY, token: emu.tokenOf(parked)! });
  expect(taken.id).toBe(parked);
  expect(taken.outs.name).toBe("dev events");
  expect(keysOf().map((k) => [k.name, k.active])).toEqual([
    ["dev events", "true"],
    ["dev events", "true"],
  ]);
});

function keysUser(): string {
  return emu.store.query("sys_user", (r) => r.user_name === "svc.events")[0].sys_id;
}

describe("an operator's token belongs to the key it was handed over for", () => {
  test("after a rotation retires that key, the token left in the configuration is ignored and said so, not proven against the new key", async () => {
    await withUser("none");
    // The first key on the manual route: parked, then taken over with the operator's token.
    await new ProviderDriver(apiKeyProvider, emu.url).create(KEY).catch(() => undefined);
    const operatorToken = emu.tokenOf(ownSysId(1, 0))!;
    const first = await new ProviderDriver(apiKeyProvider, emu.url).create({ ...KEY, token: operatorToken });
    // A rotation on an instance that takes a token on insert: the new key's token is keywire's own.
    emu.setOptions({ tokenReadback: "input_display_value" });
    const rotated = { ...KEY, token: operatorToken, rotation: { trigger: "t-1" } };
    const second = await new ProviderDriver(apiKeyProvider, emu.url).create(rotated, first.inputs);
    expect(second.outs.tokenSource).toBe("input_display_value");
    await new ProviderDriver(apiKeyProvider, emu.url).delete(first.id, first.outs);
    // The trigger is removed again; the stale token is still in the configuration.
    const settled = { ...KEY, token: operatorToken };
    const driver = new ProviderDriver(apiKeyProvider, emu.url);
    const checked = await driver.checked(settled, second.inputs);
    expect((await driver.diff(second.id, second.outs, checked)).changes).toBe(false);
    const updated = await driver.update(second.id, second.outs, settled);
    expect(updated.token).toBe(second.outs.token);
    expect(String(updated.tokenNote)).toMatch(/keywire:apiKeyToken holds the token of a key that was retired.*pulumi config rm keywire:apiKeyToken/);
  });
});

describe("destroy removes the keys a run left behind", () => {
  test("a key parked by a failed first up, and a killed rotation's key, are deleted by KeyLeftovers; another stack's key of the same name is not", async () => {
    await withUser("none");
    // The failed first up: the key is parked for its token and the engine records nothing.
    await new ProviderDriver(apiKeyProvider, emu.url).create(KEY).catch(() => undefined);
    const parked = ownSysId(1, 0);
    expect(emu.store.get("api_key", parked)?.active).toBe("false");
    const leftover2 = emu.store.insert("api_key", { sys_id: ownSysId(2, 0), name: "dev events #2", user: keysUser(), active: "true" });
    const theirs = emu.store.insert("api_key", { name: "dev events", user: keysUser(), active: "false" });
    const leftovers = new ProviderDriver(keyLeftoversProvider, emu.url);
    const made = await leftovers.create({ keyIdentity: IDENTITY, keyName: "dev events" });
    await leftovers.delete(made.id, made.outs);
    expect(emu.store.get("api_key", parked)).toBeUndefined();
    expect(emu.store.get("api_key", leftover2.sys_id)).toBeUndefined();
    expect(emu.store.get("api_key", theirs.sys_id)).toBeDefined();
  });
});
