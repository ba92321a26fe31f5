import { connect } from "node:net";
import { ADMIN, call, client } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

const BAD_JSON = { error: { message: "Exception while reading request", detail: "The payload is not valid JSON." }, status: "failure" };

function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1", () => sock.write(text));
    let out = "";
    sock.setTimeout(5000, () => sock.destroy(new Error("timeout")));
    sock.on("data", (c) => (out += c.toString()));
    sock.on("end", () => resolve(out));
    sock.on("close", () => resolve(out));
    sock.on("error", reject);
  });
}

describe("8. bad input never crashes it", () => {
  const em = useServiceNowEmulator({ maxBodyBytes: 4096 });
  let api: ReturnType<typeof client>;
  beforeAll(() => {
    api = client(em.url);
  });

  afterEach(async () => {
    // Whatever the test sent, the emulator still answers.
    expect((await api.get("/api/now/table/incident?sysparm_limit=1")).status).toBe(200);
  });

  test("malformed JSON on POST and PATCH: 400 Exception while reading request", async () => {
    const post = await call(em.url, "POST", "/api/now/table/incident", {
      auth: ADMIN,
      rawBody: '{"short_description": ',
      headers: { "Content-Type": "application/json" },
    });
    expect(post.status).toBe(400);
    expect(post.body).toEqual(BAD_JSON);
    const id = em.store.query("incident")[0].sys_id;
    const patch = await call(em.url, "PATCH", `/api/now/table/incident/${id}`, {
      auth: ADMIN,
      rawBody: "nope",
      headers: { "Content-Type": "application/json" },
    });
    expect(patch.status).toBe(400);
    expect(patch.body).toEqual(BAD_JSON);
  });

  test("JSON that is not an object: 400", async () => {
    for (const raw of ["[1,2]", '"text"', "42", "null"]) {
      const res = await call(em.url, "POST", "/api/now/table/incident", { auth: ADMIN, rawBody: raw });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe("Exception while reading request");
    }
  });

  test("an oversized body: 413 with the envelope, nothing written", async () => {
    const before = em.store.query("incident").length;
    const res = await call(em.url, "POST", "/api/now/table/incident", { auth: ADMIN, body: { short_description: "x".repeat(10_000) } });
    expect(res.status).toBe(413);
    expect(res.body.status).toBe("failure");
    expect(em.store.query("incident")).toHaveLength(before);
  });

  test("a grossly oversized body cuts the connection instead of draining forever", async () => {
    await expect(call(em.url, "POST", "/api/now/table/incident", { auth: ADMIN, rawBody: Buffer.alloc(4096 * 20, 0x61) })).rejects.toThrow();
  });

  test("a body cut off by the client is never acted on, even when the part received is valid JSON", async () => {
    const before = em.store.query("incident").length;
    const port = Number(em.url.split(":")[2]);
    await new Promise<void>((resolve, reject) => {
      const sock = connect(port, "127.0.0.1", () => {
        sock.write(
          `POST /api/now/table/incident HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"short_description":"cut"}`,
        );
        setTimeout(() => {
          sock.destroy();
          resolve();
        }, 100);
      });
      sock.on("error", reject);
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(em.store.query("incident")).toHaveLength(before);
  });

  test("unknown fields and odd value types are accepted the platform's way", async () => {
    const res = await api.post("/api/now/table/incident", {
      short_description: { nested: true },
      impact: 1,
      u_unknown: [1, 2],
      active: null,
      description: ["a", "b"],
    });
    expect(res.status).toBe(201);
    expect(res.body.result.short_description).toBe('{"nested":true}');
    expect(res.body.result.impact).toBe("1");
    expect(res.body.result.active).toBe("false");
    expect(res.body.result.description).toBe("a,b");
    expect(res.body.result).not.toHaveProperty("u_unknown");
  });

  test("malformed sys_ids: 404 for GET, PATCH, PUT and DELETE", async () => {
    for (const id of ["x", "ZZZZ", "%zz", "0".repeat(33), "..%2F..%2Fetc"]) {
      expect((await api.get(`/api/now/table/incident/${id}`)).status).toBe(404);
      expect((await api.patch(`/api/now/table/incident/${id}`, {})).status).toBe(404);
      expect((await api.put(`/api/now/table/incident/${id}`, {})).status).toBe(404);
      expect((await api.del(`/api/now/table/incident/${id}`)).status).toBe(404);
    }
  });

  test("bad encoded queries are answered 200, their bad terms ignored", async () => {
    for (const q of ["^^^", "^OR^NQ", "=x", "ORDERBY", "nameLIKE", "%ZZ", "priority<", "a".repeat(5000)]) {
      const res = await api.get(`/api/now/table/incident?sysparm_query=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body.result)).toBe(true);
    }
    const raw = await api.get("/api/now/table/incident?sysparm_query=%E0%A4%A");
    expect(raw.status).toBe(200);
  });

  test("odd paging parameters fall back to defaults", async () => {
    const res = await api.get("/api/now/table/incident?sysparm_limit=-5&sysparm_offset=abc&sysparm_display_value=maybe");
    expect(res.status).toBe(200);
    expect(res.body.result.length).toBe(3);
  });

  test("unknown paths, versions and methods", async () => {
    const unknown = await api.get("/api/now/nothing/here");
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe("Requested URI does not represent any resource");
    expect((await api.get("/api/now/v9/table/incident")).status).toBe(400);
    const del = await api.del("/api/now/table/incident");
    expect(del.status).toBe(405);
    expect(del.body.status).toBe("failure");
    expect((await call(em.url, "POST", "/api/now/table/incident/" + "0".repeat(32), { auth: ADMIN, body: {} })).status).toBe(405);
    expect((await api.get("/oauth_token.do")).status).toBe(405);
  });

  test("garbage on the socket gets 400 and the server carries on", async () => {
    const port = Number(em.url.split(":")[2]);
    const out = await rawExchange(port, "THIS IS NOT HTTP\r\n\r\n");
    expect(out).toMatch(/^HTTP\/1\.1 400/);
  });

  test("a malformed OAuth form is refused, not crashed on", async () => {
    const res = await call(em.url, "POST", "/oauth_token.do", { rawBody: "%%%&&&=", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("unsupported_grant_type");
  });

  test("a malformed Authorization header is a 401", async () => {
    for (const auth of ["Basic", "Bearer", "Digest abc", "Basic " + "\u00ff".repeat(10)]) {
      const res = await call(em.url, "GET", "/api/now/table/incident", { auth: auth.replace(/[^\x20-\x7e]/g, "?") });
      expect(res.status).toBe(401);
    }
  });
});
