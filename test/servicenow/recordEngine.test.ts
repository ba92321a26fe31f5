/**
 * The generic record engine, exercised through the resources that differ least
 * from it (InboundProfile, AccessPolicy, AccessPolicyProfileLink, ServiceNowUser,
 * UserRoleGrant, PushConnector), against the in-process emulator.
 */
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { accessPolicyProvider } from "../../resources/servicenow/records/accessPolicy";
import { accessPolicyProfileLinkProvider } from "../../resources/servicenow/records/accessPolicyProfileLink";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { userRoleGrantProvider } from "../../resources/servicenow/records/userRoleGrant";
import { pushConnectorProvider } from "../../resources/servicenow/records/pushConnector";
import { ADMIN_PASSWORD, ProviderDriver, calls } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD });

function one(table: string, predicate: (r: Record<string, string>) => boolean): Record<string, string> {
  const rows = emu.store.query(table, predicate);
  expect(rows).toHaveLength(1);
  return rows[0];
}

describe("InboundProfile", () => {
  const profile = () => new ProviderDriver(inboundProfileProvider, emu.url);

  test("create resolves the query-parameter auth row by name and type, with one POST plus one lookup", async () => {
    const p = profile();
    const { id, outs } = await p.create({ name: "keywire sns", keyLocation: "query" });
    const row = one("http_key_auth", (r) => r.sys_id === id);
    const param = one("sys_token_auth_parameter", (r) => r.sys_id === row.auth_parameter);
    expect(param.parameter_name).toBe("x-sn-apikey");
    expect(param.type).not.toBe("auth_header");
    expect(row.active).toBe("true");
    expect(outs.keyLocation).toBe("query");
    expect(outs.sysId).toBe(id);
    expect(calls(emu, "http_key_auth", "POST")).toBe(1);
    expect(calls(emu, "sys_token_auth_parameter", "GET")).toBe(1);
    expect(emu.metrics().total).toBe(2);
  });

  test("read is one GET; no change means no diff; a switch to header is drift, named by property", async () => {
    const p = profile();
    const { id, outs } = await p.create({ name: "p1", keyLocation: "query" });
    emu.resetMetrics();
    const clean = await p.read(id, outs);
    expect(emu.metrics().total).toBe(1);
    expect((await p.diff(id, clean.props!, { name: "p1", keyLocation: "query" })).changes).toBe(false);

    const header = one("sys_token_auth_parameter", (r) => r.type === "auth_header");
    emu.store.update("http_key_auth", id, { auth_parameter: header.sys_id });
    const drifted = await p.read(id, outs);
    expect(drifted.props!.keyLocation).toBe("header");
    // The program's inputs stand (the engine keeps them when read reports none); the outputs differ.
    expect(drifted.inputs).toBeUndefined();
    const d = await p.diff(id, drifted.props!, { name: "p1", keyLocation: "query" });
    expect(d.changes).toBe(true);

    emu.resetMetrics();
    const repaired = await p.update(id, drifted.props!, { name: "p1", keyLocation: "query" });
    expect(repaired.keyLocation).toBe("query");
    expect(calls(emu, "http_key_auth", "PATCH")).toBe(1);
    expect(one("http_key_auth", (r) => r.sys_id === id).auth_parameter).not.toBe(header.sys_id);
  });

  test("update sends only the changed field", async () => {
    const p = profile();
    const { id, outs } = await p.create({ name: "p2", keyLocation: "header", description: "a" });
    emu.resetMetrics();
    const updated = await p.update(id, outs, { name: "p2", keyLocation: "header", description: "b" });
    expect(updated.description).toBe("b");
    expect(emu.metrics().total).toBe(1);
    expect(calls(emu, "http_key_auth", "PATCH")).toBe(1);
    expect(calls(emu, "sys_token_auth_parameter")).toBe(0);
  });

  test("a plain diff makes no call at all", async () => {
    const p = profile();
    const { id, outs } = await p.create({ name: "p3", keyLocation: "query" });
    emu.resetMetrics();
    const d = await p.diff(id, outs, { name: "p3", keyLocation: "query", active: false });
    expect(d.changes).toBe(true);
    expect(emu.metrics().total).toBe(0);
  });

  test("deleted out of band: read reports it gone; delete of a missing record succeeds with one DELETE", async () => {
    const p = profile();
    const { id, outs } = await p.create({ name: "p4", keyLocation: "query" });
    emu.store.delete("http_key_auth", id);
    const res = await p.read(id, outs);
    expect(res.id ?? "").toBe("");
    emu.resetMetrics();
    await p.delete(id, outs);
    expect(calls(emu, "http_key_auth", "DELETE")).toBe(1);
    expect(emu.metrics().total).toBe(1);
  });

  test("names carrying encoded-query syntax are literal values, never query clauses", async () => {
    const p = profile();
    const name = "evil^ORactive=true^NQname!=x";
    const { id } = await p.create({ name, keyLocation: "query" });
    expect(one("http_key_auth", (r) => r.sys_id === id).name).toBe(name);
    // Adoption by natural key must find exactly this record, not every active one.
    await p.create({ name: "another", keyLocation: "header" });
    const adopted = await p.create({ name, keyLocation: "query", adopt: true });
    expect(adopted.id).toBe(id);
  });
});

describe("adoption", () => {
  test("the shipped Table GET policy is taken over by name, shown before it changes, and restored on destroy", async () => {
    const shipped = one("sys_api_access_policy", (r) => r.name === "Table GET API Access Policy");
    emu.store.update("sys_api_access_policy", shipped.sys_id, { active: "false" });
    const p = new ProviderDriver(accessPolicyProvider, emu.url);
    const inputs = { name: "Table GET API Access Policy", adopt: true, active: true };
    const checked = await p.checked(inputs);
    expect(checked.adoptionPreview).toEqual({ sysId: shipped.sys_id, changes: { active: '"false" -> "true"' } });

    const { id, outs } = await p.create(inputs);
    expect(id).toBe(shipped.sys_id);
    const after = one("sys_api_access_policy", (r) => r.sys_id === id);
    expect(after.active).toBe("true");
    // Fields the program did not mention are left as shipped.
    expect(after.http_method).toBe(shipped.http_method);
    expect(after.api_tablename).toBe(shipped.api_tablename);
    expect(outs.adoption).toEqual({ sysId: id, original: { name: "Table GET API Access Policy", active: "false" } });

    await p.delete(id, outs);
    const restored = one("sys_api_access_policy", (r) => r.sys_id === id);
    expect(restored.active).toBe("false");
    expect(restored.name).toBe("Table GET API Access Policy");
  });

  test("a drift repaired after adoption is not mistaken for the original value", async () => {
    const p = new ProviderDriver(accessPolicyProvider, emu.url);
    const inputs = { name: "Table POST API Access Policy", adopt: true, active: true };
    const { id, outs } = await p.create(inputs);
    emu.store.update("sys_api_access_policy", id, { active: "false" });
    const drifted = await p.read(id, outs);
    const repaired = await p.update(id, drifted.props!, inputs);
    expect(one("sys_api_access_policy", (r) => r.sys_id === id).active).toBe("true");
    await p.delete(id, repaired);
    // Restored to how it was when keywire took it over: active.
    expect(one("sys_api_access_policy", (r) => r.sys_id === id).active).toBe("true");
  });

  test("adoption by sys_id; retain leaves the record untouched on destroy", async () => {
    const p = new ProviderDriver(inboundProfileProvider, emu.url);
    const made = await p.create({ name: "made by hand", keyLocation: "header" });
    const adopted = await p.create({ name: "made by hand", keyLocation: "query", adopt: made.id, onDestroy: "retain" });
    expect(adopted.id).toBe(made.id);
    await p.delete(adopted.id, adopted.outs);
    expect(emu.store.get("http_key_auth", made.id)).toBeDefined();
  });

  test("adopting a record that is not there fails with what to do", async () => {
    const p = new ProviderDriver(inboundProfileProvider, emu.url);
    await expect(p.create({ name: "nope", keyLocation: "query", adopt: true })).rejects.toThrow(/Drop `adopt`/);
  });

  test("a record taken over to be deleted on destroy is keywire's own: every field managed, defaults included", async () => {
    // What a lost state leaves: keywire's own profile, deactivated meanwhile.
    const p = new ProviderDriver(inboundProfileProvider, emu.url);
    const made = await p.create({ name: "keywire sns", keyLocation: "query" });
    emu.store.update("http_key_auth", made.id, { active: "false" });
    const inputs = { name: "keywire sns", keyLocation: "query", adopt: true, onDestroy: "delete" };
    expect(await p.checked(inputs)).toMatchObject({ active: true });
    const taken = await p.create(inputs);
    expect(taken.id).toBe(made.id);
    expect(emu.store.query("http_key_auth", (r) => r.name === "keywire sns")).toHaveLength(1);
    // Its default is kept like any of keywire's records: re-activated, and drift when changed again.
    expect(one("http_key_auth", (r) => r.sys_id === made.id).active).toBe("true");
    emu.store.update("http_key_auth", made.id, { active: "false" });
    const drifted = await p.read(taken.id, taken.outs);
    expect((await p.diff(taken.id, drifted.props!, inputs)).changes).toBe(true);
    // Dropping `adopt` afterwards changes nothing: destroy still deletes it.
    const settled = (await p.read(taken.id, (await p.update(taken.id, drifted.props!, inputs)) as Record<string, unknown>)).props!;
    expect((await p.diff(taken.id, settled, { name: "keywire sns", keyLocation: "query", onDestroy: "delete" })).changes).toBe(false);
    await p.delete(taken.id, settled);
    expect(emu.store.get("http_key_auth", made.id)).toBeUndefined();
  });
});

describe("defaults in the checked inputs", () => {
  test("a record keywire creates gets its fields' declared defaults in the checked inputs; an adopted one does not", async () => {
    const p = new ProviderDriver(accessPolicyProvider, emu.url);
    const own = await p.checked({ name: "keywire events", apiPath: "sn_em_connector/em", applyAllMethods: true });
    expect(own).toMatchObject({ active: true, applyAllMethods: true, applyAllResources: false, applyAllTables: false, advertiseAllAuthSchemes: false });
    const shipped = await p.checked({ name: "Table GET API Access Policy", adopt: true, active: true });
    // Only what the program mentions: a shipped policy's other fields are not keywire's to keep.
    expect(Object.keys(shipped).filter((k) => k.startsWith("apply") || k === "advertiseAllAuthSchemes")).toEqual([]);
    // The profile's `active`, which the program leaves out, reads as true: the value a
    // deactivation on the instance is compared with.
    const profile = await new ProviderDriver(inboundProfileProvider, emu.url).checked({ name: "p", keyLocation: "query" });
    expect(profile.active).toBe(true);
    // Values not known yet (preview) keep the defaults too.
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect((await p.checked({ name: unknown, apiPath: "now/table", applyAllMethods: true })).active).toBe(true);
  });

  test("spelling out the default destroy of a created record is no change", async () => {
    const p = new ProviderDriver(inboundProfileProvider, emu.url);
    const { id, outs } = await p.create({ name: "p", keyLocation: "query" });
    expect((await p.diff(id, outs, { name: "p", keyLocation: "query", onDestroy: "delete" })).changes).toBe(false);
    expect((await p.diff(id, outs, { name: "p", keyLocation: "query", onDestroy: "retain" })).changes).toBe(true);
    const shipped = await new ProviderDriver(accessPolicyProvider, emu.url).create({ name: "Table GET API Access Policy", adopt: true, active: true });
    // An adopted record is restored by default: "delete" is a change.
    const policies = new ProviderDriver(accessPolicyProvider, emu.url);
    expect(
      (await policies.diff(shipped.id, shipped.outs, { name: "Table GET API Access Policy", adopt: true, active: true, onDestroy: "restore" })).changes,
    ).toBe(false);
    expect(
      (await policies.diff(shipped.id, shipped.outs, { name: "Table GET API Access Policy", adopt: true, active: true, onDestroy: "delete" })).changes,
    ).toBe(true);
  });
});

describe("AccessPolicy and AccessPolicyProfileLink", () => {
  test("a dedicated Table API policy, linked to a profile; a changed link is a replacement", async () => {
    const pol = new ProviderDriver(accessPolicyProvider, emu.url);
    const prof = new ProviderDriver(inboundProfileProvider, emu.url);
    const link = new ProviderDriver(accessPolicyProfileLinkProvider, emu.url);
    const policy = await pol.create({
      name: "keywire table api",
      apiPath: "now/table",
      applyAllMethods: true,
      applyAllResources: true,
      applyAllVersions: true,
      applyAllTables: true,
    });
    const row = one("sys_api_access_policy", (r) => r.sys_id === policy.id);
    expect(row.apply_all_tables).toBe("true");
    expect(row.apply_global).not.toBe("true");
    const profile = await prof.create({ name: "hdr", keyLocation: "header" });
    const other = await prof.create({ name: "qry", keyLocation: "query" });
    const l = await link.create({ policy: policy.id, profile: profile.id });
    expect(one("sys_auth_profile_mapping", (r) => r.sys_id === l.id).inbound_auth_profile).toBe(profile.id);

    const d = await link.diff(l.id, l.outs, { policy: policy.id, profile: other.id });
    expect(d.replaces).toEqual(["profile"]);

    emu.store.delete("sys_auth_profile_mapping", l.id);
    expect((await link.read(l.id, l.outs)).id ?? "").toBe("");
  });

  test("a deactivated policy is drift and update repairs it", async () => {
    const pol = new ProviderDriver(accessPolicyProvider, emu.url);
    const inputs = { name: "em inbound", apiPath: "sn_em_connector/em", applyAllMethods: true, applyAllResources: true, applyAllVersions: true };
    const { id, outs } = await pol.create(inputs);
    emu.store.update("sys_api_access_policy", id, { active: "false" });
    const r = await pol.read(id, outs);
    expect(r.props!.active).toBe(false);
    expect((await pol.diff(id, r.props!, inputs)).changes).toBe(true);
    await pol.update(id, r.props!, inputs);
    expect(one("sys_api_access_policy", (x) => x.sys_id === id).active).toBe("true");
  });

  test("a global policy is refused before any call", async () => {
    const pol = new ProviderDriver(accessPolicyProvider, emu.url);
    emu.resetMetrics();
    const res = await pol.check({ name: "g", apiPath: "now/table", applyAllMethods: true, applyGlobal: true });
    expect(res.failures?.map((f) => f.property)).toContain("applyGlobal");
    expect(emu.metrics().total).toBe(0);
  });
});

describe("ServiceNowUser, UserRoleGrant and PushConnector", () => {
  test("an integration user with one role, resolved by names; the grant is replaced when the role changes", async () => {
    const users = new ProviderDriver(serviceNowUserProvider, emu.url);
    const grants = new ProviderDriver(userRoleGrantProvider, emu.url);
    const user = await users.create({ userName: "svc.keywire", firstName: "keywire" });
    const row = one("sys_user", (r) => r.sys_id === user.id);
    expect(row.web_service_access_only).toBe("true");
    const grant = await grants.create({ user: "svc.keywire", role: "evt_mgmt_integration" });
    const g = one("sys_user_has_role", (r) => r.sys_id === grant.id);
    expect(g.user).toBe(user.id);
    expect(one("sys_user_role", (r) => r.sys_id === g.role).name).toBe("evt_mgmt_integration");
    expect(grant.outs.role).toBe("evt_mgmt_integration");
    emu.resetMetrics();
    const same = await grants.diff(grant.id, grant.outs, { user: "svc.keywire", role: "evt_mgmt_integration" });
    expect(same.changes).toBe(false);
    expect(emu.metrics().total).toBe(0);
    const d = await grants.diff(grant.id, grant.outs, { user: "svc.keywire", role: "itil" });
    expect(d.replaces).toEqual(["role"]);
  });

  test("a grant, found by a user and a role given by name, is previewed and taken over", async () => {
    const user = await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.again" });
    const made = await new ProviderDriver(userRoleGrantProvider, emu.url).create({ user: "svc.again", role: "evt_mgmt_integration" });
    // A new provider process, as after a lost state.
    const grants = new ProviderDriver(userRoleGrantProvider, emu.url);
    const inputs = { user: "svc.again", role: "evt_mgmt_integration", adopt: true, onDestroy: "delete" };
    expect((await grants.checked(inputs)).adoptionPreview).toEqual({ sysId: made.id, changes: {} });
    const taken = await grants.create(inputs);
    expect(taken.id).toBe(made.id);
    expect(emu.store.query("sys_user_has_role", (r) => r.user === user.id)).toHaveLength(1);
  });

  test("a role that does not exist is named in the error", async () => {
    const grants = new ProviderDriver(userRoleGrantProvider, emu.url);
    await expect(grants.create({ user: "admin", role: "no_such_role" })).rejects.toThrow(/no sys_user_role record has name "no_such_role"/);
  });

  test("the push connector: the shipped one taken by name, or one created for source aws", async () => {
    const pc = new ProviderDriver(pushConnectorProvider, emu.url);
    const seeded = emu.store.query("sn_em_connector_push_instance", () => true)[0];
    const adopted = await pc.create({ name: seeded.name, adopt: true, onDestroy: "retain" });
    expect(adopted.id).toBe(seeded.sys_id);
    const created = await pc.create({ name: "keywire connector", source: "aws" });
    const row = one("sn_em_connector_push_instance", (r) => r.sys_id === created.id);
    expect(one("sn_em_connector_listener", (r) => r.sys_id === row.push_connector_definition).source).toBe("aws");
    expect(created.outs.source).toBe("aws");
  });
});

describe("columns the instance does not have", () => {
  test("a write to a column the table lacks fails loudly instead of drifting forever", async () => {
    emu.setOptions({ authScopeColumn: "scopes" });
    try {
      const { apiKeyProvider } = await import("../../resources/servicenow/apiKey/apiKey");
      await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.cols" });
      const keys = new ProviderDriver(apiKeyProvider, emu.url);
      await expect(keys.create({ name: "cols", user: "svc.cols", authScopes: ["useraccount"] })).rejects.toThrow(/no column auth_scope on api_key/);
    } finally {
      emu.setOptions({ authScopeColumn: "auth_scope" });
    }
  });
});
