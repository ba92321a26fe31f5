import { startServiceNowEmulator } from "../../../emulator/servicenow";
import { ADMIN, basic, client, makeUser, one, SYS_ID } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

describe("2. seeded like a fresh instance", () => {
  const em = useServiceNowEmulator();

  test("admin/admin works over basic auth and holds the admin role", async () => {
    const res = await client(em.url).get("/api/now/table/sys_user?sysparm_query=user_name=admin");
    expect(res.status).toBe(200);
    const admin = res.body.result[0];
    expect(admin.user_name).toBe("admin");
    expect(admin.active).toBe("true");
    expect(admin).not.toHaveProperty("user_password");
    const grants = await client(em.url).get(`/api/now/table/sys_user_has_role?sysparm_query=user=${admin.sys_id}&sysparm_fields=role.name,state`);
    expect(grants.body.result).toEqual([{ "role.name": "admin", state: "active" }]);
    expect((await client(em.url, basic("admin", "wrong")).get("/api/now/table/incident")).status).toBe(401);
  });

  test("the admin password can be chosen", async () => {
    const other = await startServiceNowEmulator({ adminPassword: "s3cret" });
    try {
      expect((await client(other.url, basic("admin", "s3cret")).get("/api/now/table/incident")).status).toBe(200);
      expect((await client(other.url, ADMIN).get("/api/now/table/incident")).status).toBe(401);
    } finally {
      await other.stop();
    }
  });

  test("the roles named by the platform docs exist", async () => {
    const res = await client(em.url).get("/api/now/table/sys_user_role?sysparm_fields=name");
    const names = res.body.result.map((r: { name: string }) => r.name);
    for (const role of ["admin", "itil", "evt_mgmt_integration", "api_service_admin", "adaptive_auth_policy_admin", "snc_basic_auth_api_access"]) {
      expect(names).toContain(role);
    }
  });

  test("the token-based auth plugin is active in sys_plugins", async () => {
    const res = await client(em.url).get("/api/now/table/sys_plugins?sysparm_query=id=com.glide.tokenbased_auth");
    expect(res.body.result).toHaveLength(1);
    expect(res.body.result[0].active).toBe("active");
  });

  test("the two x-sn-apikey auth parameters (header and query) are shipped", async () => {
    const res = await client(em.url).get("/api/now/table/sys_token_auth_parameter?sysparm_fields=parameter_name,type,sys_id&sysparm_display_value=all");
    const rows = res.body.result.map((r: Record<string, { value: string; display_value: string }>) => [r.parameter_name.value, r.type.value]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ["x-sn-apikey", "auth_header"],
        ["x-sn-apikey", "query_parameter"],
      ]),
    );
    expect(rows).toHaveLength(2);
  });

  test("the basic-auth inbound profile is shipped, with its trailing space", async () => {
    const res = await client(em.url).get("/api/now/table/std_http_auth?sysparm_query=type=basic_auth");
    expect(res.body.result.map((r: { name: string }) => r.name)).toContain("BasicAuth for none public processors ");
  });

  test("the Table GET and POST API access policies are shipped, active, per method, limited to a table list, mapped to basic auth", async () => {
    const res = await client(em.url).get("/api/now/table/sys_api_access_policy?sysparm_query=nameSTARTSWITHTable ^ORDERBYname");
    expect(res.body.result.map((p: { name: string }) => p.name)).toEqual(["Table GET API Access Policy", "Table POST API Access Policy"]);
    for (const p of res.body.result) {
      expect(p.active).toBe("true");
      expect(p.api_path).toBe("now/table");
      expect(p.apply_all_methods).toBe("false");
      expect(p.api_tablename.split(",")).toEqual(
        expect.arrayContaining(["incident", "problem", "change_request", "task", "sys_user", "sys_user_group", "cmdb_ci"]),
      );
      const maps = await client(em.url).get(
        `/api/now/table/sys_auth_profile_mapping?sysparm_query=api_access_policy=${p.sys_id}&sysparm_fields=inbound_auth_profile.name`,
      );
      expect(maps.body.result.map((m: Record<string, string>) => m["inbound_auth_profile.name"])).toContain("BasicAuth for none public processors ");
    }
    expect(res.body.result.map((p: { http_method: string }) => p.http_method)).toEqual(["GET", "POST"]);
  });

  test("an Event Management push connector definition for source aws and one instance are seeded", async () => {
    const defs = await client(em.url).get("/api/now/table/sn_em_connector_listener?sysparm_query=source=aws");
    expect(defs.body.result).toHaveLength(1);
    const inst = await client(em.url).get("/api/now/table/sn_em_connector_push_instance");
    expect(inst.body.result).toHaveLength(1);
    expect(inst.body.result[0].name).toBe("AWS SNS push connector");
    expect(inst.body.result[0].active).toBe("true");
    expect(inst.body.result[0].push_connector_definition.value).toBe(defs.body.result[0].sys_id);
  });

  test("a few incidents with INC numbers exist; the useraccount auth scope exists", async () => {
    const res = await client(em.url).get("/api/now/table/incident");
    expect(res.body.result.length).toBeGreaterThanOrEqual(3);
    for (const i of res.body.result) expect(i.number).toMatch(/^INC\d{7}$/);
    const scope = await client(em.url).get("/api/now/table/sys_auth_scope?sysparm_query=name=useraccount");
    expect(scope.body.result[0].label).toBe("UserAccount");
  });

  test("seeded sys_ids are random per store", async () => {
    const other = await startServiceNowEmulator();
    try {
      const a = one(em, "sys_user", (u) => u.user_name === "admin").sys_id;
      const b = one(other, "sys_user", (u) => u.user_name === "admin").sys_id;
      expect(a).toMatch(SYS_ID);
      expect(b).toMatch(SYS_ID);
      expect(a).not.toBe(b);
    } finally {
      await other.stop();
    }
  });

  describe("switches", () => {
    afterEach(() => em.setOptions({ plugin: "active", shippedPolicies: "active", restApiKeyProfile: "absent", basicAuthRestriction: false }));

    test("plugin inactive: the sys_plugins row says inactive and the plugin's tables do not exist", async () => {
      em.setOptions({ plugin: "inactive" });
      const res = await client(em.url).get("/api/now/table/sys_plugins?sysparm_query=id=com.glide.tokenbased_auth");
      expect(res.body.result[0].active).toBe("inactive");
      const keys = await client(em.url).get("/api/now/table/api_key");
      expect(keys.status).toBe(400);
      expect(keys.body.error.message).toBe("Invalid table api_key");
    });

    test("plugin absent: no sys_plugins row; api_key and http_key_auth answer 400 Invalid table", async () => {
      em.setOptions({ plugin: "absent" });
      expect((await client(em.url).get("/api/now/table/sys_plugins?sysparm_query=id=com.glide.tokenbased_auth")).body.result).toEqual([]);
      for (const t of ["api_key", "http_key_auth"]) {
        const res = await client(em.url).get(`/api/now/table/${t}`);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ error: { message: `Invalid table ${t}`, detail: null }, status: "failure" });
      }
      // Child rows of a missing class disappear from the parent table too.
      em.setOptions({ plugin: "active", restApiKeyProfile: "active" });
      em.setOptions({ plugin: "absent" });
      const parent = await client(em.url).get("/api/now/table/inbound_auth_profile?sysparm_fields=sys_class_name");
      expect(parent.body.result.map((r: { sys_class_name: string }) => r.sys_class_name)).not.toContain("http_key_auth");
    });

    test("plugin absent as a start option", async () => {
      const other = await startServiceNowEmulator({ plugin: "absent" });
      try {
        expect((await client(other.url).get("/api/now/table/api_key")).status).toBe(400);
      } finally {
        await other.stop();
      }
    });

    test("shipped policies inactive", async () => {
      em.setOptions({ shippedPolicies: "inactive" });
      const res = await client(em.url).get("/api/now/table/sys_api_access_policy?sysparm_query=nameSTARTSWITHTable ");
      expect(res.body.result.map((p: { active: string }) => p.active)).toEqual(["false", "false"]);
      const other = await startServiceNowEmulator({ shippedPolicies: "inactive" });
      try {
        const r = await client(other.url).get("/api/now/table/sys_api_access_policy?sysparm_query=active=true^nameSTARTSWITHTable ");
        expect(r.body.result).toEqual([]);
      } finally {
        await other.stop();
      }
    });

    test("the 'Rest api key policy' profile: absent by default, or seeded active / inactive", async () => {
      const q = "/api/now/table/http_key_auth?sysparm_query=name=Rest api key policy";
      expect((await client(em.url).get(q)).body.result).toEqual([]);
      em.setOptions({ restApiKeyProfile: "active" });
      const active = (await client(em.url).get(q)).body.result;
      expect(active).toHaveLength(1);
      expect(active[0].active).toBe("true");
      expect(active[0].auth_parameter.value).toMatch(SYS_ID);
      em.setOptions({ restApiKeyProfile: "inactive" });
      expect((await client(em.url).get(q)).body.result[0].active).toBe("false");
      em.setOptions({ restApiKeyProfile: "absent" });
      expect((await client(em.url).get(q)).body.result).toEqual([]);
    });

    test("the query-parameter auth row's type is a switch", async () => {
      em.setOptions({ queryParameterType: "query" });
      const res = await client(em.url).get("/api/now/table/sys_token_auth_parameter?sysparm_query=type!=auth_header");
      expect(res.body.result[0].type).toBe("query");
      em.setOptions({ queryParameterType: "query_parameter" });
    });

    test("Basic Auth Restriction: admin refused like a bad password; snc_basic_auth_api_access or web-service-only users admitted", async () => {
      makeUser(em, "ws.only", ["itil"], { web_service_access_only: true });
      makeUser(em, "allowed", ["itil", "snc_basic_auth_api_access"]);
      makeUser(em, "plain", ["itil"]);
      em.setOptions({ basicAuthRestriction: true });
      const refused = await client(em.url).get("/api/now/table/incident");
      const badPassword = await client(em.url, basic("admin", "nope")).get("/api/now/table/incident");
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual(badPassword.body);
      expect((await client(em.url, basic("plain", "pw")).get("/api/now/table/incident")).status).toBe(401);
      expect((await client(em.url, basic("ws.only", "pw")).get("/api/now/table/incident")).status).toBe(200);
      expect((await client(em.url, basic("allowed", "pw")).get("/api/now/table/incident")).status).toBe(200);
      em.setOptions({ basicAuthRestriction: false });
      expect((await client(em.url).get("/api/now/table/incident")).status).toBe(200);
    });

    test("Basic Auth Restriction as a start option", async () => {
      const other = await startServiceNowEmulator({ basicAuthRestriction: true });
      try {
        expect((await client(other.url).get("/api/now/table/incident")).status).toBe(401);
      } finally {
        await other.stop();
      }
    });
  });
});
