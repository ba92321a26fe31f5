/**
 * ApiKey: the record, and the token strategy against every read-back variant
 * the emulator can play, including the manual route.
 */
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { rotationDue } from "../../resources/servicenow/apiKey/generation";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { accessPolicyProfileLinkProvider } from "../../resources/servicenow/records/accessPolicyProfileLink";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { generateToken } from "../../resources/servicenow/apiKey/tokenPlan";
import { RecordOutputs } from "../../resources/servicenow/engine/spec";
import { ADMIN_PASSWORD, ProviderDriver, calls } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD });

/** The chain a probe needs: a header profile linked to the shipped Table GET policy, and a user. */
async function chain(): Promise<void> {
  const profile = await new ProviderDriver(inboundProfileProvider, emu.url).create({ name: "hdr", keyLocation: "header" });
  const policy = emu.store.query("sys_api_access_policy", (r) => r.name === "Table GET API Access Policy")[0];
  await new ProviderDriver(accessPolicyProfileLinkProvider, emu.url).create({ policy: policy.sys_id, profile: profile.id });
  await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.key" });
}

const keyInputs = { name: "keywire key", user: "svc.key", authScopes: ["useraccount"], expiresInDays: 90 };

beforeEach(async () => {
  emu.setOptions({ tokenReadback: "none" });
  await chain();
  emu.resetMetrics();
});

describe("token strategy", () => {
  test("input_display_value variant: the generated token is written on insert and proven (1 POST + 1 duplicate guard + 1 probe)", async () => {
    emu.setOptions({ tokenReadback: "input_display_value" });
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    const { id, outs } = await keys.create(keyInputs);
    expect(outs.tokenSource).toBe("input_display_value");
    expect(outs.token).toBe(emu.tokenOf(id));
    expect(String(outs.token)).toMatch(/^now_[A-Za-z0-9_-]{86}$/);
    expect(calls(emu, "api_key", "POST")).toBe(1);
    expect(calls(emu, "api_key", "GET")).toBe(1);
    const row = emu.store.get("api_key", id)!;
    expect(row.active).toBe("true");
    expect(row.expires).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(row.auth_scope).toHaveLength(32);
  });

  test("display_value variant: a privileged read reveals the token, which is then proven", async () => {
    emu.setOptions({ tokenReadback: "display_value" });
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    const { id, outs } = await keys.create(keyInputs);
    expect(outs.tokenSource).toBe("display_value");
    expect(outs.token).toBe(emu.tokenOf(id));
  });

  test("neither variant: a clear stop naming the record URL and the config command; the key is parked inactive; nothing stored", async () => {
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    let message = "";
    try {
      await keys.create({ ...keyInputs, tokenConfigKey: "keywire:snsApiKeyToken" });
    } catch (e) {
      message = (e as Error).message;
    }
    const row = emu.store.query("api_key", (r) => r.name === "keywire key")[0];
    expect(message).toContain(`nav_to.do?uri=${encodeURIComponent(`api_key.do?sys_id=${row.sys_id}`)}`);
    expect(message).toContain("pulumi config set --secret keywire:snsApiKeyToken` (it reads the token from standard input");
    expect(message).toContain("tried: input_display_value, display_value");
    expect(message).not.toContain(emu.tokenOf(row.sys_id)!);
    expect(row.active).toBe("false");

    // Running again without a token never makes a second key.
    await expect(keys.create(keyInputs)).rejects.toThrow(/inactive key with this name already exists/);
    expect(emu.store.query("api_key", (r) => r.name === "keywire key")).toHaveLength(1);

    // The operator copies the token from the form: keywire adopts the record, activates it and proves the token.
    const token = emu.tokenOf(row.sys_id)!;
    const resumed = await keys.create({ ...keyInputs, token, adopt: true, onDestroy: "delete" });
    expect(resumed.id).toBe(row.sys_id);
    expect(resumed.outs.tokenSource).toBe("operator");
    expect(resumed.outs.token).toBe(token);
    expect(emu.store.get("api_key", row.sys_id)!.active).toBe("true");
    await keys.delete(resumed.id, resumed.outs);
    expect(emu.store.get("api_key", row.sys_id)).toBeUndefined();
  });

  test("manual route: the operator's token adopts the parked key; a rotation never re-adopts the key it replaces", async () => {
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    await expect(keys.create(keyInputs)).rejects.toThrow(/pulumi config set --secret keywire:apiKeyToken/);
    const first = emu.store.query("api_key", (r) => r.name === "keywire key")[0];
    const firstToken = emu.tokenOf(first.sys_id)!;
    // The operator sets the token: the parked key is taken over without `adopt`.
    const live = await keys.create({ ...keyInputs, token: firstToken, onDestroy: "delete" });
    expect(live.id).toBe(first.sys_id);
    expect(live.outs.tokenSource).toBe("operator");
    expect(emu.store.get("api_key", first.sys_id)!.active).toBe("true");

    // A rotation replaces it. The engine checks a replacement without its old inputs, as
    // here: the instance still holds the key being replaced, so the new one is the next
    // generation, "#2". It must be a new key, and the old token is not its token.
    await expect(keys.create({ ...keyInputs, token: firstToken, onDestroy: "delete" })).rejects.toThrow(/pulumi config set --secret/);
    const second = emu.store.query("api_key", (r) => r.sys_id !== first.sys_id)[0];
    expect(second.name).toBe("keywire key #2");
    expect(second.active).toBe("false");
    expect(emu.store.get("api_key", first.sys_id)!.active).toBe("true");
    // Running again before the operator copied the new token: the old key's token is still
    // in the configuration. The instance accepts it while the parked key is inactive, so it
    // is another key's: refused, with the key left parked and the old one serving.
    emu.resetMetrics();
    await expect(keys.create({ ...keyInputs, token: firstToken, onDestroy: "delete" })).rejects.toThrow(
      /accepts the token from keywire:apiKeyToken while this key is still inactive, so the token is another active key's/,
    );
    expect(calls(emu, "api_key", "PATCH")).toBe(0);
    expect(emu.store.get("api_key", second.sys_id)!.active).toBe("false");
    expect(emu.store.get("api_key", first.sys_id)!.active).toBe("true");
    expect(emu.store.query("api_key", () => true)).toHaveLength(2);
    // The operator copies the new key's token: the parked new key is taken over; the old one still serves.
    const secondToken = emu.tokenOf(second.sys_id)!;
    const rotated = await keys.create({ ...keyInputs, token: secondToken, onDestroy: "delete" });
    expect(rotated.id).toBe(second.sys_id);
    expect(rotated.outs.token).toBe(secondToken);
    // Deleting the replaced resource deletes the old key only.
    await keys.delete(live.id, live.outs);
    expect(emu.store.get("api_key", first.sys_id)).toBeUndefined();
    expect(emu.store.get("api_key", second.sys_id)!.active).toBe("true");
  });

  test("an operator token that does not authenticate is refused and never stored", async () => {
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    const made = await keys.create({ ...keyInputs, tokenStrategy: "auto" }).catch(() => undefined);
    expect(made).toBeUndefined();
    const wrong = generateToken();
    let err: unknown;
    try {
      await keys.create({ ...keyInputs, token: wrong, adopt: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/refused a request authenticated with the token/);
    expect(JSON.stringify(err)).not.toContain(wrong);
    expect((err as Error).stack ?? "").not.toContain(wrong);
  });

  test("a probe fails when the chain is broken, so a token is never trusted unproven", async () => {
    emu.setOptions({ tokenReadback: "both" });
    const link = emu.store.query("sys_auth_profile_mapping", (r) => r.sys_created_by !== "system")[0];
    emu.store.delete("sys_auth_profile_mapping", link.sys_id);
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    await expect(keys.create(keyInputs)).rejects.toThrow(/pulumi config set --secret keywire:apiKeyToken/);
  });
});

describe("the key record", () => {
  test("drift: deactivated or re-dated keys show; the token is carried through read, not re-read", async () => {
    emu.setOptions({ tokenReadback: "input_display_value" });
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    const { id, outs } = await keys.create(keyInputs);
    emu.resetMetrics();
    const clean = await keys.read(id, outs);
    expect(emu.metrics().total).toBe(1);
    expect(clean.props!.token).toBe(outs.token);
    // No inputs reported: the engine keeps the stored ones, so no token joins them.
    expect(clean.inputs).toBeUndefined();
    expect((await keys.diff(id, clean.props!, keyInputs)).changes).toBe(false);

    emu.store.update("api_key", id, { active: "false", expires: "2031-01-01 00:00:00" });
    const drifted = await keys.read(id, outs);
    expect(drifted.props!.active).toBe(false);
    expect(drifted.props!.expires).toBe("2031-01-01 00:00:00");
    expect((await keys.diff(id, drifted.props!, keyInputs)).changes).toBe(true);
    const repaired = await keys.update(id, drifted.props!, keyInputs);
    expect(repaired.token).toBe(outs.token);
    const row = emu.store.get("api_key", id)!;
    expect(row.active).toBe("true");
    expect(row.expires).toBe(outs.expiresAt);
  });

  test("a user given by user_name is resolved once; the diff needs no call", async () => {
    emu.setOptions({ tokenReadback: "input_display_value" });
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    const { id, outs } = await keys.create(keyInputs);
    expect(outs.user).toBe("svc.key");
    emu.resetMetrics();
    expect((await keys.diff(id, outs, keyInputs)).changes).toBe(false);
    expect(emu.metrics().total).toBe(0);
  });

  test("rotation: a trigger change or an age past maxAgeDays starts the next generation, a replacement that preview can show", async () => {
    emu.setOptions({ tokenReadback: "input_display_value" });
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    const withRotation = { ...keyInputs, rotation: { maxAgeDays: 30, trigger: "1" } };
    const { id, outs } = await keys.create(withRotation);
    expect(outs.generation).toBe(1);
    expect(outs.name).toBe("keywire key");
    expect((await keys.diff(id, outs, withRotation)).replaces).toEqual([]);
    const triggered = { ...keyInputs, rotation: { maxAgeDays: 30, trigger: "2" } };
    expect((await keys.diff(id, outs, triggered)).replaces).toEqual(["generation"]);
    const old = { ...outs, issuedAt: "2020-01-01 00:00:00", createdAt: "2020-01-01 00:00:00" } as unknown as RecordOutputs;
    expect(rotationDue(old, { maxAgeDays: 30 }, new Date())).toBe("older than 30 days");
    expect((await keys.diff(id, old, withRotation)).replaces).toEqual(["generation"]);
    // A state written before generations existed still rotates by its creation time.
    const legacy = { ...old, generation: undefined, issuedAt: undefined } as unknown as RecordOutputs;
    expect((await keys.diff(id, legacy, withRotation)).replaces).toEqual(["rotation"]);

    // The replacement is a record of its own, named so people can tell it apart, created
    // while the old key still serves.
    expect((await keys.checked(triggered, outs)).generation).toBe(2);
    const next = await keys.create(triggered, outs);
    expect(next.id).not.toBe(id);
    expect(next.outs.name).toBe("keywire key #2");
    expect(emu.store.get("api_key", next.id)!.name).toBe("keywire key #2");
    expect(emu.store.get("api_key", id)!.active).toBe("true");
    expect(next.outs.token).not.toBe(outs.token);
    expect((await keys.diff(next.id, next.outs, triggered)).changes).toBe(false);
  });
});

describe("what check asks the instance", () => {
  test("a settled key's check makes no call; a key to be created is named from the keys of its name, and a parked one is shown", async () => {
    emu.setOptions({ tokenReadback: "input_display_value" });
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    const program = { ...keyInputs, rotation: { trigger: "1" } };
    const { outs } = await keys.create(program);
    emu.resetMetrics();
    const settled = await keys.checked(program, outs);
    expect(settled.generation).toBe(1);
    expect(emu.metrics().total).toBe(0);

    // A rotation: the next generation, with no parked key yet.
    const rotated = { ...keyInputs, rotation: { trigger: "2" } };
    const first = await keys.checked(rotated, outs);
    expect(first.generation).toBe(2);
    expect(first.parkedKey).toBeUndefined();
    // The engine checks the replacement again without old inputs: the instance still
    // has generation 1 active, so it is generation 2 all the same.
    const again = await new ProviderDriver(apiKeyProvider, emu.url).checked(rotated);
    expect(again.generation).toBe(2);

    // A run that stopped for the new key's token parked "#2": check shows it.
    const user = emu.store.query("sys_user", (r) => r.user_name === "svc.key")[0];
    const parked = emu.store.insert("api_key", { name: "keywire key #2", user: user.sys_id, active: "false" });
    const shown = await new ProviderDriver(apiKeyProvider, emu.url).checked(rotated, outs);
    expect(shown.parkedKey).toEqual({
      sysId: parked.sys_id,
      name: "keywire key #2",
      recordUrl: `${emu.url}/nav_to.do?uri=${encodeURIComponent(`api_key.do?sys_id=${parked.sys_id}`)}`,
    });
  });

  test("a key deactivated by hand (a revoked token) is not taken for a parked one: its rotation makes the next generation", async () => {
    emu.setOptions({ tokenReadback: "input_display_value" });
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    const { id, outs } = await keys.create({ ...keyInputs, rotation: { trigger: "1" } });
    emu.store.update("api_key", id, { active: "false" });
    const rotated = { ...keyInputs, rotation: { trigger: "2" } };
    // The next run's provider process, which checks a replacement as the engine does:
    // first with the old inputs, then without.
    const run = new ProviderDriver(apiKeyProvider, emu.url);
    expect((await run.checked(rotated, outs)).generation).toBe(2);
    const second = await run.checked(rotated);
    expect(second.generation).toBe(2);
    expect(second.parkedKey).toBeUndefined();
    const next = await run.create(rotated);
    expect(emu.store.get("api_key", next.id)?.name).toBe("keywire key #2");
    expect(emu.store.get("api_key", id)?.active).toBe("false");
  });

  test("adopting by name takes the newest active generation, by sys_id that record; a rotation while adopting is refused in check", async () => {
    emu.setOptions({ tokenReadback: "input_display_value" });
    const keys = new ProviderDriver(apiKeyProvider, emu.url);
    const user = emu.store.query("sys_user", (r) => r.user_name === "svc.key")[0];
    emu.store.insert("api_key", { name: "keywire key", user: user.sys_id, active: "false" });
    const live = emu.store.insert("api_key", { name: "keywire key #3", user: user.sys_id, active: "true" });
    const program = { ...keyInputs, adopt: true, rotation: { trigger: "1" } };
    const checked = await keys.checked(program);
    expect(checked.generation).toBe(3);
    expect(checked.adoptionPreview).toMatchObject({ sysId: live.sys_id });

    // By sys_id, with the operator's token, as after a lost state: that record, its
    // generation kept, the token proven; the key is not renamed.
    const token = generateToken();
    emu.store.update("api_key", live.sys_id, { token });
    const bySysId = await new ProviderDriver(apiKeyProvider, emu.url).create({
      ...keyInputs,
      adopt: live.sys_id,
      token,
      onDestroy: "delete",
      rotation: { trigger: "1" },
    });
    expect(bySysId.id).toBe(live.sys_id);
    expect(bySysId.outs).toMatchObject({ generation: 3, name: "keywire key #3", tokenSource: "operator", token });
    expect(emu.store.query("api_key", () => true)).toHaveLength(2);

    const rotated = { ...program, rotation: { trigger: "2" } };
    const res = await keys.check(rotated, { ...checked, generation: 3 });
    expect(res.failures?.map((f) => f.property)).toEqual(["adopt"]);
    expect(res.failures?.[0].reason).toContain("pulumi config rm keywire:adopt");
  });
});

test("a refresh keeps the key's generation, issue time and rotation in its inputs: the next check derives the same ones", async () => {
  emu.setOptions({ tokenReadback: "input_display_value" });
  const keys = new ProviderDriver(apiKeyProvider, emu.url);
  const program = { ...keyInputs, rotation: { maxAgeDays: 60, trigger: "1" } };
  const { id, outs, inputs: stored } = await keys.create(program);
  const refreshed = await keys.read(id, outs);
  // The read reports no inputs, so the engine keeps the stored ones.
  expect(refreshed.inputs).toBeUndefined();
  const inputs = stored;
  expect(inputs.generation).toBe(1);
  expect(inputs.issuedAt).toBe(outs.issuedAt);
  expect(inputs.rotation).toEqual(program.rotation);
  const next = await keys.checked(program, inputs);
  expect(next.generation).toBe(1);
  expect(next.issuedAt).toBe(outs.issuedAt);
  expect((await keys.diff(id, refreshed.props as Record<string, unknown>, program)).changes).toBe(false);
});

describe("validation happens in check, before any call", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["over-long name", { ...keyInputs, name: "x".repeat(101) }, "name"],
    ["missing user", { name: "k" }, "user"],
    ["malformed expiry", { ...keyInputs, expiresInDays: undefined, expires: "next tuesday" }, "expires"],
    ["past expiry", { ...keyInputs, expiresInDays: undefined, expires: "2001-01-01T00:00:00Z" }, "expires"],
    ["both expiries", { ...keyInputs, expires: "2099-01-01T00:00:00Z" }, "expiresInDays"],
    ["malformed adopt sys_id", { ...keyInputs, adopt: "ABC" }, "adopt"],
    ["bad probe path", { ...keyInputs, probe: { path: "http://elsewhere/" } }, "probe.path"],
  ];
  test.each(cases)("%s is refused, naming the property", async (_label, inputs, property) => {
    emu.resetMetrics();
    const res = await new ProviderDriver(apiKeyProvider, emu.url).check(inputs);
    expect(res.failures?.map((f) => f.property)).toContain(property);
    expect(res.failures?.find((f) => f.property === property)?.reason).toContain(`ApiKey.${property}`);
    expect(emu.metrics().total).toBe(0);
  });

  test("a name with encoded-query syntax is accepted as a literal name", async () => {
    const res = await new ProviderDriver(apiKeyProvider, emu.url).check({ ...keyInputs, name: "a^ORactive=true" });
    expect(res.failures ?? []).toEqual([]);
  });
});
