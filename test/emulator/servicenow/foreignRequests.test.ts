/** Requests addressed to another host (DNS rebinding) or sent from another site's page are refused. */
import { connect } from "node:net";
import { startFreshserviceEmulator } from "../../../emulator/freshservice";
import { startIvantiEmulator } from "../../../emulator/ivanti";
import { isLoopbackHost, isLoopbackOrigin } from "../../../emulator/shared/loopbackGuard";
import { call, client } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

const FOREIGN_HOST = {
  error: { message: "Misdirected Request", detail: "This emulator answers only requests addressed to localhost, 127.x.x.x or [::1]" },
  status: "failure",
};
const FOREIGN_ORIGIN = {
  error: { message: "Forbidden", detail: "Requests from web pages outside this machine are refused" },
  status: "failure",
};

/** One raw HTTP/1.0 request without a Host header; resolves with the status line. */
function withoutHost(url: string, path: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`GET ${path} HTTP/1.0\r\nAccept: application/json\r\n\r\n`));
    let text = "";
    socket.setTimeout(5_000, () => socket.destroy(new Error("no answer")));
    socket.on("data", (c: Buffer) => (text += c.toString()));
    socket.on("end", () => resolve(text.split("\r\n")[0]));
    socket.on("error", reject);
  });
}

describe("loopback names", () => {
  test.each(["localhost", "LOCALHOST:8080", "127.0.0.1", "127.0.0.1:443", "127.255.3.4:65535", "[::1]", "[::1]:9000"])("%s is a loopback Host", (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });

  test.each([
    "",
    "evil.example",
    "evil.example:8080",
    "localhost.evil.example",
    "127.0.0.1.nip.io",
    "128.0.0.1",
    "127.0.0.256",
    "127.0.0",
    "0.0.0.0",
    "[::2]",
    "::1",
    "localhost:80/x",
    "localhost:port",
  ])("%j is not", (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });

  test("origins: http(s) on a loopback name only", () => {
    for (const o of ["http://localhost", "http://localhost:3000", "https://127.0.0.1:8443", "http://[::1]:5173"]) expect(isLoopbackOrigin(o)).toBe(true);
    for (const o of ["null", "", "https://evil.example", "http://localhost.evil.example", "file://", "http://127.0.0.1:3000/path", "ftp://localhost"]) {
      expect(isLoopbackOrigin(o)).toBe(false);
    }
  });
});

describe("the ServiceNow emulator refuses foreign requests", () => {
  const em = useServiceNowEmulator();
  let api: ReturnType<typeof client>;
  const port = () => new URL(em.url).port;
  beforeAll(() => {
    api = client(em.url);
  });

  test("a foreign Host is answered 421 with the error envelope, on the API and the admin routes, and nothing happens", async () => {
    const host = { Host: `rebound.example:${port()}` };
    const read = await api.get("/api/now/table/incident", { headers: host });
    expect(read.status).toBe(421);
    expect(read.body).toEqual(FOREIGN_HOST);
    const write = await api.post("/api/now/table/incident", { short_description: "via rebinding" }, { headers: host });
    expect(write.status).toBe(421);
    expect(em.store.query("incident", (r) => r.short_description === "via rebinding")).toHaveLength(0);
    expect((await call(em.url, "GET", "/__emulator/options", { headers: host })).status).toBe(421);
    expect((await call(em.url, "PUT", "/__emulator/faults", { headers: host, body: { failNext: { count: 1, status: 500 } } })).status).toBe(421);
    expect((await api.get("/api/now/table/incident")).status).toBe(200);
    expect(em.metrics().total).toBe(1);
  });

  test("a request without any Host is refused too", async () => {
    expect(await withoutHost(em.url, "/__emulator/metrics")).toMatch(/^HTTP\/1\.1 421 /);
  });

  test("a text/plain POST from another site's page cannot reset the emulator", async () => {
    await api.post("/api/now/table/incident", { short_description: "survives" });
    const res = await call(em.url, "POST", "/__emulator/reset", {
      headers: { Origin: "https://evil.example", "Content-Type": "text/plain" },
      rawBody: "{}",
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(FOREIGN_ORIGIN);
    expect(em.store.query("incident", (r) => r.short_description === "survives")).toHaveLength(1);
  });

  test("a foreign or null Origin is refused on the Table API", async () => {
    for (const origin of ["https://evil.example", "null", `http://localhost.evil.example:${port()}`]) {
      const res = await api.post(
        "/api/now/table/incident",
        { short_description: `from ${origin}` },
        { headers: { Origin: origin, "Content-Type": "text/plain" } },
      );
      expect(res.status).toBe(403);
      expect(res.body).toEqual(FOREIGN_ORIGIN);
    }
    expect(em.store.query("incident", (r) => r.short_description.startsWith("from "))).toHaveLength(0);
  });

  test("loopback Hosts and Origins are served", async () => {
    const cases: Record<string, string>[] = [
      { Host: `localhost:${port()}` },
      { Host: `127.0.0.1:${port()}` },
      { Host: "127.0.0.1" },
      { Host: `[::1]:${port()}` },
      { Host: `localhost:${port()}`, Origin: "http://localhost:3000" },
      { Host: `127.0.0.1:${port()}`, Origin: `http://127.0.0.1:${port()}` },
      { Host: `127.0.0.1:${port()}`, Origin: "https://[::1]" },
    ];
    for (const headers of cases) {
      expect((await api.get("/api/now/table/incident?sysparm_limit=1", { headers })).status).toBe(200);
    }
    const reset = await call(em.url, "POST", "/__emulator/reset", { headers: { Origin: `http://localhost:${port()}` } });
    expect(reset.status).toBe(204);
  });
});

describe("the Freshservice and Ivanti emulators share the same refusal", () => {
  test.each([
    ["Freshservice", () => startFreshserviceEmulator(), "/api/v2/agents/me"],
    ["Ivanti", () => startIvantiEmulator(), "/api/odata/businessobject/incidents"],
  ])("%s: foreign Host 421, foreign Origin 403, loopback passes on", async (_name, start, path) => {
    const emu = await start();
    try {
      const host = await call(emu.url, "GET", path, { headers: { Host: "rebound.example" } });
      expect(host.status).toBe(421);
      expect(host.body.error).toBe("Misdirected Request");
      const origin = await call(emu.url, "POST", path, { headers: { Origin: "https://evil.example", "Content-Type": "text/plain" }, rawBody: "x" });
      expect(origin.status).toBe(403);
      expect(origin.body.error).toBe("Forbidden");
      // Not refused as foreign: the platform's own answer (here, missing credentials).
      const own = await call(emu.url, "GET", path, { headers: { Host: "localhost", Origin: "http://127.0.0.1:8080" } });
      expect(own.status).toBe(401);
    } finally {
      await emu.stop();
    }
  });
});
