import { startServiceNowEmulator } from "../../../emulator/servicenow";
import { allStrings, client, GLIDE_DATE, one, SYS_ID } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

describe("3. Table API", () => {
  const em = useServiceNowEmulator();
  let api: ReturnType<typeof client>;
  beforeAll(() => {
    api = client(em.url);
  });

  describe("paths and versions", () => {
    test.each(["/api/now/table", "/api/now/v1/table", "/api/now/v2/table"])("%s lists records", async (base) => {
      const res = await api.get(`${base}/incident`);
      expect(res.status).toBe(200);
      expect(res.body.result.length).toBeGreaterThanOrEqual(3);
    });

    test("an empty result is 200 [] unversioned and on v2, 404 on v1", async () => {
      for (const base of ["/api/now/table", "/api/now/v2/table"]) {
        const res = await api.get(`${base}/incident?sysparm_query=number=NONE`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ result: [] });
      }
      const v1 = await api.get("/api/now/v1/table/incident?sysparm_query=number=NONE");
      expect(v1.status).toBe(404);
      expect(v1.body.status).toBe("failure");
      expect(v1.body.error.message).toBe("No Record found");
    });

    test("an unknown table answers 400 Invalid table", async () => {
      const res = await api.get("/api/now/table/u_no_such_table");
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { message: "Invalid table u_no_such_table", detail: null }, status: "failure" });
      expect((await api.post("/api/now/table/u_no_such_table", { a: 1 })).status).toBe(400);
    });
  });

  describe("CRUD", () => {
    test("POST creates: 201, Location, whole record, 32-hex sys_id, glide dates, strings only", async () => {
      const res = await api.post("/api/now/table/incident", { short_description: "Disk full", impact: 1, urgency: 2, active: true });
      expect(res.status).toBe(201);
      const r = res.body.result;
      expect(r.sys_id).toMatch(SYS_ID);
      expect(res.headers.location).toBe(`${em.url}/api/now/table/incident/${r.sys_id}`);
      expect(r.sys_created_on).toMatch(GLIDE_DATE);
      expect(r.sys_updated_on).toMatch(GLIDE_DATE);
      expect(r.sys_created_by).toBe("admin");
      expect(r.sys_updated_by).toBe("admin");
      expect(r.sys_mod_count).toBe("0");
      expect(r.sys_class_name).toBe("incident");
      expect(r.priority).toBe("2");
      expect(r.active).toBe("true");
      expect(r.number).toMatch(/^INC\d{7}$/);
      expect(allStrings(r)).toBe(true);
    });

    test("GET by sys_id returns {result:{…}}; an unknown or malformed id is 404", async () => {
      const created = (await api.post("/api/now/table/incident", { short_description: "x" })).body.result;
      const res = await api.get(`/api/now/table/incident/${created.sys_id}`);
      expect(res.status).toBe(200);
      expect(res.body.result.sys_id).toBe(created.sys_id);
      for (const id of ["0".repeat(32), "not-a-sys-id"]) {
        const missing = await api.get(`/api/now/table/incident/${id}`);
        expect(missing.status).toBe(404);
        expect(missing.body).toEqual({
          error: { message: "No Record found", detail: "Record doesn't exist or ACL restricts the record retrieval" },
          status: "failure",
        });
      }
    });

    test("PATCH and PUT update and return the whole record; sys_mod_count grows; system fields are ignored", async () => {
      const created = (await api.post("/api/now/table/incident", { short_description: "before" })).body.result;
      const patched = await api.patch(`/api/now/table/incident/${created.sys_id}`, {
        short_description: "after",
        sys_id: "f".repeat(32),
        sys_created_on: "2000-01-01 00:00:00",
      });
      expect(patched.status).toBe(200);
      expect(patched.body.result.short_description).toBe("after");
      expect(patched.body.result.sys_id).toBe(created.sys_id);
      expect(patched.body.result.sys_created_on).toBe(created.sys_created_on);
      expect(patched.body.result.sys_mod_count).toBe("1");
      expect(patched.body.result.number).toBe(created.number);
      const put = await api.put(`/api/now/table/incident/${created.sys_id}`, { impact: "1", urgency: "1" });
      expect(put.status).toBe(200);
      expect(put.body.result.priority).toBe("1");
      expect(put.body.result.short_description).toBe("after");
      expect(put.body.result.sys_mod_count).toBe("2");
      expect((await api.patch(`/api/now/table/incident/${"0".repeat(32)}`, { priority: 1 })).status).toBe(404);
    });

    test("DELETE answers 204 without a body, then the record is gone", async () => {
      const created = (await api.post("/api/now/table/incident", { short_description: "bye" })).body.result;
      const res = await api.del(`/api/now/table/incident/${created.sys_id}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe("");
      expect((await api.get(`/api/now/table/incident/${created.sys_id}`)).status).toBe(404);
      expect((await api.del(`/api/now/table/incident/${created.sys_id}`)).status).toBe(404);
    });

    test("a sys_id supplied on insert is used", async () => {
      const id = "0123456789abcdef0123456789abcdef";
      const res = await api.post("/api/now/table/incident", { sys_id: id, short_description: "chosen id" });
      expect(res.body.result.sys_id).toBe(id);
      const dup = await api.post("/api/now/table/incident", { sys_id: id, short_description: "again" });
      expect(dup.status).toBe(403);
      expect(dup.body.status).toBe("failure");
    });

    test("writes ignore unknown fields; a missing mandatory field still inserts", async () => {
      const res = await api.post("/api/now/table/api_key", { description: "no name, no user", u_unknown: "x" });
      expect(res.status).toBe(201);
      expect(res.body.result).not.toHaveProperty("u_unknown");
      expect(res.body.result.name).toBe("");
    });

    test("booleans are stored as true/false, integers as digits, bad dates as empty", async () => {
      const res = await api.post("/api/now/table/api_key", { name: "k", active: "false", expires: "next tuesday" });
      expect(res.body.result.active).toBe("false");
      expect(res.body.result.expires).toBe("");
      const ok = await api.post("/api/now/table/api_key", { name: "k2", active: false, expires: "2031-02-03 04:05:06" });
      expect(ok.body.result.active).toBe("false");
      expect(ok.body.result.expires).toBe("2031-02-03 04:05:06");
      const inc = await api.post("/api/now/table/incident", { severity: "high", impact: 2.7 });
      expect(inc.body.result.severity).toBe("");
      expect(inc.body.result.impact).toBe("2");
    });

    test("a unique column refuses duplicates (policy name)", async () => {
      const res = await api.post("/api/now/table/sys_api_access_policy", { name: "Table GET API Access Policy" });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe("Operation Failed");
    });
  });

  describe("query parameters and headers", () => {
    beforeEach(async () => {
      for (let i = 0; i < 7; i++) await api.post("/api/now/table/incident", { short_description: `page ${i}`, category: "paging" });
    });

    test("X-Total-Count and Link (first/prev/next/last) with sysparm_limit/offset", async () => {
      const res = await api.get("/api/now/table/incident?sysparm_query=category=paging&sysparm_limit=3&sysparm_offset=3");
      expect(res.headers["x-total-count"]).toBe("7");
      expect(res.body.result.map((r: { short_description: string }) => r.short_description)).toEqual(["page 3", "page 4", "page 5"]);
      const link = String(res.headers.link);
      const rels = Object.fromEntries(
        link.split(",").map((part) => {
          const m = /<([^>]+)>;rel="(\w+)"/.exec(part)!;
          return [m[2], new URL(m[1]).searchParams.get("sysparm_offset")];
        }),
      );
      expect(rels).toEqual({ first: "0", prev: "0", next: "6", last: "6" });
      expect(link).toContain(`${em.url}/api/now/table/incident?`);
    });

    test("sysparm_no_count and sysparm_suppress_pagination_header drop the headers", async () => {
      const res = await api.get("/api/now/table/incident?sysparm_no_count=true&sysparm_suppress_pagination_header=true");
      expect(res.headers["x-total-count"]).toBeUndefined();
      expect(res.headers.link).toBeUndefined();
    });

    test("sysparm_fields: chosen columns only, unknown names dropped, dot-walked names as flat keys", async () => {
      const res = await api.get(
        "/api/now/table/incident?sysparm_query=short_description=Email server is not responding&sysparm_fields=number,caller_id.user_name,caller_id.name,u_nope,assignment_group.name",
      );
      expect(res.body.result).toEqual([
        { number: expect.stringMatching(/^INC/), "caller_id.user_name": "abel.tuter", "caller_id.name": "Abel Tuter", "assignment_group.name": "Service Desk" },
      ]);
    });

    test("references are {link, value}; exclude_reference_link gives the bare sys_id; empty references are ''", async () => {
      const caller = one(em, "sys_user", (u) => u.user_name === "abel.tuter");
      const res = await api.get("/api/now/table/incident?sysparm_query=category=inquiry&sysparm_limit=1&sysparm_fields=caller_id,assigned_to");
      expect(res.body.result[0].caller_id).toEqual({ link: `${em.url}/api/now/table/sys_user/${caller.sys_id}`, value: caller.sys_id });
      expect(res.body.result[0].assigned_to).toBe("");
      const bare = await api.get(
        "/api/now/table/incident?sysparm_query=category=inquiry&sysparm_limit=1&sysparm_fields=caller_id&sysparm_exclude_reference_link=true",
      );
      expect(bare.body.result[0].caller_id).toBe(caller.sys_id);
    });

    test("sysparm_display_value true / all / false", async () => {
      const caller = one(em, "sys_user", (u) => u.user_name === "abel.tuter");
      const q = "/api/now/table/incident?sysparm_query=category=inquiry&sysparm_limit=1&sysparm_fields=caller_id,priority";
      const t = await api.get(`${q}&sysparm_display_value=true`);
      expect(t.body.result[0].caller_id).toEqual({ display_value: "Abel Tuter", link: `${em.url}/api/now/table/sys_user/${caller.sys_id}` });
      expect(typeof t.body.result[0].priority).toBe("string");
      const all = await api.get(`${q}&sysparm_display_value=all`);
      expect(all.body.result[0].caller_id).toEqual({
        display_value: "Abel Tuter",
        link: `${em.url}/api/now/table/sys_user/${caller.sys_id}`,
        value: caller.sys_id,
      });
      expect(all.body.result[0].priority).toEqual({ display_value: expect.any(String), value: expect.any(String) });
      const tx = await api.get(`${q}&sysparm_display_value=true&sysparm_exclude_reference_link=true`);
      expect(tx.body.result[0].caller_id).toBe("Abel Tuter");
      const f = await api.get(`${q}&sysparm_display_value=false`);
      expect(f.body.result[0].caller_id.value).toBe(caller.sys_id);
    });

    test("sysparm_input_display_value: references can be written by display value", async () => {
      const caller = one(em, "sys_user", (u) => u.user_name === "abel.tuter");
      const res = await api.post("/api/now/table/incident?sysparm_input_display_value=true", { short_description: "by name", caller_id: "Abel Tuter" });
      expect(res.body.result.caller_id.value).toBe(caller.sys_id);
    });

    test("plain field=value parameters filter", async () => {
      const res = await api.get("/api/now/table/incident?category=paging&short_description=page 2");
      expect(res.body.result).toHaveLength(1);
      expect(res.body.result[0].short_description).toBe("page 2");
    });
  });

  describe("tables and schema", () => {
    test("child-table records appear in the parent table with their sys_class_name", async () => {
      em.setOptions({ restApiKeyProfile: "active" });
      try {
        const res = await api.get("/api/now/table/inbound_auth_profile?sysparm_fields=name,sys_class_name");
        const classes = res.body.result.map((r: { sys_class_name: string }) => r.sys_class_name);
        expect(classes).toEqual(expect.arrayContaining(["std_http_auth", "http_key_auth"]));
        const tasks = await api.get("/api/now/table/task?sysparm_fields=number,sys_class_name");
        expect(tasks.body.result.every((r: { sys_class_name: string }) => r.sys_class_name === "incident")).toBe(true);
        const key = one(em, "http_key_auth", (r) => r.name === "Rest api key policy");
        expect((await api.get(`/api/now/table/inbound_auth_profile/${key.sys_id}`)).body.result.sys_class_name).toBe("http_key_auth");
      } finally {
        em.setOptions({ restApiKeyProfile: "absent" });
      }
    });

    test("sys_dictionary describes the known tables' columns (types, references, mandatory)", async () => {
      const res = await api.get(
        "/api/now/table/sys_dictionary?sysparm_query=name=api_key^elementISNOTEMPTY&sysparm_fields=element,internal_type,reference,mandatory",
      );
      const cols = Object.fromEntries(res.body.result.map((r: Record<string, string>) => [r.element, r]));
      expect(cols.user).toMatchObject({ internal_type: "reference", reference: "sys_user", mandatory: "true" });
      expect(cols.expires.internal_type).toBe("glide_date_time");
      expect(cols.token.internal_type).toBe("password2");
      expect(cols.auth_scope).toMatchObject({ internal_type: "glide_list", reference: "sys_auth_scope" });
      const rl = await api.get("/api/now/table/sys_dictionary?sysparm_query=name=sys_rate_limit_rules^internal_type=integer&sysparm_fields=element");
      expect(rl.body.result.map((r: { element: string }) => r.element)).toContain("max_requests_per_hour");
    });

    test("column-name switches show in sys_dictionary", async () => {
      const other = await startServiceNowEmulator({ rateLimitColumn: "requests_per_hour", authScopeColumn: "scopes" });
      try {
        const c = client(other.url);
        const rl = await c.get(
          "/api/now/table/sys_dictionary?sysparm_query=name=sys_rate_limit_rules^internal_type=integer^elementNOT LIKEsys_&sysparm_fields=element",
        );
        expect(rl.body.result.map((r: { element: string }) => r.element)).toEqual(["requests_per_hour"]);
        const ak = await c.get("/api/now/table/sys_dictionary?sysparm_query=name=api_key^internal_type=glide_list&sysparm_fields=element");
        expect(ak.body.result.map((r: { element: string }) => r.element)).toEqual(["scopes"]);
      } finally {
        await other.stop();
      }
    });

    test("sys_db_object lists tables; http_key_auth extends inbound_auth_profile", async () => {
      const res = await api.get("/api/now/table/sys_db_object?sysparm_query=name=http_key_auth&sysparm_fields=name,super_class&sysparm_display_value=all");
      expect(res.body.result[0].super_class.display_value).toBe("inbound_auth_profile");
      expect(res.body.result[0].super_class.value).toMatch(SYS_ID);
      expect((await api.post("/api/now/table/sys_db_object", { name: "u_x" })).status).toBe(403);
    });

    test("every record carries the system fields", async () => {
      for (const t of ["sys_user", "api_key", "sys_api_access_policy", "em_event", "sn_em_connector_push_instance"]) {
        await api.post(`/api/now/table/${t}`, { name: "x" });
        const res = await api.get(`/api/now/table/${t}?sysparm_limit=1`);
        for (const f of ["sys_id", "sys_created_on", "sys_updated_on", "sys_created_by", "sys_updated_by", "sys_mod_count", "sys_class_name"]) {
          expect(res.body.result[0]).toHaveProperty(f);
        }
        expect(res.body.result[0].sys_class_name).toBe(t);
      }
    });
  });
});
