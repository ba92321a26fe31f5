/**
 * Faults that leave a client unsure whether its write happened: an error after the commit,
 * a commit that lands after the client gave up, an answer cut off mid-body.
 */
import { request, type IncomingHttpHeaders } from "node:http";
import { startServiceNowEmulator } from "../../../emulator/servicenow";
import { Faults } from "../../../emulator/servicenow/faults";
import { ADMIN, call, client } from "./helpers";
import { onEmulatorClock, untilWaiting } from "../../support/emulatorClock";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

let counter = 0;
function chosenId(): string {
  counter++;
  return `5afe${String(counter).padStart(28, "0")}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A request that gives up after timeoutMs, as a client with a short timeout would. */
function callWithTimeout(base: string, method: string, path: string, body: unknown, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { Authorization: ADMIN, Accept: "application/json" };
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(payload);
    }
    const req = request(base + path, { method, headers, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error("client timed out")));
    req.on("error", reject);
    req.end(payload);
  });
}

interface CutAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  received: number;
  complete: boolean;
  error?: string;
}

/** One request that records what arrived before the connection ended, whether or not the answer was whole. */
function callAndWatch(base: string, method: string, path: string, body?: unknown): Promise<CutAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { Authorization: ADMIN, Accept: "application/json" };
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(payload);
    }
    const req = request(base + path, { method, headers, agent: false }, (res) => {
      let received = 0;
      let error: string | undefined;
      res.on("data", (c: Buffer) => (received += c.length));
      res.on("error", (e) => (error = e.message));
      res.on("close", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, received, complete: res.complete, error }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(payload);
  });
}

describe("faults with an unknown outcome", () => {
  const em = useServiceNowEmulator();
  let api: ReturnType<typeof client>;
  beforeAll(() => {
    api = client(em.url);
  });
  beforeEach(() => {
    em.setFaults({});
  });

  describe("500 after commit (commitThenFailNext mode 500)", () => {
    const INJECTED = { error: { message: "Internal Server Error", detail: "Injected fault after commit" }, status: "failure" };

    test.each([
      ["incident", { short_description: "after-commit" }],
      ["sys_user_group", { name: "After commit group" }],
      ["api_key", { name: "after-commit key" }],
      ["cmdb_ci", { name: "after-commit ci" }],
    ])("POST to %s commits exactly one record, answers 500, and a retry with the same sys_id is refused", async (table, fields) => {
      em.setFaults({ commitThenFailNext: { count: 1, mode: "500" } });
      const id = chosenId();
      const res = await api.post(`/api/now/table/${table}`, { sys_id: id, ...fields });
      expect(res.status).toBe(500);
      expect(res.body).toEqual(INJECTED);
      expect(em.store.query(table, (r) => r.sys_id === id)).toHaveLength(1);
      const retry = await api.post(`/api/now/table/${table}`, { sys_id: id, ...fields });
      expect(retry.status).toBe(403);
      expect(retry.body.error.message).toBe("Operation Failed");
      expect(em.store.query(table, (r) => r.sys_id === id)).toHaveLength(1);
      expect((await api.get(`/api/now/table/${table}/${id}`)).status).toBe(200);
    });

    test("PATCH and PUT commit the change, then answer 500", async () => {
      const id = chosenId();
      expect((await api.post("/api/now/table/problem", { sys_id: id, short_description: "v0" })).status).toBe(201);
      em.setFaults({ commitThenFailNext: { count: 2, mode: "500", table: "problem" } });
      const patched = await api.patch(`/api/now/table/problem/${id}`, { short_description: "v1" });
      expect(patched.status).toBe(500);
      expect(patched.body).toEqual(INJECTED);
      expect(em.store.get("problem", id)?.short_description).toBe("v1");
      expect((await api.put(`/api/now/table/problem/${id}`, { short_description: "v2" })).status).toBe(500);
      expect(em.store.get("problem", id)?.short_description).toBe("v2");
      expect((await api.patch(`/api/now/table/problem/${id}`, { short_description: "v3" })).status).toBe(200);
    });

    test("DELETE removes the record, then answers 500; the retry finds nothing", async () => {
      const id = chosenId();
      expect((await api.post("/api/now/table/sys_user_group", { sys_id: id, name: "Doomed" })).status).toBe(201);
      em.setFaults({ commitThenFailNext: { count: 1, mode: "500", methods: ["DELETE"] } });
      const res = await api.del(`/api/now/table/sys_user_group/${id}`);
      expect(res.status).toBe(500);
      expect(res.body).toEqual(INJECTED);
      expect(em.store.get("sys_user_group", id)).toBeUndefined();
      expect((await api.del(`/api/now/table/sys_user_group/${id}`)).status).toBe(404);
    });

    test("a write that fails anyway keeps its own answer and does not use up the fault", async () => {
      const id = chosenId();
      await api.post("/api/now/table/incident", { sys_id: id });
      em.setFaults({ commitThenFailNext: { count: 1, mode: "500" } });
      expect((await api.post("/api/now/table/incident", { sys_id: id })).status).toBe(403);
      expect((await api.post("/api/now/table/incident", { sys_id: "not-an-id" })).status).toBe(400);
      expect((await call(em.url, "GET", "/__emulator/faults")).body.commitThenFailNext.count).toBe(1);
    });
  });

  describe("commit after a delay (lateCommitNext)", () => {
    const DELAY = 2000;

    test("the client times out, the record is absent, then appears delayMs after the request arrived", async () => {
      em.setFaults({ lateCommitNext: { count: 1, delayMs: DELAY } });
      const id = chosenId();
      await onEmulatorClock(async () => {
        const sent = callWithTimeout(em.url, "POST", "/api/now/table/incident", { sys_id: id, short_description: "late" }, 300);
        sent.catch(() => undefined);
        await untilWaiting();
        // The client's own timeout runs on the real clock: it gives up while the write is held.
        await expect(sent).rejects.toThrow("client timed out");
        expect(em.store.get("incident", id)).toBeUndefined();
        expect((await api.get(`/api/now/table/incident/${id}`)).status).toBe(404);
        await jest.advanceTimersByTimeAsync(DELAY - 1);
        expect(em.store.get("incident", id)).toBeUndefined();
        await jest.advanceTimersByTimeAsync(1);
        expect(em.store.get("incident", id)).toBeDefined();
      });
      const found = await api.get(`/api/now/table/incident/${id}`);
      expect(found.status).toBe(200);
      expect(found.body.result.short_description).toBe("late");
      expect(em.store.query("incident", (r) => r.sys_id === id)).toHaveLength(1);
    });

    test("a patient client gets no answer at all: the connection closes once the write lands", async () => {
      em.setFaults({ lateCommitNext: { count: 1, delayMs: 300, methods: ["PATCH"], table: "incident" } });
      const id = chosenId();
      expect((await api.post("/api/now/table/incident", { sys_id: id, short_description: "before" })).status).toBe(201);
      await onEmulatorClock(async () => {
        const patched = callWithTimeout(em.url, "PATCH", `/api/now/table/incident/${id}`, { short_description: "after" }, 5_000);
        patched.catch(() => undefined);
        await untilWaiting();
        await jest.advanceTimersByTimeAsync(299);
        // Held: the write has not landed and the connection is still open.
        expect(jest.getTimerCount()).toBe(1);
        expect(em.store.get("incident", id)?.short_description).toBe("before");
        await jest.advanceTimersByTimeAsync(1);
        await expect(patched).rejects.toThrow(/socket hang up|ECONNRESET/);
      });
      expect(em.store.get("incident", id)?.short_description).toBe("after");
    });

    test("reads, other tables and unauthenticated writes pass; the count is used once", async () => {
      em.setFaults({ lateCommitNext: { count: 1, delayMs: 5_000, table: "incident" } });
      expect((await api.get("/api/now/table/incident")).status).toBe(200);
      expect((await api.post("/api/now/table/problem", {})).status).toBe(201);
      expect((await call(em.url, "POST", "/api/now/table/incident", { body: {} })).status).toBe(401);
      expect((await call(em.url, "GET", "/__emulator/faults")).body.lateCommitNext.count).toBe(1);
      await expect(callWithTimeout(em.url, "POST", "/api/now/table/incident", {}, 200)).rejects.toThrow("client timed out");
      expect((await api.post("/api/now/table/incident", { short_description: "normal again" })).status).toBe(201);
      em.reset(); // cancels the held write before the next test
    });

    test("lateWritesSettled waits for a held write to land, and for nothing when none is held", async () => {
      await em.lateWritesSettled();
      em.setFaults({ lateCommitNext: { count: 1, delayMs: 300 } });
      const id = chosenId();
      await onEmulatorClock(async () => {
        const sent = callWithTimeout(em.url, "POST", "/api/now/table/incident", { sys_id: id }, 5_000);
        sent.catch(() => undefined);
        await untilWaiting();
        let settled = false;
        const waiting = em.lateWritesSettled().then(() => (settled = true));
        await jest.advanceTimersByTimeAsync(299);
        expect(settled).toBe(false);
        await jest.advanceTimersByTimeAsync(1);
        await waiting;
        // Settled means landed: the record is there the moment the wait ends.
        expect(em.store.get("incident", id)).toBeDefined();
        await expect(sent).rejects.toThrow(/socket hang up|ECONNRESET/);
      });
    });

    test("a reset cancels held writes: they never land", async () => {
      em.setFaults({ lateCommitNext: { count: 1, delayMs: 300 } });
      const id = chosenId();
      const pending = callWithTimeout(em.url, "POST", "/api/now/table/incident", { sys_id: id }, 5_000);
      pending.catch(() => undefined);
      await sleep(100);
      em.reset();
      await expect(pending).rejects.toThrow(/socket hang up|ECONNRESET/);
      await em.lateWritesSettled();
      expect(em.store.get("incident", id)).toBeUndefined();
    });

    test("stop() cancels held writes and does not wait for them", async () => {
      const other = await startServiceNowEmulator({ faults: { lateCommitNext: { count: 1, delayMs: 60_000 } } });
      await onEmulatorClock(async () => {
        const pending = callWithTimeout(other.url, "POST", "/api/now/table/incident", {}, 10_000);
        pending.catch(() => undefined);
        await untilWaiting();
        // The clock never moves: a stop that waited for the held write would never finish.
        await other.stop();
        expect(jest.getTimerCount()).toBe(0);
        await expect(pending).rejects.toThrow(/socket hang up|ECONNRESET/);
      });
    });

    test("hold() resolves true when the time is up and false when cancelled", async () => {
      const f = new Faults();
      expect(await f.hold(10)).toBe(true);
      const held = f.hold(60_000);
      f.cancelHeld();
      expect(await held).toBe(false);
    });
  });

  describe("connection reset mid-body (resetMidBodyNext)", () => {
    test("a read gets its status and headers, then part of the body, then the connection breaks", async () => {
      em.setFaults({ resetMidBodyNext: { count: 1 } });
      const cut = await callAndWatch(em.url, "GET", "/api/now/table/incident");
      expect(cut.status).toBe(200);
      expect(cut.headers["x-total-count"]).toBe("3");
      const declared = Number(cut.headers["content-length"]);
      expect(declared).toBeGreaterThan(0);
      expect(cut.received).toBeGreaterThan(0);
      expect(cut.received).toBeLessThan(declared);
      expect(cut.complete).toBe(false);
      const whole = await callAndWatch(em.url, "GET", "/api/now/table/incident");
      expect(whole.complete).toBe(true);
      expect(whole.received).toBe(Number(whole.headers["content-length"]));
    });

    test("a write is committed before its answer breaks off", async () => {
      em.setFaults({ resetMidBodyNext: { count: 1, methods: ["POST"] } });
      const id = chosenId();
      const cut = await callAndWatch(em.url, "POST", "/api/now/table/incident", { sys_id: id, short_description: "cut" });
      expect(cut.status).toBe(201);
      expect(cut.complete).toBe(false);
      expect(em.store.query("incident", (r) => r.sys_id === id)).toHaveLength(1);
    });

    test("the usual client sees an error, not a short answer", async () => {
      em.setFaults({ resetMidBodyNext: { count: 1 } });
      await expect(api.get("/api/now/table/incident")).rejects.toThrow(/aborted|ECONNRESET|socket hang up/);
    });

    test("answers without a body pass and keep the count", async () => {
      const id = chosenId();
      await api.post("/api/now/table/incident", { sys_id: id });
      em.setFaults({ resetMidBodyNext: { count: 1 } });
      expect((await api.del(`/api/now/table/incident/${id}`)).status).toBe(204);
      expect((await call(em.url, "GET", "/__emulator/faults")).body.resetMidBodyNext.count).toBe(1);
    });
  });

  test("the admin API validates the new faults", async () => {
    const put = (body: unknown) => call(em.url, "PUT", "/__emulator/faults", { body });
    expect((await put({ lateCommitNext: { count: 1, delayMs: 1200, methods: ["POST"], table: "incident" } })).status).toBe(200);
    expect((await put({ resetMidBodyNext: { count: 2, methods: ["GET"] } })).status).toBe(200);
    expect((await put({ lateCommitNext: { count: 1 } })).status).toBe(400);
    expect((await put({ lateCommitNext: { count: 1, delayMs: -1 } })).status).toBe(400);
    expect((await put({ resetMidBodyNext: { count: 1, after: 3 } })).status).toBe(400);
    expect(() => em.setFaults({ lateCommitNext: { count: -1, delayMs: 10 } })).toThrow(/lateCommitNext/);
  });
});
