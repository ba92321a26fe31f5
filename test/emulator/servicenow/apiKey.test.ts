import { startServiceNowEmulator } from "../../../emulator/servicenow";
import { call, client, makeKeyProfile, makeUser, mapProfile, one, policyNamed } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

const TOKEN = /^now_[A-Za-z0-9_-]{86}$/;

describe("5. api_key tokens", () => {
  const em = useServiceNowEmulator({}, { resetAfterEach: false });
  let api: ReturnType<typeof client>;
  let adminId: string;
  beforeAll(() => {
    api = client(em.url);
  });
  beforeEach(() => {
    em.setOptions({ tokenReadback: "none" });
    em.reset();
    adminId = one(em, "sys_user", (u) => u.user_name === "admin").sys_id;
  });

  const create = async (body: Record<string, unknown>, params = "") => {
    const res = await api.post(`/api/now/table/api_key${params}`, { name: "k", user: adminId, ...body });
    expect(res.status).toBe(201);
    return res.body.result as Record<string, string>;
  };

  test("a token is generated on insert: now_ + 86 base64url characters, different each time", async () => {
    const a = await create({});
    const b = await create({});
    expect(em.tokenOf(a.sys_id)).toMatch(TOKEN);
    expect(em.tokenOf(b.sys_id)).toMatch(TOKEN);
    expect(em.tokenOf(a.sys_id)).not.toBe(em.tokenOf(b.sys_id));
  });

  test("reads return an encrypted-looking blob, stable per record, never the token", async () => {
    const created = await create({});
    const token = em.tokenOf(created.sys_id)!;
    expect(created.token).not.toBe(token);
    const first = (await api.get(`/api/now/table/api_key/${created.sys_id}`)).body.result.token;
    const second = (await api.get(`/api/now/table/api_key/${created.sys_id}`)).body.result.token;
    expect(first).toBe(second);
    expect(first).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(first).not.toContain(token.slice(4, 20));
    const listed = await api.get(`/api/now/table/api_key?sysparm_query=sys_id=${created.sys_id}&sysparm_fields=token`);
    expect(listed.body.result[0].token).toBe(first);
  });

  test("variant none: display_value=true still gives the blob; a token supplied on insert is ignored", async () => {
    const created = await create({});
    const dv = await api.get(`/api/now/table/api_key/${created.sys_id}?sysparm_display_value=true`);
    expect(dv.body.result.token).not.toBe(em.tokenOf(created.sys_id));
    const supplied = await create({ token: "now_chosen" }, "?sysparm_input_display_value=true");
    expect(em.tokenOf(supplied.sys_id)).toMatch(TOKEN);
  });

  test("variant display_value: a privileged display_value=true read returns the real token; all gives both", async () => {
    em.setOptions({ tokenReadback: "display_value" });
    const created = await create({});
    const token = em.tokenOf(created.sys_id);
    const dv = await api.get(`/api/now/table/api_key/${created.sys_id}?sysparm_display_value=true`);
    expect(dv.body.result.token).toBe(token);
    const all = await api.get(`/api/now/table/api_key/${created.sys_id}?sysparm_display_value=all&sysparm_fields=token`);
    expect(all.body.result.token.display_value).toBe(token);
    expect(all.body.result.token.value).not.toBe(token);
    const plain = await api.get(`/api/now/table/api_key/${created.sys_id}`);
    expect(plain.body.result.token).not.toBe(token);
    // Supplying a token is still ignored in this variant.
    const supplied = await create({ token: "now_chosen" }, "?sysparm_input_display_value=true");
    expect(em.tokenOf(supplied.sys_id)).not.toBe("now_chosen");
  });

  test("variant input_display_value: a token supplied with sysparm_input_display_value=true is kept (and only then)", async () => {
    em.setOptions({ tokenReadback: "input_display_value" });
    const chosen = "now_" + "b".repeat(86);
    const kept = await create({ token: chosen }, "?sysparm_input_display_value=true");
    expect(em.tokenOf(kept.sys_id)).toBe(chosen);
    const ignored = await create({ token: "now_" + "c".repeat(86) });
    expect(em.tokenOf(ignored.sys_id)).toMatch(TOKEN);
    expect(em.tokenOf(ignored.sys_id)).not.toBe("now_" + "c".repeat(86));
    const dv = await api.get(`/api/now/table/api_key/${kept.sys_id}?sysparm_display_value=true`);
    expect(dv.body.result.token).not.toBe(chosen);
    // Updates never change the token.
    await api.patch(`/api/now/table/api_key/${kept.sys_id}?sysparm_input_display_value=true`, { token: "now_other" });
    expect(em.tokenOf(kept.sys_id)).toBe(chosen);
  });

  test("variant both", async () => {
    em.setOptions({ tokenReadback: "both" });
    const chosen = "now_" + "d".repeat(86);
    const kept = await create({ token: chosen }, "?sysparm_input_display_value=true");
    expect(em.tokenOf(kept.sys_id)).toBe(chosen);
    expect((await api.get(`/api/now/table/api_key/${kept.sys_id}?sysparm_display_value=true`)).body.result.token).toBe(chosen);
  });

  test("variants as start options", async () => {
    const other = await startServiceNowEmulator({ tokenReadback: "display_value" });
    try {
      const c = client(other.url);
      const admin = one(other, "sys_user", (u) => u.user_name === "admin").sys_id;
      const created = (await c.post("/api/now/table/api_key", { name: "k", user: admin })).body.result;
      expect((await c.get(`/api/now/table/api_key/${created.sys_id}?sysparm_display_value=true`)).body.result.token).toBe(other.tokenOf(created.sys_id));
    } finally {
      await other.stop();
    }
  });

  test("the generated token authenticates (the probe a provider runs); the blob does not", async () => {
    const svc = makeUser(em, "probe.user", ["itil"]);
    const profile = makeKeyProfile(em, "header");
    mapProfile(em, policyNamed(em, "Table GET API Access Policy").sys_id, profile.sys_id);
    const created = (await api.post("/api/now/table/api_key", { name: "probe", user: svc.sys_id })).body.result;
    const ok = await call(em.url, "GET", "/api/now/table/incident?sysparm_limit=1", { headers: { "x-sn-apikey": em.tokenOf(created.sys_id)! } });
    expect(ok.status).toBe(200);
    const blob = await call(em.url, "GET", "/api/now/table/incident?sysparm_limit=1", { headers: { "x-sn-apikey": created.token } });
    expect(blob.status).toBe(401);
  });

  test("the auth-scope column is a list of sys_auth_scope references; its name is a switch", async () => {
    const scope = one(em, "sys_auth_scope", (s) => s.name === "useraccount");
    const created = await create({ auth_scope: scope.sys_id });
    expect(created.auth_scope).toBe(scope.sys_id);
    const other = await startServiceNowEmulator({ authScopeColumn: "scopes" });
    try {
      const c = client(other.url);
      const s = one(other, "sys_auth_scope", (x) => x.name === "useraccount");
      const res = await c.post("/api/now/table/api_key?sysparm_input_display_value=true", { name: "k", scopes: "UserAccount", auth_scope: s.sys_id });
      expect(res.body.result.scopes).toBe(s.sys_id);
      expect(res.body.result).not.toHaveProperty("auth_scope");
    } finally {
      await other.stop();
    }
  });
});
