import type * as http from "node:http";
import { ServiceNowConnection } from "../../../resources/servicenow/client/connection";
import { ServiceNowError, TableClient } from "../../../resources/servicenow/client/tableClient";
import { RetryPolicy } from "../../../resources/core/retry";
import { HttpStub, StubRequest, dropConnection, hang, sendSnError, startHttpStub } from "../../support/httpStub";
import { FakeClock, fakeClock } from "../../core/fakeClock";
import { StubTable, stubTable } from "./stubTable";

let stub: HttpStub;
let table: StubTable;
let clock: FakeClock;

beforeAll(async () => {
  stub = await startHttpStub(() => undefined);
});
afterAll(() => stub.stop());
beforeEach(() => {
  stub.requests.length = 0;
  table = stubTable("incident");
  stub.setHandler((req, res) => table.handle(req, res));
  clock = fakeClock();
});

function client(retry: Partial<RetryPolicy> = {}, timeoutMs?: number): TableClient {
  const conn = new ServiceNowConnection({ instance: stub.url, credentials: { kind: "basic", username: "admin", password: "admin-pw" } });
  return new TableClient(conn, { retry: { ...clock, ...retry }, ...(timeoutMs ? { timeoutMs } : {}) });
}

/** Fail the first `n` requests with `fail`, then behave normally. */
function failFirst(n: number, fail: (res: http.ServerResponse) => void): void {
  let left = n;
  table.before = (_req, res) => {
    if (left <= 0) return false;
    left--;
    fail(res);
    return true;
  };
}

async function failure(p: Promise<unknown>): Promise<ServiceNowError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ServiceNowError);
    return e as ServiceNowError;
  }
  throw new Error("expected a failure");
}

const posts = () => stub.requests.filter((r) => r.method === "POST").length;

describe("retries", () => {
  it("waits as long as Retry-After (seconds) says on 429", async () => {
    failFirst(1, (res) => sendSnError(res, 429, "Rate limit exceeded", "", { "Retry-After": "7", "X-RateLimit-Rule": "keywire test" }));
    expect(await client().list("incident")).toEqual([]);
    expect(clock.waits).toEqual([7000]);
    expect(stub.requests).toHaveLength(2);
  });

  it("honours Retry-After as an HTTP date", async () => {
    failFirst(1, (res) => sendSnError(res, 429, "Rate limit exceeded", "", { "Retry-After": new Date(clock.now() + 12_000).toUTCString() }));
    await client().list("incident");
    expect(clock.waits).toHaveLength(1);
    expect(clock.waits[0]).toBeGreaterThan(10_000);
    expect(clock.waits[0]).toBeLessThanOrEqual(12_000);
  });

  it("honours X-RateLimit-Reset when there is no Retry-After", async () => {
    const reset = Math.ceil((clock.now() + 5000) / 1000);
    failFirst(1, (res) => sendSnError(res, 429, "Rate limit exceeded", "", { "X-RateLimit-Reset": String(reset) }));
    await client().list("incident");
    expect(clock.waits[0]).toBeGreaterThan(4000);
    expect(clock.waits[0]).toBeLessThanOrEqual(6000);
  });

  it.each([502, 503, 504])("retries a GET on %i", async (status) => {
    failFirst(2, (res) => sendSnError(res, status, "Service Unavailable"));
    expect(await client().list("incident")).toEqual([]);
    expect(stub.requests).toHaveLength(3);
    expect(clock.waits).toHaveLength(2);
  });

  it("retries a GET whose connection was dropped", async () => {
    failFirst(1, dropConnection);
    expect(await client().list("incident")).toEqual([]);
    expect(stub.requests).toHaveLength(2);
  });

  it("gives up after maxAttempts with a clear error", async () => {
    failFirst(100, (res) => sendSnError(res, 503, "Service Unavailable"));
    const e = await failure(client({ maxAttempts: 3 }).list("incident"));
    expect(stub.requests).toHaveLength(3);
    expect(e.status).toBe(503);
    expect(e.attempts).toBe(3);
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/list incident failed \(HTTP 503\).*unhealthy.*gave up after 3 attempts/);
  });

  it("gives up when the time budget is spent", async () => {
    clock = fakeClock(0.99);
    failFirst(100, (res) => sendSnError(res, 503, "Service Unavailable"));
    const e = await failure(client({ maxAttempts: 10, totalBudgetMs: 10_000, baseDelayMs: 4000, maxDelayMs: 60_000 }).list("incident"));
    expect(stub.requests).toHaveLength(2);
    expect(e.message).toMatch(/retry time budget is spent/);
  });

  it("gives up at once when the rate limit resets beyond the budget, naming the rule and the reset time", async () => {
    const reset = Math.ceil(clock.now() / 1000) + 3600;
    failFirst(100, (res) =>
      sendSnError(res, 429, "Rate limit exceeded", "", { "Retry-After": "3600", "X-RateLimit-Reset": String(reset), "X-RateLimit-Rule": "Table API hourly" }),
    );
    const e = await failure(client().list("incident"));
    expect(stub.requests).toHaveLength(1);
    expect(clock.waits).toEqual([]);
    expect(e.status).toBe(429);
    expect(e.rateLimitRule).toBe("Table API hourly");
    expect(e.message).toContain('"Table API hourly"');
    expect(e.message).toContain(new Date(reset * 1000).toISOString());
    expect(e.hint).toContain("sys_rate_limit_rules");
  });

  it("times out a request that gets no answer, retries GETs, then gives up", async () => {
    table.before = () => {
      hang();
      return true;
    };
    const e = await failure(client({ maxAttempts: 2 }, 300).list("incident"));
    expect(e.kind).toBe("timeout");
    expect(stub.requests).toHaveLength(2);
    expect(e.message).toMatch(/no complete answer/);
    // One backoff between the two attempts, on the fake clock.
    expect(clock.waits).toHaveLength(1);
  });
});

describe("writes with unknown outcome", () => {
  const sentSysId = (i = 0) => (JSON.parse(stub.requests.filter((r) => r.method === "POST")[i].body) as Record<string, string>).sys_id;

  it("every create sends a sys_id of its own choosing: 32 lowercase hex, new each time", async () => {
    const a = await client().create("incident", { short_description: "a" });
    const b = await client().create("incident", { short_description: "b" });
    expect(sentSysId(0)).toMatch(/^[0-9a-f]{32}$/);
    expect(a.sys_id).toBe(sentSysId(0));
    expect(b.sys_id).toBe(sentSysId(1));
    expect(a.sys_id).not.toBe(b.sys_id);
  });

  it("POST dropped after the record was stored: found by its sys_id, exactly one POST and one record", async () => {
    let dropped = false;
    table.after = (req, res) => {
      if (req.method !== "POST" || dropped) return false;
      dropped = true;
      dropConnection(res);
      return true;
    };
    const rec = await client().create("incident", { short_description: "only once" });
    expect(posts()).toBe(1);
    expect(stub.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/now/table/incident", `GET /api/now/table/incident/${sentSysId()}`]);
    expect(table.rows.size).toBe(1);
    expect(rec.sys_id).toBe(sentSysId());
    expect(rec.short_description).toBe("only once");
  });

  it("a record with the same natural key made by someone else is never taken for ours", async () => {
    table.rows.set("a".repeat(32), { sys_id: "a".repeat(32), short_description: "same name" });
    failFirst(1, dropConnection);
    const rec = await client().create("incident", { short_description: "same name" });
    expect(rec.sys_id).not.toBe("a".repeat(32));
    expect(rec.sys_id).toBe(sentSysId(0));
    expect(table.rows.size).toBe(2);
  });

  it("POST dropped before commit: checked by sys_id, then retried with the same sys_id, one record", async () => {
    failFirst(1, dropConnection);
    const rec = await client().create("incident", { short_description: "second try" });
    expect(posts()).toBe(2);
    expect(stub.requests.map((r) => r.method)).toEqual(["POST", "GET", "POST"]);
    expect(sentSysId(1)).toBe(sentSysId(0));
    expect(table.rows.size).toBe(1);
    expect(rec.short_description).toBe("second try");
  });

  it("POST timing out after commit is resolved the same way", async () => {
    let slow = true;
    table.after = (req) => {
      if (req.method !== "POST" || !slow) return false;
      slow = false;
      return true; // stored, never answered
    };
    const rec = await client({}, 300).create("incident", { short_description: "slow" });
    expect(posts()).toBe(1);
    expect(table.rows.size).toBe(1);
    expect(rec.short_description).toBe("slow");
  });

  it("a write that lands after the check is refused as a duplicate on the retry, then found: one record", async () => {
    // The first POST is held and stored only after the client's check found nothing.
    let phase: "first" | "held" | "landed" = "first";
    let held: StubRequest | undefined;
    const nowhere = { writeHead: () => undefined, end: () => undefined, setHeader: () => undefined } as unknown as http.ServerResponse;
    table.before = (req, res) => {
      if (req.method === "POST" && phase === "first") {
        phase = "held";
        held = req;
        dropConnection(res);
        return true;
      }
      if (req.method === "GET" && phase === "held") {
        phase = "landed";
        setImmediate(() => table.handle(held!, nowhere));
      }
      return false;
    };
    const rec = await client().create("incident", { short_description: "late" });
    expect(table.rows.size).toBe(1);
    expect(rec.sys_id).toBe(sentSysId(0));
    expect(rec.short_description).toBe("late");
  });

  it("POST answered 502 or 500 after commit is checked by sys_id, not repeated", async () => {
    for (const status of [502, 500]) {
      table.rows.clear();
      stub.requests.length = 0;
      let once = true;
      table.after = (req, res) => {
        if (req.method !== "POST" || !once) return false;
        once = false;
        sendSnError(res, status, status === 500 ? "Internal Server Error" : "Bad Gateway");
        return true;
      };
      const rec = await client().create("incident", { short_description: "gw" });
      expect(posts()).toBe(1);
      expect(table.rows.size).toBe(1);
      expect(rec.sys_id).toBe(sentSysId());
    }
  });

  it("POST refused with 503 or 429 is retried without a check", async () => {
    failFirst(2, (res) => sendSnError(res, 503, "Service Unavailable"));
    await client().create("incident", { short_description: "busy" });
    expect(stub.requests.map((r) => r.method)).toEqual(["POST", "POST", "POST"]);
    expect(table.rows.size).toBe(1);
  });

  it("a create that never gets an answer waits one request timeout for a late write, then names the sys_id it sent", async () => {
    table.before = (req, res) => {
      if (req.method !== "POST") return false;
      dropConnection(res);
      return true;
    };
    const e = await failure(client({ maxAttempts: 2 }, 400).create("incident", { short_description: "unknown" }));
    expect(posts()).toBe(2);
    expect(clock.waits).toContain(400);
    // Checked at once after each attempt, and once more after waiting for a write in flight.
    expect(stub.requests.map((r) => r.method)).toEqual(["POST", "GET", "POST", "GET", "GET"]);
    expect(e.outcomeUnknown).toBe(true);
    expect(e.kind).toBe("network");
    expect(e.hint).toContain(`sys_id ${sentSysId()}`);
    expect(table.rows.size).toBe(0);
  });

  it("a refusal (400) is checked once by sys_id and reported as it was", async () => {
    failFirst(1, (res) => sendSnError(res, 400, "Invalid request", "bad field"));
    const e = await failure(client().create("incident", { short_description: "bad" }));
    expect(e.status).toBe(400);
    expect(e.outcomeUnknown).toBeUndefined();
    expect(stub.requests.map((r) => r.method)).toEqual(["POST", "GET"]);
  });

  it("DELETE whose answer was lost is repeated and reports absent", async () => {
    const id = "c".repeat(32);
    table.rows.set(id, { sys_id: id });
    let once = true;
    table.after = (req, res) => {
      if (req.method !== "DELETE" || !once) return false;
      once = false;
      dropConnection(res);
      return true;
    };
    expect(await client().delete("incident", id)).toBe("absent");
    expect(table.rows.size).toBe(0);
  });
});
