import { ServiceNowConnection } from "../../../resources/servicenow/client/connection";
import { q, where } from "../../../resources/servicenow/client/encodedQuery";
import { ServiceNowError, TableClient, toSnRecord } from "../../../resources/servicenow/client/tableClient";
import { HttpStub, sendJson, sendSnError, startHttpStub } from "../../support/httpStub";
import { fakeClock } from "../../core/fakeClock";
import { StubTable, stubTable } from "./stubTable";

let stub: HttpStub;
let table: StubTable;

beforeAll(async () => {
  stub = await startHttpStub(() => undefined);
});
afterAll(() => stub.stop());
beforeEach(() => {
  stub.requests.length = 0;
  table = stubTable("incident");
  stub.setHandler((req, res) => table.handle(req, res));
});

function conn(): ServiceNowConnection {
  return new ServiceNowConnection({ instance: stub.url, credentials: { kind: "basic", username: "admin", password: "admin-pw" } });
}

function client(opts: ConstructorParameters<typeof TableClient>[1] = {}): TableClient {
  return new TableClient(conn(), { retry: { ...fakeClock() }, ...opts });
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

describe("TableClient CRUD", () => {
  it("creates, reads, lists, updates and deletes with one request each", async () => {
    const c = client();
    const created = await c.create("incident", { short_description: "disk full", state: "1" });
    expect(created.short_description).toBe("disk full");
    expect(created.sys_id).toMatch(/^[0-9a-f]{32}$/);
    const id = created.sys_id as string;

    expect(await c.get("incident", id, { fields: ["sys_id", "state"] })).toEqual({ sys_id: id, state: "1" });
    expect(await c.list("incident", { query: where({ state: "1" }) })).toHaveLength(1);
    expect((await c.update("incident", id, { state: "2" })).state).toBe("2");
    expect(await c.delete("incident", id)).toBe("deleted");
    expect(await c.delete("incident", id)).toBe("absent");
    expect(await c.get("incident", id)).toBeUndefined();

    expect(stub.requests.map((r) => r.method)).toEqual(["POST", "GET", "GET", "PATCH", "DELETE", "DELETE", "GET"]);
    for (const r of stub.requests) {
      expect(r.headers.accept).toBe("application/json");
      expect(r.headers.authorization).toBe(`Basic ${Buffer.from("admin:admin-pw").toString("base64")}`);
      if (r.method !== "DELETE") expect(r.query.get("sysparm_exclude_reference_link")).toBe("true");
    }
    expect(stub.requests[1]?.query.get("sysparm_fields")).toBe("sys_id,state");
  });

  it("sends the encoded query as one escaped parameter", async () => {
    const c = client();
    await c.create("incident", { short_description: "x^ORstate=1" });
    await c.create("incident", { short_description: "other", state: "1" });
    const rows = await c.list("incident", { query: where({ short_description: "x^ORstate=1" }) });
    expect(rows.map((r) => r.short_description)).toEqual(["x^ORstate=1"]);
    expect(stub.requests.at(-1)?.query.get("sysparm_query")).toBe("short_description=x^^ORstate=1");
  });

  it("makes one GET by default and pages only when more rows are asked for", async () => {
    const c = client({ pageSize: 2 });
    for (let i = 0; i < 5; i++) await c.create("incident", { n: String(i) });
    stub.requests.length = 0;
    expect(await c.list("incident")).toHaveLength(2);
    expect(stub.requests).toHaveLength(1);
    stub.requests.length = 0;
    expect(await c.list("incident", { limit: 5 })).toHaveLength(5);
    expect(stub.requests.map((r) => [r.query.get("sysparm_limit"), r.query.get("sysparm_offset")])).toEqual([
      ["2", null],
      ["2", "2"],
      ["1", "4"],
    ]);
    expect(stub.requests[0]?.query.get("sysparm_query")).toBe("ORDERBYsys_id");
    stub.requests.length = 0;
    expect(await c.list("incident", { limit: 10, query: q().orderBy("n").build() })).toHaveLength(5);
    expect(stub.requests).toHaveLength(3); // the short third page ends it
    expect(stub.requests[0]?.query.get("sysparm_query")).toBe("ORDERBYn"); // an existing order is kept
  });

  it("flattens display_value=all answers and odd values to strings", () => {
    expect(toSnRecord({ a: { value: "1", display_value: "One" }, b: null, c: true, d: 3, e: ["x"] })).toEqual({
      a: "1",
      dv_a: "One",
      b: "",
      c: "true",
      d: "3",
      e: '["x"]',
    });
  });

  it("refuses bad table names, sys_ids and paths before sending anything", async () => {
    const c = client();
    await expect(c.list("incident;drop")).rejects.toThrow(/table name/);
    await expect(c.get("incident", "../sys_user")).rejects.toThrow(/sys_id/);
    await expect(c.request("GET", "https://evil.example.com/x")).rejects.toThrow(/path/);
    await expect(c.request("GET", "//evil.example.com/x")).rejects.toThrow(/path/);
    const e = (await c.request("GET", "/api/x?x-sn-apikey=secret-in-path").then(
      () => new Error("expected a failure"),
      (err: unknown) => err,
    )) as Error;
    expect(e.message).toMatch(/query/);
    expect(JSON.stringify(e) + e.stack).not.toContain("secret-in-path");
    expect(stub.requests).toHaveLength(0);
  });
});

describe("TableClient errors carry hints", () => {
  function answer(status: number, message: string, headers: Record<string, string> = {}) {
    stub.setHandler((_req, res) => sendSnError(res, status, message, "", headers));
  }

  it("400 Invalid table api_key → the token auth plugin is off", async () => {
    answer(400, "Invalid table api_key");
    const e = await failure(client().create("api_key", { name: "k" }));
    expect(e.status).toBe(400);
    expect(e.operation).toBe("create api_key");
    expect(e.table).toBe("api_key");
    expect(e.message).toContain("com.glide.tokenbased_auth");
    expect(e.hint).toContain("System Applications > All Available Applications");
  });

  it("400 on another table names it", async () => {
    answer(400, "Invalid table u_nothing");
    const e = await failure(client().list("u_nothing"));
    expect(e.message).toContain("table u_nothing does not exist");
  });

  it("401 with basic auth mentions wrong credentials and Basic Auth Restriction", async () => {
    answer(401, "User Not Authenticated");
    const e = await failure(client().get("incident", "0".repeat(32)));
    expect(e.message).toMatch(/servicenow:password/);
    expect(e.message).toContain("snc_basic_auth_api_access");
    expect(e.message).toContain('"admin"');
    expect(stub.requests).toHaveLength(1); // not retried
  });

  it("403 on a security table names the roles", async () => {
    answer(403, "Insufficient rights to insert records");
    const e = await failure(client().create("sys_api_access_policy", { name: "p" }));
    expect(e.message).toContain("api_service_admin");
    expect(e.message).toContain("adaptive_auth_policy_admin");
    expect(e.message).toContain("admin");
  });

  it("404 on a non-table path says the API is missing; 404 on update says the record is gone", async () => {
    answer(404, "Requested URI does not represent any resource");
    const e = await failure(client().request("GET", "/api/sn_em_connector/em/inbound_event"));
    expect(e.message).toMatch(/endpoint \/api\/sn_em_connector\/em\/inbound_event does not exist/);
    expect(e.hint).toMatch(/plugin/);
    const u = await failure(client().update("incident", "0".repeat(32), { state: "2" }));
    expect(u.message).toMatch(/record does not exist/);
    expect(u.hint).toMatch(/pulumi refresh/);
  });

  it("500 is retried like any answer that does not show the request had no effect, then points at the instance's scripts", async () => {
    answer(500, "Operation Failed");
    const e = await failure(client({ retry: { ...fakeClock(), maxAttempts: 2 } }).list("incident"));
    expect(stub.requests).toHaveLength(2);
    expect(e.message).toContain("Operation Failed");
    expect(e.hint).toMatch(/business rule/);
  });

  it("an HTML page instead of JSON suggests a sleeping instance", async () => {
    stub.setHandler((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<html><body>Your instance is hibernating</body></html>");
    });
    const e = await failure(client().list("incident"));
    expect(e.message).toMatch(/hibernating/);
  });

  it("a redirect is not followed", async () => {
    stub.setHandler((_req, res) => {
      res.writeHead(302, { Location: "https://developer.servicenow.com/wake" });
      res.end();
    });
    const e = await failure(client().list("incident"));
    expect(e.status).toBe(302);
    expect(stub.requests).toHaveLength(1);
  });

  it("accepted statuses are returned to the caller of request()", async () => {
    answer(401, "User is not authenticated");
    const res = await client().request("GET", "/api/now/table/sys_user", { auth: "none", acceptStatus: [401] });
    expect(res.status).toBe(401);
    expect(stub.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("the onRequest observer sees method, table, status and attempt", async () => {
    const events: unknown[] = [];
    await client({ onRequest: (e) => events.push(e) }).list("incident");
    expect(events).toEqual([{ method: "GET", table: "incident", status: 200, attempt: 1 }]);
  });

  it("sends form bodies and extra headers through request()", async () => {
    stub.setHandler((_req, res) => sendJson(res, 200, { ok: true }));
    const res = await client().request("POST", "/api/x/y", { form: "a=1&b=2", headers: { "X-Extra": "1" }, query: { p: "v", skip: undefined } });
    expect(res.data).toEqual({ ok: true });
    const r = stub.requests[0];
    expect(r?.body).toBe("a=1&b=2");
    expect(r?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(r?.headers["x-extra"]).toBe("1");
    expect(r?.query.toString()).toBe("p=v");
  });
});
