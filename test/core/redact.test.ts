import * as util from "node:util";
import axios from "axios";
import { KeywireError, KeywireHttpError } from "../../resources/core/errors";
import { REDACTED, redact, toSafeError } from "../../resources/core/redact";
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

  // Shapes found leaking in issue 12: Node's inspect output, quoted values, URL-encoded
  // separators, names the patterns did not list, and short tokens.
  const SHORT = "now_Xy7-Qp2_Lm";
  const leaks: Array<[string, string, string]> = [
    ["inspect, single quotes", `{ 'x-sn-apikey': '${TOKEN}', accept: 'application/json' }`, TOKEN],
    ["inspect, single quotes, value not token-shaped", "{ 'x-sn-apikey': 'plainKeyValue42' }", "plainKeyValue42"],
    ["inspect, double-quoted value", 'headers: { x-sn-apikey: "plainKeyValue42" }', "plainKeyValue42"],
    ["JSON, no spaces", '{"x-sn-apikey":"plainKeyValue42"}', "plainKeyValue42"],
    ["inspect password", "auth: { username: 'bob', password: 'hunter2hunter2' }", "hunter2hunter2"],
    ["inspect Bearer", "headers: { Authorization: 'Bearer abc.def.ghi' }", "abc.def.ghi"],
    ["inspect Basic", "headers: { Authorization: 'Basic dXNlcjpwYXNzd29yZA==' }", "dXNlcjpwYXNzd29yZA"],
    ["inspect Ivanti header", "headers: { Authorization: 'rest_api_key=IVANTIKEY123' }", "IVANTIKEY123"],
    ["JSON rest_api_key", '{"rest_api_key": "IVANTIKEY123"}', "IVANTIKEY123"],
    ["URL-encoded =", "GET /api?x-sn-apikey%3DplainKeyValue42%26x%3D1", "plainKeyValue42"],
    ["URL-encoded header", "h=x-sn-apikey%3A%20plainKeyValue42", "plainKeyValue42"],
    ["user_password JSON", '{"user_name":"svc","user_password":"Pw-for-user-1"}', "Pw-for-user-1"],
    ["user_password form", "user_name=svc&user_password=Pw-for-user-1", "Pw-for-user-1"],
    ["user_password query", "/api/now/table/sys_user?user_password=Pw-for-user-1", "Pw-for-user-1"],
    ["Cookie header", "Cookie: JSESSIONID=A1B2C3D4E5; glide_user_route=glide.f00dcafe", "A1B2C3D4E5"],
    ["Cookie header, second cookie", "Cookie: JSESSIONID=A1B2C3D4E5; glide_user_route=glide.f00dcafe", "glide.f00dcafe"],
    ["Set-Cookie header", "Set-Cookie: glide_user_route=glide.f00dcafe; Path=/; HttpOnly", "glide.f00dcafe"],
    ["inspect cookie", "{ cookie: 'JSESSIONID=A1B2C3D4E5; glide_user_route=glide.f00dcafe' }", "glide.f00dcafe"],
    ["a session cookie on its own", "sent JSESSIONID=A1B2C3D4E5 again", "A1B2C3D4E5"],
    ["short now_ token", `key ${SHORT} refused`, SHORT],
    ["inspect client_secret", "data: { client_id: 'id', client_secret: 'oauth-S3cret' }", "oauth-S3cret"],
    ["inspect access_token", "{ access_token: 'tok-value-1', refresh_token: 'ref-value-2' }", "tok-value-1"],
    ["inspect refresh_token", "{ access_token: 'tok-value-1', refresh_token: 'ref-value-2' }", "ref-value-2"],
    ["refresh_token form", "grant_type=refresh_token&refresh_token=ref-value-2", "ref-value-2"],
    ["api_key at the start", "api_key=plainKeyValue42&x=1", "plainKeyValue42"],
    ["api_key quoted", '"api_key=plainKeyValue42"', "plainKeyValue42"],
    ["URL userinfo, encoded password", "https://bob:p%40ss%2Fword@dev1.service-now.com/api", "p%40ss%2Fword"],
    ["URL userinfo, raw @ in password", "https://bob:p@ss@dev1.service-now.com/api", "ss@dev1"],
    ["URL userinfo in inspect", "{ url: 'https://bob:hunter2@dev1.service-now.com/api' }", "hunter2"],
  ];

  it.each(leaks)("removes credentials the named-value table covers: %s", (_label, text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it("keeps the name and the shape around a redacted value", () => {
    expect(redact("{ 'x-sn-apikey': 'plainKeyValue42', accept: 'application/json' }")).toBe(`{ 'x-sn-apikey': '${REDACTED}', accept: 'application/json' }`);
    expect(redact('{"user_password":"Pw-1","user_name":"svc"}')).toBe(`{"user_password":"${REDACTED}","user_name":"svc"}`);
    expect(redact("headers: { Authorization: 'Bearer abc.def.ghi' }")).toBe(`headers: { Authorization: 'Bearer ${REDACTED}' }`);
    expect(redact("user_name=svc&user_password=Pw-1&x=1")).toBe(`user_name=svc&user_password=${REDACTED}&x=1`);
    expect(redact("x-sn-apikey%3A%20plainKeyValue42%26x%3D1")).toBe(`x-sn-apikey%3A%20${REDACTED}%26x%3D1`);
  });

  it("leaves ordinary sentences that mention a secret's name alone", () => {
    for (const prose of [
      "the table api_key has no record",
      "the password policy requires 12 characters",
      "no access_token in the answer; check the OAuth application",
      "set a cookie path and try again",
      "Authorization failed for user admin",
      "GET /api/now/table/api_key?sysparm_limit=1",
      "the api_key table has 3 records; see now_table_api docs",
    ]) {
      expect(redact(prose)).toBe(prose);
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
