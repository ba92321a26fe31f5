import {
  SERVER_DELAY_FLOOR_MS,
  GiveUpInfo,
  RetryVerdict,
  backoffDelay,
  classifyHttpFailure,
  parseRateLimitReset,
  parseRetryAfter,
  resolveRetryPolicy,
  serverRequestedDelay,
  withRetry,
} from "../../resources/core/retry";
import { fakeClock } from "./fakeClock";

class Failure extends Error {
  constructor(readonly verdict: RetryVerdict) {
    super(verdict.kind);
  }
}
const classify = (e: unknown): RetryVerdict => (e instanceof Failure ? e.verdict : { kind: "fatal" });

describe("server delays", () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  it("reads Retry-After in seconds and as an HTTP date", () => {
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
  it("reads X-RateLimit-Reset as Unix seconds", () => {
    expect(parseRateLimitReset(String(now / 1000 + 90), now)).toBe(90_000);
    expect(parseRateLimitReset("abc", now)).toBeUndefined();
  });
  it("prefers Retry-After over X-RateLimit-Reset", () => {
    expect(serverRequestedDelay({ "retry-after": "2", "x-ratelimit-reset": String(now / 1000 + 90) }, now)).toBe(2000);
    expect(serverRequestedDelay({ "x-ratelimit-reset": String(now / 1000 + 90) }, now)).toBe(90_000);
  });
});

describe("backoff", () => {
  it("is full jitter under an exponential cap", () => {
    const p = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, { ...p, random: () => 0.999999 })).toBe(99);
    expect(backoffDelay(3, { ...p, random: () => 0.5 })).toBe(200);
    expect(backoffDelay(10, { ...p, random: () => 0.5 })).toBe(500);
    expect(backoffDelay(3, { ...p, random: () => 0 })).toBe(0);
  });
  it("clamps policies to bounds", () => {
    const p = resolveRetryPolicy({ maxAttempts: 1000, totalBudgetMs: -5 });
    expect(p.maxAttempts).toBe(20);
    expect(p.totalBudgetMs).toBe(0);
  });
});

describe("classifyHttpFailure", () => {
  it.each([
    [{ kind: "http", status: 429 }, "retry"],
    [{ kind: "http", status: 503 }, "retry"],
    [{ kind: "http", status: 502 }, "unknown-outcome"],
    [{ kind: "http", status: 504 }, "unknown-outcome"],
    [{ kind: "http", status: 500 }, "fatal"],
    [{ kind: "http", status: 401 }, "fatal"],
    [{ kind: "network", networkCode: "ECONNREFUSED" }, "retry"],
    [{ kind: "network", networkCode: "ECONNRESET" }, "unknown-outcome"],
    [{ kind: "network" }, "unknown-outcome"],
    [{ kind: "network", networkCode: "ENOTFOUND" }, "fatal"],
    [{ kind: "timeout" }, "unknown-outcome"],
    [{ kind: "other" }, "fatal"],
  ] as const)("%j → %s", (facts, kind) => {
    expect(classifyHttpFailure(facts).kind).toBe(kind);
  });
});

describe("withRetry", () => {
  it("retries until success and honours server delays", async () => {
    const clock = fakeClock();
    let n = 0;
    const out = await withRetry(
      async () => {
        n++;
        if (n === 1) throw new Failure({ kind: "retry", serverDelayMs: 7000 });
        if (n === 2) throw new Failure({ kind: "retry" });
        return "ok";
      },
      { policy: { ...clock, baseDelayMs: 1000 }, classify, idempotent: true },
    );
    expect(out).toBe("ok");
    expect(clock.waits).toEqual([7000, 1000]); // 7 s asked; then jitter 0.5 × (1000 × 2^1)
  });

  it("never waits less than the floor when a server asks for no delay (Retry-After: 0)", async () => {
    const clock = fakeClock();
    let n = 0;
    await withRetry(
      async () => {
        n++;
        if (n < 4) throw new Failure({ kind: "retry", serverDelayMs: n === 1 ? 0 : n === 2 ? 100 : 400 });
        return "ok";
      },
      { policy: clock, classify, idempotent: true },
    );
    expect(clock.waits).toEqual([SERVER_DELAY_FLOOR_MS, SERVER_DELAY_FLOOR_MS, 400]);
    expect(SERVER_DELAY_FLOOR_MS).toBeGreaterThanOrEqual(250);
  });

  it("stops at maxAttempts", async () => {
    const clock = fakeClock();
    let n = 0;
    let info: GiveUpInfo | undefined;
    await expect(
      withRetry(
        async () => {
          n++;
          throw new Failure({ kind: "retry" });
        },
        {
          policy: { ...clock, maxAttempts: 3 },
          classify,
          idempotent: true,
          giveUp: (e, i) => {
            info = i;
            return e;
          },
        },
      ),
    ).rejects.toThrow("retry");
    expect(n).toBe(3);
    expect(info?.reason).toBe("attempts");
  });

  it("stops when the next wait would overrun the budget", async () => {
    const clock = fakeClock(0.99);
    let n = 0;
    let info: GiveUpInfo | undefined;
    await expect(
      withRetry(
        async () => {
          n++;
          throw new Failure({ kind: "retry" });
        },
        {
          policy: { ...clock, maxAttempts: 10, totalBudgetMs: 10_000, baseDelayMs: 4000, maxDelayMs: 60_000 },
          classify,
          idempotent: true,
          giveUp: (e, i) => {
            info = i;
            return e;
          },
        },
      ),
    ).rejects.toBeInstanceOf(Failure);
    expect(n).toBe(2); // waits ≈3960, then ≈7920 would pass 10 s
    expect(info?.reason).toBe("budget");
    expect(clock.waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_000);
  });

  it("never repeats a non-idempotent write with unknown outcome without a check", async () => {
    let n = 0;
    let info: GiveUpInfo | undefined;
    await expect(
      withRetry(
        async () => {
          n++;
          throw new Failure({ kind: "unknown-outcome" });
        },
        {
          policy: fakeClock(),
          classify,
          idempotent: false,
          giveUp: (e, i) => {
            info = i;
            return e;
          },
        },
      ),
    ).rejects.toBeInstanceOf(Failure);
    expect(n).toBe(1);
    expect(info?.reason).toBe("unknown-outcome");
  });

  it("returns the committed result found by wasCommitted instead of writing again", async () => {
    let writes = 0;
    const out = await withRetry(
      async () => {
        writes++;
        throw new Failure({ kind: "unknown-outcome" });
      },
      { policy: fakeClock(), classify, idempotent: false, wasCommitted: async () => "existing" },
    );
    expect(out).toBe("existing");
    expect(writes).toBe(1);
  });

  it("repeats the write when wasCommitted finds nothing", async () => {
    let writes = 0;
    let checks = 0;
    const out = await withRetry(
      async () => {
        writes++;
        if (writes === 1) throw new Failure({ kind: "unknown-outcome" });
        return "created";
      },
      {
        policy: fakeClock(),
        classify,
        idempotent: false,
        wasCommitted: async () => {
          checks++;
          return undefined;
        },
      },
    );
    expect(out).toBe("created");
    expect([writes, checks]).toEqual([2, 1]);
  });

  it("retries a safe refusal of a write without checking", async () => {
    let writes = 0;
    const check = jest.fn(async () => undefined);
    await withRetry(
      async () => {
        writes++;
        if (writes === 1) throw new Failure({ kind: "retry" });
        return 1;
      },
      { policy: fakeClock(), classify, idempotent: false, wasCommitted: check },
    );
    expect(check).not.toHaveBeenCalled();
  });

  it("reports a failing check as commit-check-failed", async () => {
    let info: GiveUpInfo | undefined;
    await expect(
      withRetry(
        async () => {
          throw new Failure({ kind: "unknown-outcome" });
        },
        {
          policy: fakeClock(),
          classify,
          idempotent: false,
          wasCommitted: async () => {
            throw new Error("check broke");
          },
          giveUp: (e, i) => {
            info = i;
            return e;
          },
        },
      ),
    ).rejects.toBeInstanceOf(Failure);
    expect(info?.reason).toBe("commit-check-failed");
  });

  it("checks a write with unknown outcome even on the last attempt", async () => {
    const out = await withRetry(
      async () => {
        throw new Failure({ kind: "unknown-outcome" });
      },
      { policy: { ...fakeClock(), maxAttempts: 1 }, classify, idempotent: false, wasCommitted: async () => "found" },
    );
    expect(out).toBe("found");
  });
});
