import { connect } from "node:net";
import { startFreshserviceEmulator, RunningFreshserviceEmulator } from "../../../emulator/freshservice";

let emu: RunningFreshserviceEmulator;
let key: string;

beforeAll(async () => {
  emu = await startFreshserviceEmulator();
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => {
  emu.reset();
  key = emu.addKey().key;
});

function basic(k: string, password = "X"): string {
  return `Basic ${Buffer.from(`${k}:${password}`).toString("base64")}`;
}

async function call(method: string, path: string, opts: { key?: string; auth?: string; body?: unknown; rawBody?: string; contentType?: string } = {}) {
  const headers: Record<string, string> = {};
  const auth = opts.auth ?? ((opts.key ?? key) ? basic(opts.key ?? key) : undefined);
  if (auth) headers.Authorization = auth;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["Content-Type"] = opts.contentType ?? "application/json";
  const res = await fetch(`${emu.url}/api/v2${path}`, { method, headers, body });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers are untyped JSON, inspected field by field
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

describe("Freshservice emulator: binding and auth", () => {
  test("listens on 127.0.0.1 on a system-chosen port", () => {
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.url.endsWith(":0")).toBe(false);
  });

  test("Basic auth with the key as user name and any password", async () => {
    expect((await call("GET", "/agents?per_page=1")).status).toBe(200);
    expect((await call("GET", "/agents?per_page=1", { auth: basic(key, "anything-else") })).status).toBe(200);
  });

  test("a missing or wrong key gets the documented 401 body", async () => {
    const none = await call("GET", "/agents", { auth: "" });
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ code: "invalid_credentials", message: "You have to be logged in to perform this action." });
    expect((await call("GET", "/agents", { key: "not-a-key" })).status).toBe(401);
    expect((await call("GET", "/agents", { auth: "Bearer abc" })).status).toBe(401);
    expect((await call("GET", "/agents", { auth: "Basic %%%%" })).status).toBe(401);
  });

  test("a revoked, regenerated or disabled key stops working; re-enabling brings it back", async () => {
    const other = emu.addKey();
    emu.revokeKey(other.key);
    expect((await call("GET", "/agents", { key: other.key })).status).toBe(401);

    const fresh = emu.regenerateKey(emu.adminAgentId);
    expect((await call("GET", "/agents", { key })).status).toBe(401);
    expect((await call("GET", "/agents", { key: fresh })).status).toBe(200);

    emu.setApiKeyEnabled(emu.adminAgentId, false);
    expect((await call("GET", "/agents", { key: fresh })).status).toBe(401);
    emu.setApiKeyEnabled(emu.adminAgentId, true);
    expect((await call("GET", "/agents", { key: fresh })).status).toBe(200);
  });

  test("a deactivated agent's key is refused", async () => {
    const a = emu.addAgent({ email: "bot@example.com", first_name: "Bot" });
    const k = emu.addKey({ agentId: a.id }).key;
    expect((await call("GET", "/roles", { key: k })).status).toBe(200);
    expect((await call("DELETE", `/agents/${a.id}`)).status).toBe(204);
    expect((await call("GET", "/roles", { key: k })).status).toBe(401);
  });

  test("GET /agents/me is not served (undocumented on Freshservice)", async () => {
    expect((await call("GET", "/agents/me")).status).toBe(404);
  });
});

describe("Freshservice emulator: rate limits", () => {
  test("every answer carries the per-minute headers of the plan", async () => {
    const a = await call("GET", "/roles");
    expect(a.headers.get("x-ratelimit-total")).toBe("200");
    expect(a.headers.get("x-ratelimit-remaining")).toBe("199");
    expect(a.headers.get("x-ratelimit-used-currentrequest")).toBe("1");
    const b = await call("GET", "/roles");
    expect(b.headers.get("x-ratelimit-remaining")).toBe("198");
    emu.setPlan("starter");
    expect((await call("GET", "/roles")).headers.get("x-ratelimit-total")).toBe("100");
    emu.setPlan("enterprise");
    expect((await call("GET", "/roles")).headers.get("x-ratelimit-total")).toBe("500");
  });

  test("over the limit: 429 with Retry-After until the minute turns; failed calls count", async () => {
    emu.setRateLimits({ perMinute: 3 });
    expect((await call("GET", "/roles", { key: "wrong" })).status).toBe(401);
    expect((await call("GET", "/roles")).status).toBe(200);
    expect((await call("GET", "/roles")).status).toBe(200);
    const limited = await call("GET", "/roles");
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(limited.json.code).toBeDefined();
    emu.advanceClock(60_000);
    expect((await call("GET", "/roles")).status).toBe(200);
    expect(emu.metrics().rateLimited).toBe(1);
  });

  test("list-agents calls have their own lower ceiling", async () => {
    emu.setRateLimits({ perMinute: 100, listAgentsPerMinute: 2 });
    expect((await call("GET", "/agents")).status).toBe(200);
    expect((await call("GET", "/agents")).status).toBe(200);
    expect((await call("GET", "/agents")).status).toBe(429);
    expect((await call("GET", "/roles")).status).toBe(200);
    expect((await call("GET", `/agents/${emu.adminAgentId}`)).status).toBe(200);
  });

  test("failNext injects a 429 with Retry-After, then service resumes", async () => {
    emu.failNext({ count: 1, status: 429, retryAfterSeconds: 7 });
    const r = await call("GET", "/tickets");
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("7");
    expect((await call("GET", "/tickets")).status).toBe(200);
  });
});

describe("Freshservice emulator: pagination", () => {
  test("page/per_page with a Link rel=next header; per_page max 100", async () => {
    for (let i = 0; i < 35; i++) emu.addAgent({ email: `a${i}@example.com`, first_name: `A${i}` });
    const p1 = await call("GET", "/agents");
    expect(p1.json.agents).toHaveLength(30);
    const link = p1.headers.get("link")!;
    expect(link).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/api\/v2\/agents\?.*page=2.*>; rel="next"$/);
    const nextUrl = /^<([^>]+)>/.exec(link)![1];
    const p2 = await fetch(nextUrl, { headers: { Authorization: basic(key) } });
    const body = (await p2.json()) as { agents: unknown[] };
    expect(body.agents).toHaveLength(6);
    expect(p2.headers.get("link")).toBeNull();
    const big = await call("GET", "/agents?per_page=101");
    expect(big.status).toBe(400);
    expect(big.json).toEqual({ description: "Validation failed", errors: [expect.objectContaining({ field: "per_page", code: "invalid_value" })] });
    expect((await call("GET", "/agents?page=0")).status).toBe(400);
    expect((await call("GET", "/agents?per_page=100")).json.agents).toHaveLength(36);
  });
});

describe("Freshservice emulator: agents and roles", () => {
  const roleOf = async (name: string) => ((await call("GET", "/roles")).json.roles as { id: number; name: string }[]).find((r) => r.name === name)!.id;

  test("roles are listed and read one by one", async () => {
    const list = await call("GET", "/roles");
    expect(list.json.roles.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(["Account Admin", "SD Agent"]));
    const one = await call("GET", `/roles/${list.json.roles[0].id}`);
    expect(one.json.role.name).toBe(list.json.roles[0].name);
    expect((await call("GET", "/roles/99999")).status).toBe(404);
    expect((await call("POST", "/roles", { body: { name: "x" } })).status).toBe(405);
  });

  test("create, read, update, deactivate, reactivate, forget", async () => {
    const sd = await roleOf("SD Agent");
    const created = await call("POST", "/agents", {
      body: { first_name: "Integration", last_name: "Bot", email: "bot@example.com", roles: [{ role_id: sd, assignment_scope: "entire_helpdesk" }] },
    });
    expect(created.status).toBe(201);
    const id = created.json.agent.id;
    expect(created.json.agent).toMatchObject({
      email: "bot@example.com",
      active: true,
      occasional: false,
      roles: [{ role_id: sd, assignment_scope: "entire_helpdesk", groups: [] }],
    });

    const upd = await call("PUT", `/agents/${id}`, { body: { job_title: "Integration", occasional: true } });
    expect(upd.status).toBe(200);
    expect(upd.json.agent).toMatchObject({ job_title: "Integration", occasional: true, first_name: "Integration" });

    expect((await call("DELETE", `/agents/${id}`)).status).toBe(204);
    expect((await call("GET", `/agents/${id}`)).json.agent.active).toBe(false);
    const inactive = await call("GET", "/agents?active=false");
    expect(inactive.json.agents.map((a: { id: number }) => a.id)).toEqual([id]);

    const re = await call("PUT", `/agents/${id}/reactivate`);
    expect(re.status).toBe(200);
    expect(re.json.agent.active).toBe(true);

    expect((await call("DELETE", `/agents/${id}/forget`)).status).toBe(204);
    expect((await call("GET", `/agents/${id}`)).status).toBe(404);
  });

  test("filters: email, state, query", async () => {
    emu.addAgent({ email: "ada@example.com", first_name: "Ada", last_name: "Lovelace" });
    emu.addAgent({ email: "bob@example.com", first_name: "Bob" });
    expect((await call("GET", "/agents?email=ADA@example.com")).json.agents).toHaveLength(1);
    expect((await call("GET", "/agents?state=occasional")).json.agents).toHaveLength(0);
    expect((await call("GET", "/agents?state=fulltime")).json.agents).toHaveLength(3);
    const q = await call("GET", `/agents?query=${encodeURIComponent(`"first_name:'Ada' AND active:true"`)}`);
    expect(q.json.agents.map((a: { email: string }) => a.email)).toEqual(["ada@example.com"]);
    expect((await call("GET", `/agents?query=${encodeURIComponent("drop table")}`)).status).toBe(400);
    const unknown = await call("GET", "/agents?colour=red");
    expect(unknown.json.errors[0]).toMatchObject({ field: "colour", code: "invalid_field" });
  });

  test("validation errors use the documented shape and codes", async () => {
    const missing = await call("POST", "/agents", { body: { email: "x@example.com" } });
    expect(missing.status).toBe(400);
    expect(missing.json.errors).toContainEqual(expect.objectContaining({ field: "first_name", code: "missing_field" }));
    const badEmail = await call("POST", "/agents", { body: { email: "nope", first_name: "N" } });
    expect(badEmail.json.errors).toContainEqual(expect.objectContaining({ field: "email", code: "invalid_value" }));
    const extra = await call("POST", "/agents", { body: { email: "e@example.com", first_name: "E", shoe_size: 9 } });
    expect(extra.json.errors).toContainEqual(expect.objectContaining({ field: "shoe_size", code: "invalid_field" }));
    const wrongType = await call("POST", "/agents", { body: { email: "e@example.com", first_name: "E", occasional: "yes" } });
    expect(wrongType.json.errors).toContainEqual(expect.objectContaining({ field: "occasional", code: "datatype_mismatch" }));
    const badRole = await call("POST", "/agents", {
      body: { email: "e@example.com", first_name: "E", roles: [{ role_id: 777, assignment_scope: "entire_helpdesk" }] },
    });
    expect(badRole.json.errors).toContainEqual(expect.objectContaining({ field: "roles.0.role_id", code: "invalid_value" }));
    const dup = await call("POST", "/agents", { body: { email: `admin@${emu.domain}.example`, first_name: "D" } });
    expect(dup.status).toBe(409);
    expect(dup.json.errors[0]).toMatchObject({ field: "email", code: "duplicate_value" });
  });

  test("an agent without a managing role gets 403 access_denied on writes, reads still work", async () => {
    const a = emu.addAgent({ email: "plain@example.com", first_name: "Plain", roleNames: ["SD Agent"] });
    const k = emu.addKey({ agentId: a.id }).key;
    expect((await call("GET", "/agents", { key: k })).status).toBe(200);
    const denied = await call("POST", "/agents", { key: k, body: { email: "n@example.com", first_name: "N" } });
    expect(denied.status).toBe(403);
    expect(denied.json).toEqual({ code: "access_denied", message: "You are not authorized to perform this action." });
  });

  test("a module turned off answers require_feature", async () => {
    emu.setModuleEnabled("tickets", false);
    const r = await call("GET", "/tickets?per_page=1");
    expect(r.status).toBe(403);
    expect(r.json.code).toBe("require_feature");
  });
});

describe("Freshservice emulator: bad input never crashes it", () => {
  test("malformed JSON, wrong content type, oversize body, long URL, bad paths", async () => {
    expect((await call("POST", "/agents", { rawBody: "{not json" })).json.errors[0].code).toBe("invalid_json");
    expect((await call("POST", "/agents", { rawBody: "[]" })).status).toBe(400);
    expect((await call("POST", "/agents", { rawBody: "null" })).status).toBe(400);
    expect((await call("POST", "/agents", { rawBody: "{}", contentType: "text/plain" })).status).toBe(415);
    expect((await call("POST", "/agents", { rawBody: JSON.stringify({ first_name: "x".repeat(70_000) }) })).status).toBe(413);
    expect((await call("GET", `/agents?q=${"a".repeat(5000)}`)).status).toBe(414);
    expect((await call("GET", "/agents/%zz")).status).toBe(404);
    expect((await call("GET", "/agents/abc")).status).toBe(404);
    expect((await call("GET", "/agents/99999999999999999999")).status).toBe(404);
    expect((await call("PATCH", "/agents")).status).toBe(405);
    expect((await fetch(`${emu.url}/nothing/here`)).status).toBe(404);
    expect((await call("GET", "/agents?per_page=abc")).status).toBe(400);
    expect((await call("GET", `/agents?query=${encodeURIComponent("x".repeat(600))}`)).status).toBe(400);
    expect((await call("GET", "/roles")).status).toBe(200);
  });

  test("garbage on the socket gets a 400 and the server keeps serving", async () => {
    const reply = await new Promise<string>((resolve) => {
      const port = Number(new URL(emu.url).port);
      const s = connect(port, "127.0.0.1", () => s.write("\x00\x01 GARBAGE \r\n\r\n"));
      let buf = "";
      s.on("data", (d) => (buf += d.toString()));
      s.on("close", () => resolve(buf));
      s.setTimeout(3000, () => s.destroy());
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await call("GET", "/roles")).status).toBe(200);
  });

  test("a burst of random requests leaves it healthy", async () => {
    emu.setRateLimits({ perMinute: 10_000, listAgentsPerMinute: 10_000 });
    const methods = ["GET", "POST", "PUT", "DELETE"];
    const paths = ["/agents", "/agents/1000", "/agents/1000/reactivate", "/roles/1", "/tickets", "/x/../agents", "/agents/-1"];
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const bodies = ['{"first_name":1}', '{"roles":[{"role_id":"a"}]}', "\u0000\u0001", '{"email":"z@example.com","first_name":"Z","roles":5}', "{}"];
    for (let i = 0; i < 60; i++) {
      const m = methods[rnd(methods.length)];
      const r = await call(m, paths[rnd(paths.length)], m === "GET" || m === "DELETE" ? {} : { rawBody: bodies[rnd(bodies.length)] });
      expect(r.status).toBeLessThan(500);
    }
    expect((await call("GET", "/roles")).status).toBe(200);
  });

  test("test controls refuse out-of-range values", () => {
    expect(() => emu.setRateLimits({ perMinute: 0 })).toThrow();
    expect(() => emu.advanceClock(-1)).toThrow();
    expect(() => emu.failNext({ count: 1, status: 200 })).toThrow();
    expect(() => emu.addKey({ agentId: 424242 })).toThrow();
  });
});

describe("Freshservice emulator: metrics and reset", () => {
  test("metrics count routes and statuses; reset restores the seed", async () => {
    emu.resetMetrics();
    await call("GET", `/agents/${emu.adminAgentId}`);
    await call("GET", "/agents", { key: "bad" });
    const m = emu.metrics();
    expect(m.total).toBe(2);
    expect(m.byRoute["GET /agents/{id}"]).toBe(1);
    expect(m.byStatus["401"]).toBe(1);
    expect(m.authFailures).toBe(1);
    emu.addAgent({ email: "temp@example.com", first_name: "Temp" });
    emu.reset();
    expect(emu.agents()).toHaveLength(1);
    expect(emu.metrics().total).toBe(0);
    expect((await call("GET", "/roles", { key })).status).toBe(401);
  });
});
