import { startServiceNowEmulator } from "../../../emulator/servicenow";
import { Faults } from "../../../emulator/servicenow/faults";
import { call, client } from "./helpers";
import { onEmulatorClock, untilWaiting } from "../../support/emulatorClock";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

describe("7. fault injection and the admin API", () => {
  const em = useServiceNowEmulator();
  let api: ReturnType<typeof client>;
  beforeAll(() => {
    api = client(em.url);
  });
  beforeEach(() => {
    em.setFaults({});
  });

  const admin = (method: string, path: string, body?: unknown) => call(em.url, method, `/__emulator/${path}`, { body });

  describe("faults", () => {
    test("fixed latency holds every answer for latencyMs", async () => {
      em.setFaults({ latencyMs: 150 });
      await onEmulatorClock(async () => {
        const answer = api.get("/api/now/table/incident?sysparm_limit=1");
        await untilWaiting();
        await jest.advanceTimersByTimeAsync(149);
        // Still held one millisecond short of the latency; answered once it has passed.
        expect(jest.getTimerCount()).toBe(1);
        await jest.advanceTimersByTimeAsync(1);
        expect(jest.getTimerCount()).toBe(0);
        expect((await answer).status).toBe(200);
      });
    });

    test("jitter adds between 0 and jitterMs", () => {
      const f = new Faults();
      f.set({ latencyMs: 10, jitterMs: 20 });
      for (let i = 0; i < 200; i++) {
        const d = f.delayMs();
        expect(d).toBeGreaterThanOrEqual(10);
        expect(d).toBeLessThanOrEqual(30);
      }
    });

    test("errorRate answers an even, deterministic share with 500/502/503", async () => {
      em.setFaults({ errorRate: 0.5 });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await api.get("/api/now/table/incident?sysparm_limit=1")).status);
      expect(statuses).toEqual([200, 500, 200, 502, 200, 503]);
      const failed = await (async () => {
        em.setFaults({ errorRate: 1 });
        return api.get("/api/now/table/incident");
      })();
      expect(failed.body.status).toBe("failure");
    });

    test("errorRate keeps a count per kind of request, so another client's requests cannot make one kind fail every time", async () => {
      // One counter for all requests would answer every request of one kind with 200 and every one of the other with an error.
      em.setFaults({ errorRate: 0.5 });
      const incident: number[] = [];
      const user: number[] = [];
      for (let i = 0; i < 4; i++) {
        incident.push((await api.get("/api/now/table/incident?sysparm_limit=1")).status);
        user.push((await api.get("/api/now/table/sys_user?sysparm_limit=1")).status);
      }
      expect(incident.map((s) => s === 200)).toEqual([true, false, true, false]);
      expect(user.map((s) => s === 200)).toEqual([true, false, true, false]);
    });

    test("failNext: a 429 burst with Retry-After, then normal service", async () => {
      em.setFaults({ failNext: { count: 2, status: 429, retryAfterSeconds: 7 } });
      for (let i = 0; i < 2; i++) {
        const res = await api.get("/api/now/table/incident");
        expect(res.status).toBe(429);
        expect(res.headers["retry-after"]).toBe("7");
        expect(res.body.error.message).toBe("Rate limit exceeded");
      }
      expect((await api.get("/api/now/table/incident")).status).toBe(200);
    });

    test("failNext honours method and table filters", async () => {
      em.setFaults({ failNext: { count: 1, status: 503, methods: ["POST"], table: "incident" } });
      expect((await api.get("/api/now/table/incident")).status).toBe(200);
      expect((await api.post("/api/now/table/problem", {})).status).toBe(201);
      expect((await api.post("/api/now/table/incident", {})).status).toBe(503);
      expect((await api.post("/api/now/table/incident", {})).status).toBe(201);
    });

    test("dropNext destroys the connection without an answer", async () => {
      em.setFaults({ dropNext: { count: 1 } });
      await expect(api.get("/api/now/table/incident")).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect((await api.get("/api/now/table/incident")).status).toBe(200);
    });

    test("commitThenFailNext drop: the write happens, the answer is lost", async () => {
      em.setFaults({ commitThenFailNext: { count: 1, mode: "drop" } });
      await expect(api.post("/api/now/table/incident", { short_description: "committed then dropped" })).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(em.store.query("incident", (r) => r.short_description === "committed then dropped")).toHaveLength(1);
    });

    test("commitThenFailNext 500: the write happens, the client sees 500; reads are not affected", async () => {
      em.setFaults({ commitThenFailNext: { count: 1, mode: "500" } });
      expect((await api.get("/api/now/table/incident")).status).toBe(200);
      const res = await api.post("/api/now/table/incident", { short_description: "committed then 500" });
      expect(res.status).toBe(500);
      expect(em.store.query("incident", (r) => r.short_description === "committed then 500")).toHaveLength(1);
      const created = em.store.query("incident", (r) => r.short_description === "committed then 500")[0];
      em.setFaults({ commitThenFailNext: { count: 1, mode: "500", methods: ["DELETE"] } });
      expect((await api.del(`/api/now/table/incident/${created.sys_id}`)).status).toBe(500);
      expect(em.store.get("incident", created.sys_id)).toBeUndefined();
    });

    test("faults set at start", async () => {
      const other = await startServiceNowEmulator({ faults: { failNext: { count: 1, status: 502 } } });
      try {
        expect((await client(other.url).get("/api/now/table/incident")).status).toBe(502);
        expect((await client(other.url).get("/api/now/table/incident")).status).toBe(200);
      } finally {
        await other.stop();
      }
    });
  });

  describe("admin API", () => {
    test("GET metrics counts requests per method, table and route; admin calls are not counted", async () => {
      em.resetMetrics();
      await api.get("/api/now/table/incident");
      await api.get("/api/now/table/incident");
      await api.post("/api/now/table/problem", {});
      await call(em.url, "POST", "/oauth_token.do", { rawBody: "grant_type=password" });
      await admin("GET", "faults");
      const res = await admin("GET", "metrics");
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        total: 4,
        byMethod: { GET: 2, POST: 2 },
        byTable: { incident: { GET: 2 }, problem: { POST: 1 } },
        byRoute: { "GET now/table": 2, "POST now/table": 1, "POST /oauth_token.do": 1 },
      });
      expect(em.metrics()).toEqual(res.body);
      expect((await admin("POST", "metrics/reset")).status).toBe(204);
      expect((await admin("GET", "metrics")).body.total).toBe(0);
    });

    test("GET|PUT faults replaces the settings and validates them", async () => {
      const put = await admin("PUT", "faults", { failNext: { count: 1, status: 503 } });
      expect(put.status).toBe(200);
      expect((await admin("GET", "faults")).body).toEqual({ failNext: { count: 1, status: 503 } });
      expect((await api.get("/api/now/table/incident")).status).toBe(503);
      expect((await admin("GET", "faults")).body.failNext.count).toBe(0);
      const bad = await admin("PUT", "faults", { errorRate: 2 });
      expect(bad.status).toBe(400);
      expect((await call(em.url, "PUT", "/__emulator/faults", { rawBody: "{nope" })).status).toBe(400);
      expect((await admin("PUT", "faults", { bogus: 1 })).status).toBe(400);
    });

    test("GET|PATCH options switches variants at run time; the admin password is not echoed", async () => {
      const got = await admin("GET", "options");
      expect(got.body).toMatchObject({ plugin: "active", shippedPolicies: "active", tokenReadback: "none", basicAuthRestriction: false });
      expect(got.body).not.toHaveProperty("adminPassword");
      const patched = await admin("PATCH", "options", { plugin: "absent" });
      expect(patched.status).toBe(200);
      expect(patched.body.plugin).toBe("absent");
      expect((await api.get("/api/now/table/api_key")).status).toBe(400);
      expect((await admin("PATCH", "options", { plugin: "sometimes" })).status).toBe(400);
      await admin("PATCH", "options", { plugin: "active" });
      expect((await api.get("/api/now/table/api_key")).status).toBe(200);
    });

    test("POST reset restores the seed", async () => {
      await api.post("/api/now/table/incident", { short_description: "temporary" });
      expect(em.store.query("incident", (r) => r.short_description === "temporary")).toHaveLength(1);
      expect((await admin("POST", "reset")).status).toBe(204);
      expect(em.store.query("incident", (r) => r.short_description === "temporary")).toHaveLength(0);
      expect(em.store.query("incident")).toHaveLength(3);
      expect(em.metrics().total).toBe(0);
    });

    test("unknown admin routes answer 404", async () => {
      expect((await admin("GET", "nothing")).status).toBe(404);
    });
  });
});
