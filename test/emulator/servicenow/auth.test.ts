import { Emulator } from "../../../emulator/servicenow/emulator";
import type { GlideRecord } from "../../../emulator/servicenow/types";
import { ADMIN, basic, call, client, makeKey, makeKeyProfile, makeUser, mapProfile, one, policyNamed } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";
import { onEmulatorClock } from "../../support/emulatorClock";

const NOT_AUTH = { error: { message: "User Not Authenticated", detail: "Required to provide Auth information" }, status: "failure" };
const GET_POLICY = "Table GET API Access Policy";
const POST_POLICY = "Table POST API Access Policy";

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

describe("4. authentication", () => {
  const em = useServiceNowEmulator({}, { resetAfterEach: false });
  beforeEach(() => {
    em.setOptions({ plugin: "active", shippedPolicies: "active", basicAuthRestriction: false });
    em.reset();
  });

  describe("basic", () => {
    test("good credentials pass; wrong, missing or garbled ones get the 401 envelope", async () => {
      expect((await client(em.url).get("/api/now/table/incident")).status).toBe(200);
      for (const auth of [
        basic("admin", "nope"),
        basic("nobody", "x"),
        undefined,
        "Basic !!!notbase64",
        "Basic " + Buffer.from("nocolon").toString("base64"),
      ]) {
        const res = await call(em.url, "GET", "/api/now/table/incident", { auth });
        expect(res.status).toBe(401);
        expect(res.body).toEqual(NOT_AUTH);
      }
    });

    test("inactive and locked-out users are refused", async () => {
      makeUser(em, "gone", ["itil"], { active: false });
      makeUser(em, "locked", ["itil"], { locked_out: true });
      expect((await client(em.url, basic("gone", "pw")).get("/api/now/table/incident")).status).toBe(401);
      expect((await client(em.url, basic("locked", "pw")).get("/api/now/table/incident")).status).toBe(401);
    });
  });

  describe("OAuth", () => {
    const tokenRequest = (fields: Record<string, string>, auth?: string) =>
      call(em.url, "POST", "/oauth_token.do", { rawBody: form(fields), auth, headers: { "Content-Type": "application/x-www-form-urlencoded" } });

    let entity: GlideRecord;
    beforeEach(async () => {
      const res = await client(em.url).post("/api/now/table/oauth_entity", { name: "keywire", client_id: "kw-client", client_secret: "kw-secret" });
      expect(res.status).toBe(201);
      expect(res.body.result.client_secret).not.toBe("kw-secret");
      entity = res.body.result;
    });

    test("password grant issues a bearer token that authenticates; an unknown token is 401", async () => {
      const res = await tokenRequest({ grant_type: "password", client_id: "kw-client", client_secret: "kw-secret", username: "admin", password: "admin" });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token_type: "Bearer", expires_in: 1800, scope: "useraccount" });
      expect(res.body.access_token).toEqual(expect.any(String));
      expect(res.body.refresh_token).toEqual(expect.any(String));
      expect((await client(em.url, `Bearer ${res.body.access_token}`).get("/api/now/table/incident")).status).toBe(200);
      const unknown = await client(em.url, "Bearer not-a-token").get("/api/now/table/incident");
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(NOT_AUTH);
      expect(em.metrics().byRoute["POST /oauth_token.do"]).toBe(1);
    });

    test("bad client secret, bad password, unknown client: access_denied", async () => {
      for (const f of [
        { grant_type: "password", client_id: "kw-client", client_secret: "wrong", username: "admin", password: "admin" },
        { grant_type: "password", client_id: "kw-client", client_secret: "kw-secret", username: "admin", password: "wrong" },
        { grant_type: "password", client_id: "nope", client_secret: "kw-secret", username: "admin", password: "admin" },
      ]) {
        const res = await tokenRequest(f);
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ error_description: "access_denied", error: "server_error" });
      }
      const unsupported = await tokenRequest({ grant_type: "implicit", client_id: "kw-client", client_secret: "kw-secret" });
      expect(unsupported.status).toBe(400);
      expect(unsupported.body.error).toBe("unsupported_grant_type");
    });

    test("client-credentials grant acts as the entity's oauth_client_credentials_user (credentials in the form or in Basic)", async () => {
      const svc = makeUser(em, "svc.oauth", ["itil"]);
      expect((await tokenRequest({ grant_type: "client_credentials", client_id: "kw-client", client_secret: "kw-secret" })).status).toBe(401);
      em.store.update("oauth_entity", entity.sys_id, { oauth_client_credentials_user: svc.sys_id });
      const viaForm = await tokenRequest({ grant_type: "client_credentials", client_id: "kw-client", client_secret: "kw-secret" });
      expect(viaForm.status).toBe(200);
      expect(viaForm.body.refresh_token).toBeUndefined();
      const viaBasic = await tokenRequest({ grant_type: "client_credentials" }, basic("kw-client", "kw-secret"));
      expect(viaBasic.status).toBe(200);
      const bearer = client(em.url, `Bearer ${viaForm.body.access_token}`);
      expect((await bearer.get("/api/now/table/incident")).status).toBe(200);
      // It is svc.oauth, not admin: the security tables are closed to it.
      expect((await bearer.get("/api/now/table/api_key")).status).toBe(403);
    });

    test("tokens expire after the entity's lifespan; refresh_token grant issues a new one", async () => {
      let refreshToken = "";
      em.store.update("oauth_entity", entity.sys_id, { access_token_lifespan: 1 });
      await onEmulatorClock(async () => {
        const res = await tokenRequest({ grant_type: "password", client_id: "kw-client", client_secret: "kw-secret", username: "admin", password: "admin" });
        expect(res.body.expires_in).toBe(1);
        const bearer = client(em.url, `Bearer ${res.body.access_token}`);
        jest.advanceTimersByTime(999);
        expect((await bearer.get("/api/now/table/incident")).status).toBe(200);
        jest.advanceTimersByTime(1);
        expect((await bearer.get("/api/now/table/incident")).status).toBe(401);
        refreshToken = res.body.refresh_token;
      });
      em.store.update("oauth_entity", entity.sys_id, { access_token_lifespan: 1800 });
      const refreshed = await tokenRequest({
        grant_type: "refresh_token",
        client_id: "kw-client",
        client_secret: "kw-secret",
        refresh_token: refreshToken,
      });
      expect(refreshed.status).toBe(200);
      expect((await client(em.url, `Bearer ${refreshed.body.access_token}`).get("/api/now/table/incident")).status).toBe(200);
    });

    test("a policy that maps only basic auth refuses bearer tokens", async () => {
      const res = await tokenRequest({ grant_type: "password", client_id: "kw-client", client_secret: "kw-secret", username: "admin", password: "admin" });
      const policy = policyNamed(em, GET_POLICY);
      for (const m of em.store.query("sys_auth_profile_mapping", (r) => r.api_access_policy === policy.sys_id)) {
        const p = em.store.get("inbound_auth_profile", m.inbound_auth_profile)!;
        if (p.type === "oauth") em.store.delete("sys_auth_profile_mapping", m.sys_id);
      }
      expect((await client(em.url, `Bearer ${res.body.access_token}`).get("/api/now/table/incident")).status).toBe(401);
      expect((await client(em.url).get("/api/now/table/incident")).status).toBe(200);
    });
  });

  describe("API keys", () => {
    let svc: GlideRecord;
    let token: string;
    let keyRow: GlideRecord;
    let headerProfile: GlideRecord;
    let queryProfile: GlideRecord;
    const byHeader = (path: string, t = token) => call(em.url, "GET", path, { headers: { "x-sn-apikey": t } });
    const byQuery = (path: string, t = token) => call(em.url, "GET", `${path}${path.includes("?") ? "&" : "?"}x-sn-apikey=${encodeURIComponent(t)}`);

    beforeEach(() => {
      svc = makeUser(em, "svc.events", ["itil", "evt_mgmt_integration"]);
      ({ row: keyRow, token } = makeKey(em, svc.sys_id));
      headerProfile = makeKeyProfile(em, "header");
      queryProfile = makeKeyProfile(em, "query");
    });

    test("the shipped policy, mapped to basic only, refuses the key", async () => {
      const res = await byHeader("/api/now/table/incident");
      expect(res.status).toBe(401);
      expect(res.body.error.message).toBe("User is not authenticated");
    });

    test("linking the header profile to the shipped GET policy admits header keys only; the query profile admits query keys", async () => {
      mapProfile(em, policyNamed(em, GET_POLICY).sys_id, headerProfile.sys_id);
      expect((await byHeader("/api/now/table/incident")).status).toBe(200);
      expect((await byQuery("/api/now/table/incident")).status).toBe(401);
      mapProfile(em, policyNamed(em, GET_POLICY).sys_id, queryProfile.sys_id);
      expect((await byQuery("/api/now/table/incident")).status).toBe(200);
      // The POST policy is a different policy, still without the key profile.
      const post = await call(em.url, "POST", "/api/now/table/incident", { headers: { "x-sn-apikey": token }, body: { short_description: "k" } });
      expect(post.status).toBe(401);
      mapProfile(em, policyNamed(em, POST_POLICY).sys_id, headerProfile.sys_id);
      const posted = await call(em.url, "POST", "/api/now/table/incident", { headers: { "x-sn-apikey": token }, body: { short_description: "k" } });
      expect(posted.status).toBe(201);
      expect(posted.body.result.sys_created_by).toBe("svc.events");
      // Basic stays admitted while the basic profile stays linked.
      expect((await client(em.url).get("/api/now/table/incident")).status).toBe(200);
    });

    test("a policy that maps only the key profile locks basic auth out", async () => {
      const policy = policyNamed(em, GET_POLICY);
      for (const m of em.store.query("sys_auth_profile_mapping", (r) => r.api_access_policy === policy.sys_id))
        em.store.delete("sys_auth_profile_mapping", m.sys_id);
      mapProfile(em, policy.sys_id, headerProfile.sys_id);
      expect((await byHeader("/api/now/table/incident")).status).toBe(200);
      const basicRes = await client(em.url).get("/api/now/table/incident");
      expect(basicRes.status).toBe(401);
      expect(basicRes.body).toEqual(NOT_AUTH);
      // Other tables and methods are governed by other policies, where basic still works.
      expect((await client(em.url).get("/api/now/table/em_event")).status).toBe(200);
    });

    test("a custom apply-to-all Table API policy loses to the shipped policy for listed tables; deactivating the shipped ones (Option B) lets it win", async () => {
      const custom = em.store.insert("sys_api_access_policy", { name: "keywire table policy", api_path: "now/table" });
      mapProfile(em, custom.sys_id, headerProfile.sys_id);
      expect((await byHeader("/api/now/table/incident")).status).toBe(401);
      expect((await byHeader("/api/now/table/em_event")).status).toBe(200);
      em.setOptions({ shippedPolicies: "inactive" });
      expect((await byHeader("/api/now/table/incident")).status).toBe(200);
      // No basic profile on the custom policy: basic is now locked out of incident.
      expect((await client(em.url).get("/api/now/table/incident")).status).toBe(401);
    });

    test("a policy given by its REST API reference (api) instead of api_path applies too", async () => {
      const tableApi = one(em, "sys_ws_definition", (r) => r.name === "Table API");
      const custom = em.store.insert("sys_api_access_policy", { name: "by api ref", api: tableApi.sys_id });
      mapProfile(em, custom.sys_id, headerProfile.sys_id);
      expect((await byHeader("/api/now/table/em_event")).status).toBe(200);
    });

    test("token auth is refused under a global policy, and where no policy applies at all", async () => {
      em.setOptions({ shippedPolicies: "inactive" });
      let res = await byHeader("/api/now/table/incident");
      expect(res.status).toBe(401);
      expect(res.body.error.detail).toBe("Token Based Auth isn't allowed in the Global REST API Policy");
      expect((await client(em.url).get("/api/now/table/incident")).status).toBe(200);
      const global = em.store.insert("sys_api_access_policy", { name: "global", apply_global: true });
      mapProfile(em, global.sys_id, headerProfile.sys_id);
      res = await byHeader("/api/now/table/incident");
      expect(res.status).toBe(401);
      expect(res.body.error.detail).toBe("Token Based Auth isn't allowed in the Global REST API Policy");
    });

    test("a policy without mappings admits basic and OAuth but not API keys", async () => {
      em.setOptions({ shippedPolicies: "inactive" });
      em.store.insert("sys_api_access_policy", { name: "bare", api_path: "now/table" });
      expect((await client(em.url).get("/api/now/table/incident")).status).toBe(200);
      expect((await byHeader("/api/now/table/incident")).status).toBe(401);
    });

    describe("key, user, profile and policy must be active", () => {
      beforeEach(() => {
        mapProfile(em, policyNamed(em, GET_POLICY).sys_id, headerProfile.sys_id);
      });

      test("inactive key", async () => {
        em.store.update("api_key", keyRow.sys_id, { active: false });
        expect((await byHeader("/api/now/table/incident")).status).toBe(401);
      });

      test("expired key refused, future expiry admitted", async () => {
        em.store.update("api_key", keyRow.sys_id, { expires: "2001-01-01 00:00:00" });
        expect((await byHeader("/api/now/table/incident")).status).toBe(401);
        em.store.update("api_key", keyRow.sys_id, { expires: "2999-01-01 00:00:00" });
        expect((await byHeader("/api/now/table/incident")).status).toBe(200);
      });

      test("inactive user", async () => {
        em.store.update("sys_user", svc.sys_id, { active: false });
        expect((await byHeader("/api/now/table/incident")).status).toBe(401);
      });

      test("inactive profile", async () => {
        em.store.update("http_key_auth", headerProfile.sys_id, { active: false });
        expect((await byHeader("/api/now/table/incident")).status).toBe(401);
      });

      test("unknown token", async () => {
        expect((await byHeader("/api/now/table/incident", "now_" + "A".repeat(86))).status).toBe(401);
      });

      test("an inactive policy is skipped", async () => {
        const custom = em.store.insert("sys_api_access_policy", {
          name: "more specific, inactive",
          api_path: "now/table",
          http_method: "GET",
          apply_all_methods: false,
          api_resource: "/now/table/{tableName}",
          apply_all_resources: false,
          active: false,
        });
        void custom;
        expect((await byHeader("/api/now/table/incident")).status).toBe(200);
      });

      test("with the plugin inactive, keys are not honoured", async () => {
        em.setOptions({ plugin: "inactive" });
        const res = await byHeader("/api/now/table/incident");
        expect(res.status).toBe(401);
        expect(res.body).toEqual(NOT_AUTH);
      });
    });

    test("auth scope rules: a covered API needs the rule's scope or useraccount", async () => {
      mapProfile(em, policyNamed(em, GET_POLICY).sys_id, headerProfile.sys_id);
      const scope = em.store.insert("sys_auth_scope", { name: "incident_read", label: "Incident read" });
      em.store.insert("sys_api_access_scope", { name: "table needs scope", api_path: "now/table", auth_scope: scope.sys_id });
      const denied = await byHeader("/api/now/table/incident");
      expect(denied.status).toBe(403);
      em.store.update("api_key", keyRow.sys_id, { auth_scope: scope.sys_id });
      expect((await byHeader("/api/now/table/incident")).status).toBe(200);
      const useraccount = one(em, "sys_auth_scope", (r) => r.name === "useraccount");
      em.store.update("api_key", keyRow.sys_id, { auth_scope: useraccount.sys_id });
      expect((await byHeader("/api/now/table/incident")).status).toBe(200);
    });

    test("a key user sees only what its roles allow", async () => {
      mapProfile(em, policyNamed(em, GET_POLICY).sys_id, headerProfile.sys_id);
      expect((await byHeader("/api/now/table/incident")).status).toBe(200);
      const sec = await byHeader("/api/now/table/api_key");
      expect(sec.status).toBe(401); // api_key is not in the shipped policy's table list: no policy maps the key there
      const custom = em.store.insert("sys_api_access_policy", { name: "all tables", api_path: "now/table" });
      mapProfile(em, custom.sys_id, headerProfile.sys_id);
      const forbidden = await byHeader("/api/now/table/api_key");
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.error.message).toBe("Insufficient rights to query records");
    });
  });

  describe("policy specificity", () => {
    test("method+resource+version > method+resource > resource+version > resource > method+version > method > version > whole API > global", () => {
      const emu = new Emulator({ shippedPolicies: "inactive" });
      emu.seed();
      const def = emu.schema.get("sys_api_access_policy")!;
      const ctx = { userName: "t", trusted: true, acceptToken: false };
      const mk = (name: string, f: Record<string, unknown>) =>
        emu.store.insert(
          def,
          { name, api_path: "now/table", apply_all_methods: !f.http_method, apply_all_resources: !f.api_resource, apply_all_versions: !f.version, ...f },
          ctx,
        );
      // Created least specific first, so creation order cannot explain the outcome.
      const order = [
        mk("global", { apply_global: true, api_path: "" }),
        mk("api", {}),
        mk("V", { version: "v2" }),
        mk("M", { http_method: "GET" }),
        mk("MV", { http_method: "GET", version: "v2" }),
        mk("R", { api_resource: "/now/table/{tableName}" }),
        mk("RV", { api_resource: "/now/table/{tableName}", version: "v2" }),
        mk("MR", { http_method: "GET", api_resource: "/now/table/{tableName}" }),
        mk("MRV", { http_method: "GET", api_resource: "/now/table/{tableName}", version: "v2" }),
      ];
      const call = { apiPath: "now/table", resource: "/now/table/em_event", method: "GET", version: "v2", table: "em_event" };
      const winners: string[] = [];
      for (const _ of order) {
        const w = emu.policies.resolve(call);
        if (!w) break;
        winners.push(w.name);
        emu.store.update(def, w.sys_id, { active: false }, ctx);
      }
      expect(winners).toEqual(["MRV", "MR", "RV", "R", "MV", "M", "V", "api", "global"]);
      expect(emu.policies.resolve(call)).toBeUndefined();
    });

    test("a record-level resource template does not govern collection calls; other methods and versions do not match", () => {
      const emu = new Emulator({ shippedPolicies: "inactive" });
      emu.seed();
      const def = emu.schema.get("sys_api_access_policy")!;
      const ctx = { userName: "t", trusted: true, acceptToken: false };
      emu.store.insert(
        def,
        {
          name: "record",
          api_path: "now/table",
          api_resource: "/now/table/{tableName}/{sys_id}",
          apply_all_resources: false,
          http_method: "DELETE",
          apply_all_methods: false,
          version: "v1",
          apply_all_versions: false,
        },
        ctx,
      );
      const base = { apiPath: "now/table", method: "DELETE", version: "v1", table: "incident" };
      expect(emu.policies.resolve({ ...base, resource: "/now/table/incident/0123" })?.name).toBe("record");
      expect(emu.policies.resolve({ ...base, resource: "/now/table/incident" })).toBeUndefined();
      expect(emu.policies.resolve({ ...base, resource: "/now/table/incident/0123", method: "GET" })).toBeUndefined();
      expect(emu.policies.resolve({ ...base, resource: "/now/table/incident/0123", version: "v2" })).toBeUndefined();
      expect(emu.policies.resolve({ ...base, apiPath: "sn_em_connector/em", resource: "/sn_em_connector/em/inbound_event" })).toBeUndefined();
    });
  });

  describe("roles", () => {
    test("security tables need admin or both API-admin roles", async () => {
      makeUser(em, "both", ["api_service_admin", "adaptive_auth_policy_admin"]);
      makeUser(em, "half", ["api_service_admin"]);
      makeUser(em, "itil.user", ["itil"]);
      for (const t of [
        "api_key",
        "http_key_auth",
        "sys_api_access_policy",
        "sys_auth_profile_mapping",
        "sys_rate_limit_rules",
        "inbound_auth_profile",
        "sys_token_auth_parameter",
      ]) {
        expect((await client(em.url, ADMIN).get(`/api/now/table/${t}`)).status).toBe(200);
        expect((await client(em.url, basic("both", "pw")).get(`/api/now/table/${t}`)).status).toBe(200);
        const half = await client(em.url, basic("half", "pw")).get(`/api/now/table/${t}`);
        expect(half.status).toBe(403);
        expect(half.body.status).toBe("failure");
        expect((await client(em.url, basic("itil.user", "pw")).get(`/api/now/table/${t}`)).status).toBe(403);
      }
      const created = await client(em.url, basic("both", "pw")).post("/api/now/table/api_key", { name: "by api admin" });
      expect(created.status).toBe(201);
      const denied = await client(em.url, basic("half", "pw")).post("/api/now/table/api_key", { name: "nope" });
      expect(denied.status).toBe(403);
      expect(denied.body.error.message).toBe("Operation Failed");
    });

    test("itil reads and writes incidents; a user without roles gets 403 (not 401)", async () => {
      makeUser(em, "itil.user", ["itil"]);
      makeUser(em, "nobody", []);
      const itil = client(em.url, basic("itil.user", "pw"));
      expect((await itil.get("/api/now/table/incident")).status).toBe(200);
      expect((await itil.post("/api/now/table/incident", { short_description: "by itil" })).status).toBe(201);
      const res = await client(em.url, basic("nobody", "pw")).get("/api/now/table/incident");
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe("Insufficient rights to query records");
    });

    test("evt_mgmt_integration reads em_event", async () => {
      makeUser(em, "events", ["evt_mgmt_integration"]);
      expect((await client(em.url, basic("events", "pw")).get("/api/now/table/em_event")).status).toBe(200);
      expect((await client(em.url, basic("events", "pw")).get("/api/now/table/incident")).status).toBe(403);
    });
  });
});
