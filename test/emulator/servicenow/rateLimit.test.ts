import { Emulator } from "../../../emulator/servicenow/emulator";
import { basic, client, makeUser, one } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

describe("7. rate limits", () => {
  const em = useServiceNowEmulator({}, { resetAfterEach: false });
  beforeEach(() => {
    em.setOptions({ rateLimitColumn: "max_requests_per_hour" });
    em.reset();
  });

  const rule = (fields: Record<string, unknown>) => em.store.insert("sys_rate_limit_rules", { name: "rule", max_requests_per_hour: 3, ...fields });

  test("without a rule there are no rate-limit headers", async () => {
    const res = await client(em.url).get("/api/now/table/incident");
    expect(res.status).toBe(200);
    expect(Object.keys(res.headers).filter((h) => h.startsWith("x-ratelimit"))).toEqual([]);
  });

  test("a user rule admits N requests per hour with headers, then 429 with the envelope and Retry-After", async () => {
    const user = makeUser(em, "limited", ["itil"]);
    const r = rule({ type: "User", user: user.sys_id });
    const c = client(em.url, basic("limited", "pw"));
    for (let i = 0; i < 3; i++) {
      const ok = await c.get("/api/now/table/incident");
      expect(ok.status).toBe(200);
      expect(ok.headers["x-ratelimit-limit"]).toBe("3");
      expect(ok.headers["x-ratelimit-rule"]).toBe(r.sys_id);
      const reset = Number(ok.headers["x-ratelimit-reset"]);
      expect(reset).toBeGreaterThan(Date.now() / 1000);
      expect(reset % 3600).toBe(0);
    }
    const refused = await c.get("/api/now/table/incident");
    expect(refused.status).toBe(429);
    expect(refused.body.status).toBe("failure");
    expect(refused.body.error.message).toBe("Rate limit exceeded");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(3600);
    expect(refused.headers["x-ratelimit-rule"]).toBe(r.sys_id);
    // Other users are not affected.
    expect((await client(em.url).get("/api/now/table/incident")).status).toBe(200);
  });

  test("precedence: single user > role > all users", async () => {
    const user = makeUser(em, "ranked", ["itil"]);
    const itil = one(em, "sys_user_role", (r) => r.name === "itil");
    const all = rule({ name: "all", type: "All Users", max_requests_per_hour: 1 });
    const role = rule({ name: "role", type: "Role", role: itil.sys_id, max_requests_per_hour: 2 });
    const c = client(em.url, basic("ranked", "pw"));
    expect((await c.get("/api/now/table/incident")).headers["x-ratelimit-rule"]).toBe(role.sys_id);
    const single = rule({ name: "single", type: "User", user: user.sys_id, max_requests_per_hour: 5 });
    const res = await c.get("/api/now/table/incident");
    expect(res.headers["x-ratelimit-rule"]).toBe(single.sys_id);
    expect(res.headers["x-ratelimit-limit"]).toBe("5");
    // admin holds neither the user rule nor itil: the all-users rule applies to it.
    const admin = await client(em.url).get("/api/now/table/incident");
    expect(admin.headers["x-ratelimit-rule"]).toBe(all.sys_id);
    expect((await client(em.url).get("/api/now/table/incident")).status).toBe(429);
  });

  test("inactive rules and rules for another API do not apply", async () => {
    rule({ type: "All Users", active: false, max_requests_per_hour: 0 });
    const em2 = one(em, "sys_ws_definition", (d) => d.name === "Event Management Connector API");
    rule({ type: "All Users", api: em2.sys_id, max_requests_per_hour: 0 });
    expect((await client(em.url).get("/api/now/table/incident")).status).toBe(200);
  });

  test("the per-hour column name is a switch", async () => {
    em.setOptions({ rateLimitColumn: "requests_per_hour" });
    em.store.insert("sys_rate_limit_rules", { name: "renamed", type: "All Users", requests_per_hour: 1, max_requests_per_hour: 100 });
    expect((await client(em.url).get("/api/now/table/incident")).status).toBe(200);
    const refused = await client(em.url).get("/api/now/table/incident");
    expect(refused.status).toBe(429);
    expect(refused.headers["x-ratelimit-limit"]).toBe("1");
  });

  test("counts restart each wall-clock hour", () => {
    const emu = new Emulator({});
    emu.seed();
    const admin = [...emu.store.scan("sys_user")].find((u) => u.user_name === "admin")!;
    emu.store.insert(
      emu.schema.get("sys_rate_limit_rules")!,
      { name: "r", type: "All Users", max_requests_per_hour: 1 },
      { userName: "t", trusted: true, acceptToken: false },
    );
    const call = { apiPath: "now/table", resource: "/now/table/incident", method: "GET", version: "v2", table: "incident" };
    const roles = new Set(["admin"]);
    const t0 = Date.UTC(2030, 0, 1, 10, 59, 0);
    expect(emu.rateLimiter.check(admin.sys_id, roles, call, t0).refusal).toBeUndefined();
    const refused = emu.rateLimiter.check(admin.sys_id, roles, call, t0 + 1000);
    expect(refused.refusal?.status).toBe(429);
    expect(refused.headers["Retry-After"]).toBe("59");
    expect(refused.headers["X-RateLimit-Reset"]).toBe(String(Date.UTC(2030, 0, 1, 11, 0, 0) / 1000));
    expect(emu.rateLimiter.check(admin.sys_id, roles, call, Date.UTC(2030, 0, 1, 11, 0, 1)).refusal).toBeUndefined();
  });
});
