import type * as http from "node:http";
import { ServiceNowConnection } from "../../../resources/servicenow/client/connection";
import { where } from "../../../resources/servicenow/client/encodedQuery";
import { ServiceNowError, TableClient } from "../../../resources/servicenow/client/tableClient";
import { RetryPolicy } from "../../../resources/shared/retry";
import { HttpStub, dropConnection, hang, sendSnError, startHttpStub } from "../../support/httpStub";
import { FakeClock, fakeClock } from "../../shared/fakeClock";
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
    const started = Date.now();
    const e = await failure(client({ maxAttempts: 2 }, 300).list("incident"));
    expect(e.kind).toBe("timeout");
    expect(stub.requests).toHaveLength(2);
    expect(e.message).toMatch(/no complete answer/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });
});

describe("writes with unknown outcome", () => {
  it("POST dropped after the record was stored: findExisting returns it, exactly one POST and one record", async () => {
    let dropped = false;
    table.after = (req, res) => {
      if (req.method !== "POST" || dropped) return false;
      dropped = true;
      dropConnection(res);
      return true;
    };
    const rec = await client().create("incident", { short_description: "only once" }, { findExisting: where({ short_description: "only once" }) });
    expect(posts()).toBe(1);
    expect(table.rows.size).toBe(1);
    expect(rec.sys_id).toBe([...table.rows.keys()][0]);
    expect(rec.short_description).toBe("only once");
  });

  it("POST dropped before commit: checked, then retried once, one record", async () => {
    failFirst(1, dropConnection);
    const rec = await client().create("incident", { short_description: "second try" }, { findExisting: where({ short_description: "second try" }) });
    expect(posts()).toBe(2);
    expect(stub.requests.map((r) => r.method)).toEqual(["POST", "GET", "POST"]);
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
    const rec = await client({}, 300).create("incident", { short_description: "slow" }, { findExisting: where({ short_description: "slow" }) });
    expect(posts()).toBe(1);
    expect(table.rows.size).toBe(1);
    expect(rec.short_description).toBe("slow");
  });

  it("POST answered 502 after commit is checked, not repeated", async () => {
    let once = true;
    table.after = (req, res) => {
      if (req.method !== "POST" || !once) return false;
      once = false;
      sendSnError(res, 502, "Bad Gateway");
      return true;
    };
    await client().create("incident", { short_description: "gw" }, { findExisting: where({ short_description: "gw" }) });
    expect(posts()).toBe(1);
    expect(table.rows.size).toBe(1);
  });

  it("POST refused with 503 or 429 is retried without a check", async () => {
    failFirst(2, (res) => sendSnError(res, 503, "Service Unavailable"));
    await client().create("incident", { short_description: "busy" });
    expect(stub.requests.map((r) => r.method)).toEqual(["POST", "POST", "POST"]);
    expect(table.rows.size).toBe(1);
  });

  it("POST with unknown outcome and no findExisting is not repeated", async () => {
    table.after = (req, res) => {
      if (req.method !== "POST") return false;
      dropConnection(res);
      return true;
    };
    const e = await failure(client().create("incident", { short_description: "unknown" }));
    expect(posts()).toBe(1);
    expect(e.outcomeUnknown).toBe(true);
    expect(e.kind).toBe("network");
    expect(e.message).toMatch(/may or may not have been applied/);
    expect(e.hint).toMatch(/Look for the record in incident/);
  });

  it("POST with unknown outcome where the natural key matches several records fails clearly", async () => {
    table.rows.set("a".repeat(32), { sys_id: "a".repeat(32), short_description: "dup" });
    table.rows.set("b".repeat(32), { sys_id: "b".repeat(32), short_description: "dup" });
    table.after = (req, res) => {
      if (req.method !== "POST") return false;
      dropConnection(res);
      return true;
    };
    const e = await failure(client().create("incident", { short_description: "dup" }, { findExisting: where({ short_description: "dup" }) }));
    expect(posts()).toBe(1);
    expect(e.outcomeUnknown).toBe(true);
    expect(e.message).toMatch(/existing records match its natural key/);
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
