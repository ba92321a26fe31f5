import * as util from "node:util";
import axios from "axios";
import { KeywireError, KeywireHttpError } from "../../resources/shared/errors";
import { REDACTED, redact, toSafeError } from "../../resources/shared/redact";
import { HttpStub, dropConnection, sendJson, startHttpStub } from "../support/httpStub";

const TOKEN = `now_${"AbC123_-".repeat(11)}`;

describe("redact", () => {
  it("replaces given secrets in every spelling", () => {
    const secret = "p@ss word/^&=";
    const text = `raw ${secret} url ${encodeURIComponent(secret)} form ${new URLSearchParams({ a: secret }).toString()}`;
    const out = redact(text, [secret]);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).not.toContain("p%40ss+word");
    expect(out).toContain(REDACTED);
  });

  it("removes credential-shaped values without being told", () => {
    const cases: Array<[string, string]> = [
      [`token ${TOKEN} here`, TOKEN],
      ["GET /api?sysparm_limit=1&x-sn-apikey=abcDEF123456&x=1", "abcDEF123456"],
      ["Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="],
      ["proxy-authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi"],
      ['{"Authorization":"Bearer 12345abcdef"}', "12345abcdef"],
      ["grant_type=client_credentials&client_id=id&client_secret=s3cr3tValue", "s3cr3tValue"],
      ["user=bob&password=hunter2hunter2", "hunter2hunter2"],
      ["https://bob:hunter2@dev1.service-now.com/api", "hunter2"],
      ['{"access_token":"tok-value-1","expires_in":1799}', "tok-value-1"],
      ["x-sn-apikey: headervalue123", "headervalue123"],
    ];
    for (const [text, secret] of cases) {
      const out = redact(text);
      expect(out).not.toContain(secret);
      expect(out).toContain(REDACTED);
    }
  });

  it("leaves ordinary prose alone", () => {
    const prose = "Basic authentication failed for user admin; Basic Auth Restriction may apply";
    expect(redact(prose)).toBe(prose);
    expect(redact("https://dev1.service-now.com/api/now/table/incident")).toBe("https://dev1.service-now.com/api/now/table/incident");
  });

  it("keeps the credential name so the text still makes sense", () => {
    expect(redact("x?x-sn-apikey=abc12345")).toBe(`x?x-sn-apikey=${REDACTED}`);
    expect(redact("https://u:p@h/")).toBe(`https://${REDACTED}@h/`);
  });
});

describe("toSafeError", () => {
  let stub: HttpStub;
  beforeAll(async () => {
    stub = await startHttpStub((req, res) => {
      if (req.path === "/drop") return dropConnection(res);
      // A server that echoes what it received, as some error pages do.
      sendJson(res, 401, { error: { message: `denied ${req.headers.authorization} ${req.body}`, detail: req.query.toString() }, status: "failure" });
    });
  });
  afterAll(() => stub.stop());

  const password = "Very-Secret-Pa55!";
  const clientSecret = "client-secret-XYZ-987";

  function everything(e: unknown): string {
    const err = e as Error;
    return [err.message, err.stack, JSON.stringify(err), util.inspect(err, { depth: 10 })].join("\n");
  }

  async function axiosFailure(path: string): Promise<unknown> {
    try {
      await axios.post(`${stub.url}${path}?x-sn-apikey=${TOKEN}`, `client_secret=${clientSecret}&grant_type=client_credentials`, {
        auth: { username: "bob", password },
        headers: { "x-sn-apikey": TOKEN, "Content-Type": "application/x-www-form-urlencoded" },
        proxy: false,
      });
    } catch (e) {
      return e;
    }
    throw new Error("expected a failure");
  }

  it("rebuilds an AxiosError with a response from safe fields only", async () => {
    const raw = await axiosFailure("/api/now/table/incident");
    // The raw error really does carry the secrets: the point of this module.
    expect(util.inspect(raw, { depth: 10 })).toContain(password);
    const safe = toSafeError(raw, { platform: "servicenow", operation: "create incident", table: "incident" });
    expect(safe).toBeInstanceOf(KeywireHttpError);
    const h = safe as KeywireHttpError;
    expect(h.status).toBe(401);
    expect(h.kind).toBe("http");
    expect(h.method).toBe("POST");
    expect(h.path).toBe("/api/now/table/incident");
    expect(h.cause).toBeUndefined();
    const all = everything(safe);
    for (const s of [password, clientSecret, TOKEN, Buffer.from(`bob:${password}`).toString("base64")]) expect(all).not.toContain(s);
    expect(all).not.toMatch(/socket|_header|config/i);
  });

  it("classifies a dropped connection as a network error, still without secrets", async () => {
    const raw = await axiosFailure("/drop");
    const safe = toSafeError(raw) as KeywireHttpError;
    expect(safe.kind).toBe("network");
    expect(safe.networkCode).toBe("ECONNRESET");
    expect(safe.retryable).toBe(true);
    const all = everything(safe);
    for (const s of [password, clientSecret, TOKEN]) expect(all).not.toContain(s);
  });

  it("handles plain errors, strings and odd values", () => {
    const e1 = toSafeError(new Error(`boom password=${password}`), { secrets: [password] });
    expect(e1.message).not.toContain(password);
    const e2 = toSafeError(`failed with ${TOKEN}`);
    expect(e2.message).not.toContain(TOKEN);
    const e3 = toSafeError({ weird: password });
    expect(everything(e3)).not.toContain(password);
    const e4 = toSafeError(Object.assign(new Error("timeout of 10ms exceeded"), { code: "ECONNABORTED" })) as KeywireHttpError;
    expect(e4.kind).toBe("timeout");
  });

  it("passes keywire errors through unchanged", () => {
    const k = new KeywireError({ platform: "p", operation: "o", reason: "r", hint: "h" });
    expect(toSafeError(k)).toBe(k);
  });
});
