/**
 * The HTTP pipeline every platform's client sends through, with a made-up platform:
 * its layers (authenticate around retry around send), the one body parser, the
 * origin check, and the facts the platform's error is built from.
 */
import { KeywireError, KeywireHttpError } from "../../resources/core/errors";
import { Failure, FailureContext, Platform, PipelineRequest, createPipeline, parseBody, refusedCredentials } from "../../resources/core/pipeline";
import { resolveRetryPolicy } from "../../resources/core/retry";
import { HttpStub, dropConnection, sendJson, startHttpStub } from "../support/httpStub";
import { fakeClock } from "./fakeClock";

let stub: HttpStub;
beforeAll(async () => {
  stub = await startHttpStub(() => undefined);
});
afterAll(() => stub.stop());
beforeEach(() => {
  stub.requests.length = 0;
});

const KEY = "made-up-Key-0123456789";

/** A platform whose errors keep the facts they were built from. */
class MadeUpError extends KeywireError {
  constructor(
    readonly failure: Failure,
    readonly ctx: FailureContext,
  ) {
    super({ platform: "madeup", operation: ctx.operation, reason: failure.reason, hint: "made-up hint" });
  }
}

function pipeline(platform: Partial<Platform> = {}) {
  return createPipeline(
    {
      name: "madeup",
      authenticate: (send) => send({ Authorization: `Key ${KEY}` }),
      readFailure: (data) => ({ message: (data as { msg?: string } | undefined)?.msg, code: (data as { code?: string } | undefined)?.code }),
      toError: (f, ctx) => new MadeUpError(f, ctx),
      secrets: () => [],
      ...platform,
    },
    {
      origin: stub.url,
      timeoutMs: 2000,
      minTimeoutMs: 250,
      maxBytes: 1024 * 1024,
      retry: resolveRetryPolicy({ ...fakeClock(), maxAttempts: 3 }),
      userAgent: "keywire-test",
    },
  );
}

const get = (over: Partial<PipelineRequest> = {}): PipelineRequest => ({ method: "GET", path: "/things", operation: "list things", idempotent: true, ...over });

async function failure(p: Promise<unknown>): Promise<MadeUpError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MadeUpError);
  return e as MadeUpError;
}

describe("parseBody", () => {
  it("reads JSON when the answer says so or looks so, else keeps the text; empty is undefined", () => {
    expect(parseBody('{"a":1}', "application/json; charset=utf-8")).toEqual({ a: 1 });
    expect(parseBody(" [1, 2]", "text/plain")).toEqual([1, 2]);
    expect(parseBody('"quoted"', "application/json")).toBe("quoted");
    expect(parseBody("<html>asleep</html>", "text/html")).toBe("<html>asleep</html>");
    expect(parseBody('{"cut', "application/json")).toBe('{"cut');
    expect(parseBody("", "application/json")).toBeUndefined();
    expect(parseBody("  \n", "text/plain")).toBeUndefined();
  });
});

describe("the pipeline", () => {
  it("sends the platform's credentials, the query and a JSON body to its origin", async () => {
    stub.setHandler((_req, res) => sendJson(res, 201, { id: 7 }));
    const answer = await pipeline().send(get({ method: "POST", idempotent: false, query: { a: "1", n: 2, skip: undefined }, json: { name: "x" } }));
    expect(answer).toEqual({ status: 201, headers: expect.objectContaining({ "content-type": "application/json" }), data: { id: 7 } });
    const [r] = stub.requests;
    expect(r?.headers.authorization).toBe(`Key ${KEY}`);
    expect(r?.headers["user-agent"]).toBe("keywire-test");
    expect(r?.headers["content-type"]).toBe("application/json");
    expect(r?.query.toString()).toBe("a=1&n=2");
    expect(r?.body).toBe('{"name":"x"}');
  });

  it("sends an anonymous request without the credentials", async () => {
    stub.setHandler((_req, res) => sendJson(res, 200, {}));
    await pipeline().send(get({ anonymous: true }));
    expect(stub.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("refuses a path off its origin or with a query before sending anything", async () => {
    const p = pipeline();
    for (const path of ["https://elsewhere.example.com/x", "//elsewhere.example.com/x", "/x?token=abc", "relative"]) {
      await expect(p.send(get({ path }))).rejects.toThrow(/absolute path on the service's origin, without query/);
    }
    expect(stub.requests).toHaveLength(0);
  });

  it("hands the platform the last failure's facts: redacted words, code, delay, attempts", async () => {
    stub.setHandler((req, res) => sendJson(res, 503, { msg: `busy, said to ${req.headers.authorization}`, code: "BUSY" }, { "Retry-After": "2" }));
    const e = await failure(pipeline().send(get()));
    expect(stub.requests).toHaveLength(3);
    expect(e.failure).toMatchObject({ kind: "http", status: 503, errorCode: "BUSY", retryAfterMs: 2000, attempts: 3, method: "GET", path: "/things" });
    // The credential header the auth layer added is cut out, though the platform never listed it.
    expect(e.failure.serverMessage).toBe("busy, said to [REDACTED]");
    expect(JSON.stringify(e.failure)).not.toContain(KEY);
    expect(e.ctx).toMatchObject({ operation: "list things", path: "/things", authenticated: true, info: { reason: "attempts", attempts: 3 } });
  });

  it("accepted statuses are answers; a write whose connection dropped is checked, and its unknown outcome reported", async () => {
    stub.setHandler((_req, res) => sendJson(res, 404, {}));
    expect((await pipeline().send(get({ acceptStatus: [404] }))).status).toBe(404);

    stub.setHandler((_req, res) => dropConnection(res));
    let checks = 0;
    const e = await failure(
      pipeline().send(
        get({
          method: "POST",
          idempotent: false,
          wasCommitted: async () => {
            checks++;
            throw new Error("the check failed too");
          },
        }),
      ),
    );
    expect(checks).toBe(1);
    expect(e.failure).toMatchObject({ kind: "network", outcomeUnknown: true, attempts: 1 });
    expect(e.ctx.info.reason).toBe("commit-check-failed");
  });

  it("uses the platform's classification: here every failure is final", async () => {
    stub.setHandler((_req, res) => sendJson(res, 503, {}));
    await failure(pipeline({ classify: () => ({ kind: "fatal" }) }).send(get()));
    expect(stub.requests).toHaveLength(1);
  });

  it("the auth layer wraps the retry loop: it may send once more, and its own failures are not retried", async () => {
    let tokens = 0;
    const refreshing: Platform["authenticate"] = async (send) => {
      const first = await send({ Authorization: `Key old-${++tokens}` });
      return refusedCredentials(first) ? send({ Authorization: `Key new-${++tokens}` }) : first;
    };
    stub.setHandler((req, res) => sendJson(res, req.headers.authorization?.startsWith("Key new") ? 200 : 401, {}));
    expect((await pipeline({ authenticate: refreshing }).send(get())).status).toBe(200);
    expect(stub.requests.map((r) => r.headers.authorization)).toEqual(["Key old-1", "Key new-2"]);

    stub.requests.length = 0;
    const sourceFailed = new KeywireHttpError({
      platform: "madeup",
      operation: "fetch token",
      reason: "the token source is down",
      hint: "",
      kind: "http",
      status: 503,
    });
    const failing: Platform["authenticate"] = async () => {
      throw sourceFailed;
    };
    await expect(pipeline({ authenticate: failing }).send(get())).rejects.toBe(sourceFailed);
    expect(stub.requests).toHaveLength(0);
  });
});
