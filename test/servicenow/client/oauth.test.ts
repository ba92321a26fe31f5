import { ServiceNowConnection } from "../../../resources/servicenow/client/connection";
import { createOAuthTokenCache, parseTokenResponse } from "../../../resources/servicenow/client/oauth";
import { ServiceNowError, TableClient } from "../../../resources/servicenow/client/tableClient";
import { HttpStub, StubHandler, StubRequest, sendJson, sendSnError, startHttpStub } from "../../support/httpStub";
import { FakeClock, fakeClock } from "../../core/fakeClock";

const CLIENT_ID = "keywire-client";
const CLIENT_SECRET = "oauth-Client-S3cret-xyz";

let stub: HttpStub;
let clock: FakeClock;
let valid: Set<string>;
let issued: number;
let expiresIn: number;
let tokenEndpointStatus: number;

/** Issues tokens on /oauth_token.do and accepts only valid Bearer tokens elsewhere. The 401 echoes the secret it got, to prove redaction. */
const handler: StubHandler = (req, res) => {
  if (req.path === "/oauth_token.do") {
    const form = new URLSearchParams(req.body);
    if (tokenEndpointStatus !== 200 || form.get("client_secret") !== CLIENT_SECRET) {
      return sendJson(res, 401, { error: "access_denied", error_description: `bad client ${form.get("client_secret")}` });
    }
    const token = `tok-${++issued}-abcdefgh`;
    valid.add(token);
    return sendJson(res, 200, { access_token: token, refresh_token: "refresh-zzz", token_type: "Bearer", expires_in: expiresIn, scope: "useraccount" });
  }
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
  if (!bearer || !valid.has(bearer)) return sendSnError(res, 401, "User Not Authenticated");
  sendJson(res, 200, { result: [] });
};

beforeAll(async () => {
  stub = await startHttpStub(handler);
});
afterAll(() => stub.stop());
beforeEach(() => {
  stub.requests.length = 0;
  clock = fakeClock();
  valid = new Set();
  issued = 0;
  expiresIn = 1799;
  tokenEndpointStatus = 200;
});

function oauthConnection(): ServiceNowConnection {
  return new ServiceNowConnection({ instance: stub.url, credentials: { kind: "oauth", clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } });
}

const tokenRequests = (): StubRequest[] => stub.requests.filter((r) => r.path === "/oauth_token.do");
const tableRequests = (): StubRequest[] => stub.requests.filter((r) => r.path !== "/oauth_token.do");

describe("OAuth client credentials", () => {
  it("fetches a token with the client-credentials form and sends it as Bearer", async () => {
    const c = new TableClient(oauthConnection(), { retry: clock });
    await c.list("incident");
    const [t] = tokenRequests();
    expect(t?.method).toBe("POST");
    expect(t?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(t?.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(t?.body))).toEqual({
      grant_type: "client_credentials",
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(tableRequests()[0]?.headers.authorization).toBe("Bearer tok-1-abcdefgh");
  });

  it("caches the token per connection, across clients and concurrent calls", async () => {
    const conn = oauthConnection();
    const a = new TableClient(conn, { retry: clock });
    const b = new TableClient(conn, { retry: clock });
    await Promise.all([a.list("incident"), b.list("incident"), a.list("incident")]);
    await b.list("incident");
    expect(tokenRequests()).toHaveLength(1);
    expect(tableRequests()).toHaveLength(4);
  });

  it("refreshes shortly before expires_in", async () => {
    expiresIn = 300; // refreshed 60 s before expiry
    const c = new TableClient(oauthConnection(), { retry: clock });
    await c.list("incident");
    await clock.sleep(230_000);
    await c.list("incident");
    expect(tokenRequests()).toHaveLength(1);
    await clock.sleep(15_000);
    await c.list("incident");
    expect(tokenRequests()).toHaveLength(2);
    expect(tableRequests()[2]?.headers.authorization).toBe("Bearer tok-2-abcdefgh");
  });

  it("refreshes once on a 401 and repeats the request", async () => {
    const c = new TableClient(oauthConnection(), { retry: clock });
    await c.list("incident");
    valid.clear(); // the instance revoked the token
    await c.list("incident");
    expect(tokenRequests()).toHaveLength(2);
    expect(tableRequests().map((r) => r.headers.authorization)).toEqual(["Bearer tok-1-abcdefgh", "Bearer tok-1-abcdefgh", "Bearer tok-2-abcdefgh"]);
  });

  it("does not refresh more than once when the new token is refused too", async () => {
    const c = new TableClient(oauthConnection(), { retry: clock });
    stub.setHandler((req, res) => {
      if (req.path === "/oauth_token.do") return sendJson(res, 200, { access_token: `tok-${++issued}-abcdefgh`, expires_in: 1799 });
      sendSnError(res, 401, "User Not Authenticated");
    });
    try {
      const e = await c.list("incident").then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ServiceNowError);
      expect((e as ServiceNowError).message).toMatch(/OAuth token, even after fetching a new one/);
      expect(tokenRequests()).toHaveLength(2);
      expect(tableRequests()).toHaveLength(2);
    } finally {
      stub.setHandler(handler);
    }
  });

  it("the token client retries on its own, and no retry loop runs around it", async () => {
    stub.setHandler((req, res) => (req.path === "/oauth_token.do" ? sendSnError(res, 503, "Service Unavailable") : sendJson(res, 200, { result: [] })));
    try {
      const c = new TableClient(oauthConnection(), { retry: { ...clock, maxAttempts: 3 } });
      const e = await c.list("incident").then(
        () => undefined,
        (err: unknown) => err as ServiceNowError,
      );
      expect(e).toBeInstanceOf(ServiceNowError);
      expect(e?.operation).toBe("fetch OAuth token");
      expect(e?.attempts).toBe(3);
      expect(tokenRequests()).toHaveLength(3);
      expect(tableRequests()).toHaveLength(0);
    } finally {
      stub.setHandler(handler);
    }
  });

  it("explains a refused client without showing the secret", async () => {
    tokenEndpointStatus = 401;
    const c = new TableClient(oauthConnection(), { retry: clock });
    const e = await c.list("incident").then(
      () => undefined,
      (err: unknown) => err as ServiceNowError,
    );
    expect(e).toBeInstanceOf(ServiceNowError);
    expect(e?.operation).toBe("fetch OAuth token");
    expect(e?.message).toContain("servicenow:clientSecret");
    expect(e?.message).toContain("glide.oauth.inbound.client.credential.grant_type.enabled");
    expect(JSON.stringify(e) + e?.stack).not.toContain(CLIENT_SECRET);
    expect(tableRequests()).toHaveLength(0);
  });
});

describe("token parsing and cache", () => {
  it("requires access_token and defaults the lifetime", () => {
    expect(parseTokenResponse({ access_token: "a", expires_in: "60" })).toEqual({ accessToken: "a", expiresInS: 60 });
    expect(parseTokenResponse('{"access_token":"a"}')).toEqual({ accessToken: "a", expiresInS: 1800 });
    expect(() => parseTokenResponse({ error: "x" })).toThrow(/access_token/);
  });

  it("invalidates only the token it was told about", async () => {
    const cache = createOAuthTokenCache();
    let n = 0;
    const fetch = async () => ({ accessToken: `t${++n}`, expiresInS: 600 });
    const now = () => 0;
    expect(await cache.get(now, fetch)).toBe("t1");
    cache.invalidate("other");
    expect(await cache.get(now, fetch)).toBe("t1");
    cache.invalidate("t1");
    expect(await cache.get(now, fetch)).toBe("t2");
    expect(cache.secrets()).toEqual(["t1", "t2"]);
    expect(JSON.stringify({ cache })).not.toContain("t2");
  });
});
