import { connect } from "node:net";
import { startIvantiEmulator, RunningIvantiEmulator } from "../../../emulator/ivanti";

let emu: RunningIvantiEmulator;
let key: string;

beforeAll(async () => {
  emu = await startIvantiEmulator();
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => {
  emu.reset();
  key = emu.addKey().referenceId;
});

async function call(path: string, opts: { auth?: string | null; method?: string; prefix?: string } = {}) {
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? `rest_api_key=${key}` : opts.auth;
  if (auth !== null) headers.Authorization = auth;
  const res = await fetch(`${emu.url}${opts.prefix ?? "/api"}/odata/${path}`, { method: opts.method ?? "GET", headers });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers are untyped JSON, inspected field by field
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json, text };
}

const AUTH_REQUIRED = { code: "ISM_4001", description: "Invalid session key or session timed out", message: ["Authentication required"] };

describe("Ivanti emulator: keys", () => {
  test("listens on 127.0.0.1 on a system-chosen port", () => {
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test("Authorization: rest_api_key=<Reference ID> is accepted", async () => {
    const r = await call("businessobject/incidents?$top=1");
    expect(r.status).toBe(200);
    expect(r.json.value).toHaveLength(1);
    expect(r.json["@odata.count"]).toBe(4);
  });

  test("other spellings and unknown keys get the ISM_4001 refusal", async () => {
    for (const auth of [null, `Bearer ${key}`, `rest_api_key= ${key}`, `rest_api_key ${key}`, key, "rest_api_key=UNKNOWN", `REST_API_KEY=${key}x`]) {
      const r = await call("businessobject/incidents", { auth });
      expect(r.status).toBe(401);
      expect(r.json).toEqual(AUTH_REQUIRED);
    }
  });

  test("deactivated and deleted keys are refused; reactivation restores access", async () => {
    emu.editKey(key, { activated: false });
    expect((await call("businessobject/incidents")).status).toBe(401);
    emu.editKey(key, { activated: true });
    expect((await call("businessobject/incidents")).status).toBe(200);
    emu.deleteKey(key);
    expect((await call("businessobject/incidents")).status).toBe(401);
    expect(emu.metrics().refusals).toMatchObject({ deactivated: 1, unknown_key: 1 });
  });

  test("a key from another tenant is refused as not authorized", async () => {
    const foreign = emu.addKey({ tenant: "other.ivanticloud.com" }).referenceId;
    const r = await call("businessobject/incidents", { auth: `rest_api_key=${foreign}` });
    expect(r.status).toBe(401);
    expect(r.json.code).toBe("ISM_4001");
    expect(r.json.description).toBe("Not authorized");
    expect(emu.metrics().refusals.wrong_tenant).toBe(1);
  });

  test("a key with an IP list admits only those addresses", async () => {
    const k = emu.addKey({ ipList: ["203.0.113.7"] }).referenceId;
    const auth = `rest_api_key=${k}`;
    expect((await call("businessobject/incidents", { auth })).status).toBe(401);
    emu.setClientIp("203.0.113.7");
    expect((await call("businessobject/incidents", { auth })).status).toBe(200);
    emu.setClientIp(undefined);
    emu.editKey(k, { ipList: ["127.0.0.1"] });
    expect((await call("businessobject/incidents", { auth })).status).toBe(200);
    expect(emu.metrics().refusals.ip_not_allowed).toBe(1);
  });

  test("the key's role decides which business objects it reads", async () => {
    const k = emu.addKey({ role: "SelfService" }).referenceId;
    expect((await call("businessobject/incidents", { auth: `rest_api_key=${k}` })).status).toBe(200);
    const r = await call("businessobject/employees", { auth: `rest_api_key=${k}` });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe("ISM_4003");
  });

  test("keys live in key groups", () => {
    emu.addKeyGroup("Integrations", "keys for integrations");
    const k = emu.addKey({ group: "Integrations", description: "keywire" });
    expect(k.group).toBe("Integrations");
    expect(emu.keyGroups().map((g) => g.name)).toEqual(expect.arrayContaining(["REST API", "Integrations"]));
    expect(k.referenceId).toMatch(/^[0-9A-F]{32}$/);
  });
});

describe("Ivanti emulator: OData", () => {
  test("$metadata is EDMX naming the business objects", async () => {
    const r = await call("$metadata");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/xml/);
    expect(r.text).toContain('<EntitySet Name="incidents" EntityType="Ivanti.Incident"/>');
    expect(r.text).toContain('<EntityType Name="Employee">');
    expect((await call("$metadata", { auth: null })).status).toBe(401);
  });

  test("$top, $skip, $filter, $select, $orderby", async () => {
    const all = await call("businessobject/incidents?$orderby=IncidentNumber desc");
    expect(all.json.value.map((r: { IncidentNumber: number }) => r.IncidentNumber)).toEqual([10004, 10003, 10002, 10001]);
    const page = await call("businessobject/incidents?$top=2&$skip=1&$orderby=IncidentNumber");
    expect(page.json.value.map((r: { IncidentNumber: number }) => r.IncidentNumber)).toEqual([10002, 10003]);
    const filtered = await call(`businessobject/incidents?$filter=${encodeURIComponent("Status eq 'Active' and Priority ne '3'")}`);
    expect(filtered.json.value.every((r: { Status: string; Priority: string }) => r.Status === "Active" && r.Priority !== "3")).toBe(true);
    const sel = await call("businessobject/employees?$select=LoginID,Status&$top=1");
    expect(Object.keys(sel.json.value[0]).sort()).toEqual(["LoginID", "Status"]);
    expect(sel.json["@odata.context"]).toBe(`${emu.url}/api/odata/$metadata#employees`);
  });

  test("one record by RecId; missing and empty keys get ISM_4000", async () => {
    const id = emu.addRecord("incidents", { Subject: "Printer on fire", Status: "Active" });
    const r = await call(`businessobject/incidents('${id}')`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ RecId: id, Subject: "Printer on fire" });
    const missing = await call("businessobject/incidents('1234')");
    expect(missing.status).toBe(400);
    expect(missing.json.code).toBe("ISM_4000");
    expect((await call("businessobject/incidents(' ')")).json.message).toEqual(["Key value cannot be empty"]);
  });

  test("unknown objects and paths get 404 ISM_4004 Invalid Path", async () => {
    for (const p of ["businessobject/incidentsx", "businessobject", "nothing", "businessobject/incidents/extra"]) {
      const r = await call(p);
      expect(r.status).toBe(404);
      expect(r.json).toEqual({ code: "ISM_4004", description: "Requested resource does not exist", message: ["Invalid Path"] });
    }
  });

  test("bad query options get 400 ISM_4000", async () => {
    for (const q of ["$top=101", "$top=-1", "$top=x", "$skip=a", "$filter=Nope eq 1", "$filter=Status like 'A'", "$select=Nope", "$orderby=a,b", "$expand=x"]) {
      const r = await call(`businessobject/incidents?${q}`);
      expect(r.status).toBe(400);
      expect(r.json.code).toBe("ISM_4000");
    }
  });

  test("the /HEAT prefix variant is a switch", async () => {
    emu.setHeatPrefix(true);
    expect((await call("businessobject/incidents", { prefix: "/HEAT/api" })).status).toBe(200);
    expect((await call("businessobject/incidents")).status).toBe(404);
    emu.setHeatPrefix(false);
    expect((await call("businessobject/incidents", { prefix: "/HEAT/api" })).status).toBe(404);
    const heat = await startIvantiEmulator({ heatPrefix: true });
    try {
      const k = heat.addKey().referenceId;
      const r = await fetch(`${heat.url}/HEAT/api/odata/businessobject/incidents?$top=1`, { headers: { Authorization: `rest_api_key=${k}` } });
      expect(r.status).toBe(200);
    } finally {
      await heat.stop();
    }
  });

  test("failNext injects failures with Retry-After", async () => {
    emu.failNext({ count: 1, status: 503, retryAfterSeconds: 2 });
    const r = await call("businessobject/incidents");
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("2");
    expect((await call("businessobject/incidents")).status).toBe(200);
  });
});

describe("Ivanti emulator: bad input never crashes it", () => {
  test("odd paths, methods, encodings and huge URLs", async () => {
    expect((await call("businessobject/%zz")).status).toBe(404);
    expect((await call(`businessobject/incidents('${"%27".repeat(10)}')`)).status).toBeLessThan(500);
    expect((await call("businessobject/incidents", { method: "POST" })).status).toBe(405);
    expect((await call("businessobject/incidents", { method: "DELETE" })).status).toBe(405);
    expect((await call(`businessobject/incidents?$filter=${"a".repeat(5000)}`)).status).toBe(414);
    expect((await call(`businessobject/incidents?$filter=${encodeURIComponent("Subject eq '" + "x".repeat(1100) + "'")}`)).status).toBe(400);
    expect((await call("businessobject/incidents", { auth: "rest_api_key=" + "A".repeat(300) })).status).toBe(401);
    expect((await fetch(`${emu.url}/`)).status).toBe(404);
    expect((await call("businessobject/incidents")).status).toBe(200);
  });

  test("a request body is drained and ignored", async () => {
    const r = await fetch(`${emu.url}/api/odata/businessobject/incidents`, {
      method: "PATCH",
      headers: { Authorization: `rest_api_key=${key}`, "Content-Type": "application/json" },
      body: "x".repeat(200_000),
    });
    expect(r.status).toBe(405);
    const big = await fetch(`${emu.url}/api/odata/businessobject/incidents`, {
      method: "POST",
      headers: { Authorization: `rest_api_key=${key}`, "Content-Type": "application/json" },
      body: "x".repeat(2 * 1024 * 1024),
    }).catch(() => undefined);
    if (big) expect(big.status).toBe(413);
    expect((await call("businessobject/incidents")).status).toBe(200);
  });

  test("garbage on the socket gets a 400 and the server keeps serving", async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = connect(Number(new URL(emu.url).port), "127.0.0.1", () => s.write("NOT HTTP AT ALL\r\n\r\n"));
      let buf = "";
      s.on("data", (d) => (buf += d.toString()));
      s.on("close", () => resolve(buf));
      s.setTimeout(3000, () => s.destroy());
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await call("$metadata")).status).toBe(200);
  });

  test("test controls refuse bad values", () => {
    expect(() => emu.addKey({ role: "Nobody" })).toThrow();
    expect(() => emu.addKey({ ipList: ["not-an-ip"] })).toThrow();
    expect(() => emu.setClientIp("999.1.1.1")).toThrow();
    expect(() => emu.editKey("nope", { activated: false })).toThrow();
    expect(() => emu.addRecord("widgets", {})).toThrow();
    expect(() => emu.addKeyGroup("<script>")).toThrow();
  });
});

describe("Ivanti emulator: metrics and reset", () => {
  test("metrics by route/status; reset forgets keys and restores records", async () => {
    emu.resetMetrics();
    await call("$metadata");
    await call("businessobject/incidents");
    await call("businessobject/incidents", { auth: null });
    const m = emu.metrics();
    expect(m.total).toBe(3);
    expect(m.byRoute["GET businessobject/{object}"]).toBe(2);
    expect(m.byRoute["GET $metadata"]).toBe(1);
    expect(m.byStatus["401"]).toBe(1);
    emu.addRecord("incidents", { Subject: "extra" });
    emu.reset();
    expect(emu.keys()).toHaveLength(0);
    expect((await call("businessobject/incidents")).status).toBe(401);
    const k = emu.addKey().referenceId;
    expect((await call("businessobject/incidents", { auth: `rest_api_key=${k}` })).json["@odata.count"]).toBe(4);
  });
});
