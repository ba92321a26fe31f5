/**
 * No secret may appear in anything a failure produces: message, stack, JSON, inspect
 * output, or the onRequest events. The stub echoes every header, query and body it got
 * back in its error messages, as careless servers and proxies do.
 */
import * as util from "node:util";
import { ServiceNowConnection } from "../../../resources/servicenow/client/connection";
import { RequestEvent, TableClient } from "../../../resources/servicenow/client/tableClient";
import { HttpStub, dropConnection, hang, sendJson, sendSnError, startHttpStub } from "../../support/httpStub";
import { fakeClock } from "../../core/fakeClock";

const USER = "svc.keywire";
const PASSWORD = "Pa55-word^secret!";
const CLIENT_SECRET = "oauth-Client-S3cret-xyz";
const PROBE_TOKEN = `now_${"Zq9-x_Y".repeat(12)}ab`;
let ISSUED_TOKEN = "";

const SECRETS = () => [PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(`${USER}:${PASSWORD}`).toString("base64"), CLIENT_SECRET, PROBE_TOKEN, ISSUED_TOKEN];

/** Values only the server knows: the client cannot list them as secrets, so patterns must catch them. */
const SESSION = "A1B2C3D4E5F6a7b8c9d0";
const ROUTE = "glide.0f1e2d3c4b5a69788796";
const NEW_USER_PASSWORD = "New-User-Pw-77!";

/**
 * What a server's debug page prints: the session cookies and the parsed body, as Node's
 * inspect writes them. A request without a body (the GET that settles a create's
 * unknown outcome) has nothing to parse.
 */
function inspectEcho(body: string): Record<string, unknown> {
  return { cookie: `JSESSIONID=${SESSION}; glide_user_route=${ROUTE}`, body: body === "" ? "" : (JSON.parse(body) as unknown) };
}

type Mode = "401" | "500" | "drop" | "timeout" | "inspect";
let mode: Mode = "401";
let stub: HttpStub;

beforeAll(async () => {
  stub = await startHttpStub((req, res) => {
    if (req.path === "/oauth_token.do" && mode !== "drop" && mode !== "timeout") {
      ISSUED_TOKEN = "issued-access-token-0123456789";
      return sendJson(res, 200, { access_token: ISSUED_TOKEN, expires_in: 1800 });
    }
    const echo = `auth=${req.headers.authorization} key=${req.headers["x-sn-apikey"]} query=${req.query.toString()} raw=${decodeURIComponent(req.query.toString())} body=${req.body}`;
    if (mode === "401") return sendSnError(res, 401, `User Not Authenticated ${echo}`, echo);
    if (mode === "500") return sendSnError(res, 500, `Operation Failed ${echo}`, echo);
    if (mode === "drop") return dropConnection(res);
    if (mode === "inspect")
      return sendSnError(res, 500, `Operation Failed ${util.inspect(inspectEcho(req.body))}`, `Set-Cookie: JSESSIONID=${SESSION}; Path=/; HttpOnly`);
    hang();
  });
});
afterAll(() => stub.stop());

function basicConn(): ServiceNowConnection {
  return new ServiceNowConnection({ instance: stub.url, credentials: { kind: "basic", username: USER, password: PASSWORD } });
}
function oauthConn(): ServiceNowConnection {
  return new ServiceNowConnection({ instance: stub.url, credentials: { kind: "oauth", clientId: "cid", clientSecret: CLIENT_SECRET } });
}

async function failWith(conn: ServiceNowConnection, call: (c: TableClient) => Promise<unknown>): Promise<{ err: unknown; events: RequestEvent[] }> {
  const events: RequestEvent[] = [];
  const c = new TableClient(conn, { retry: { ...fakeClock(), maxAttempts: 2 }, timeoutMs: 300, onRequest: (e) => events.push(e) });
  try {
    await call(c);
  } catch (err) {
    return { err, events };
  }
  throw new Error("expected a failure");
}

function surfaces(err: unknown, events: RequestEvent[]): Record<string, string> {
  const e = err as Error;
  return {
    message: e.message,
    stack: String(e.stack),
    json: JSON.stringify(e),
    inspect: util.inspect(e, { depth: 10 }),
    inspectHidden: util.inspect(e, { depth: 10, showHidden: true }),
    events: JSON.stringify(events) + util.inspect(events, { depth: 10 }),
  };
}

function expectNoSecrets(err: unknown, events: RequestEvent[]): void {
  const all = surfaces(err, events);
  for (const [where, text] of Object.entries(all)) {
    for (const s of SECRETS().filter((x) => x !== "")) {
      if (text.includes(s)) throw new Error(`secret leaked into ${where}: …${text.slice(Math.max(0, text.indexOf(s) - 40), text.indexOf(s) + 10)}…`);
    }
  }
  expect(events.length).toBeGreaterThan(0);
}

const modes: Mode[] = ["401", "500", "drop", "timeout"];

describe.each(modes)("failure mode %s", (m) => {
  beforeEach(() => {
    mode = m;
  });

  it("basic auth: table create", async () => {
    const { err, events } = await failWith(basicConn(), (c) => c.create("api_key", { name: "k", token: PROBE_TOKEN }));
    expectNoSecrets(err, events);
  });

  it("basic auth: table list", async () => {
    const { err, events } = await failWith(basicConn(), (c) => c.list("incident"));
    expectNoSecrets(err, events);
  });

  it("OAuth: token fetch or table call", async () => {
    const { err, events } = await failWith(oauthConn(), (c) => c.list("incident"));
    expectNoSecrets(err, events);
  });

  it("x-sn-apikey probe in a header", async () => {
    const { err, events } = await failWith(basicConn(), (c) =>
      c.request("GET", "/api/now/table/sys_user", { auth: "none", headers: { "x-sn-apikey": PROBE_TOKEN }, secrets: [PROBE_TOKEN] }),
    );
    expectNoSecrets(err, events);
  });

  it("x-sn-apikey probe in the query, even when the caller forgets to list it as a secret", async () => {
    const { err, events } = await failWith(basicConn(), (c) =>
      c.request("GET", "/api/sn_em_connector/em/inbound_event", { auth: "none", query: { source: "aws", "x-sn-apikey": PROBE_TOKEN } }),
    );
    expectNoSecrets(err, events);
  });
});

it("server messages are still shown, with the secrets cut out", async () => {
  mode = "401";
  const { err } = await failWith(basicConn(), (c) => c.list("incident"));
  expect((err as Error).message).toContain("User Not Authenticated");
  expect((err as Error).message).toContain("[REDACTED]");
});

it("a server echo in Node's inspect format loses the session cookies and a password the client was not told about", async () => {
  mode = "inspect";
  const { err, events } = await failWith(basicConn(), (c) => c.create("sys_user", { user_name: "svc.new", user_password: NEW_USER_PASSWORD }));
  const all = surfaces(err, events);
  for (const [where, text] of Object.entries(all)) {
    for (const s of [NEW_USER_PASSWORD, SESSION, ROUTE, ...SECRETS().filter((x) => x !== "")]) {
      if (text.includes(s)) throw new Error(`secret leaked into ${where}: …${text.slice(Math.max(0, text.indexOf(s) - 40), text.indexOf(s) + 10)}…`);
    }
  }
  // The echo is still there, with its names, so the failure can be understood.
  expect((err as Error).message).toContain("user_password: '[REDACTED]'");
  expect((err as Error).message).toContain("Set-Cookie: [REDACTED]");
});
