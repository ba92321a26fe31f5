import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { startFreshserviceEmulator, RunningFreshserviceEmulator } from "../../emulator/freshservice";
import { createFreshserviceClient, nextLink, planForLimit } from "../../resources/freshservice/client";
import { rejection } from "../support/rejection";

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

/** A one-off server whose answers a test writes by hand; records what it received. */
async function stubServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; seen: IncomingMessage[]; server: Server }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe("Freshservice client", () => {
  test("listAll follows Link rel=next page by page", async () => {
    for (let i = 0; i < 250; i++) emu.addAgent({ email: `a${i}@example.com`, first_name: `A${i}` });
    emu.resetMetrics();
    const client = createFreshserviceClient({ domain: "keywire-test", baseUrl: emu.url, apiKey: key });
    const all = await client.listAll<{ id: number }>("/api/v2/agents", "agents");
    expect(all).toHaveLength(251);
    expect(new Set(all.map((a) => a.id)).size).toBe(251);
    expect(emu.metrics().byRoute["GET /agents"]).toBe(3);
  });

  test("a Link to another origin is not followed, and the key goes nowhere else", async () => {
    const other = await stubServer((_req, res) => res.end("{}"));
    const stub = await stubServer((_req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.setHeader("Link", `<${other.url}/api/v2/agents?page=2>; rel="next"`);
      res.end(JSON.stringify({ agents: [{ id: 1 }] }));
    });
    try {
      const client = createFreshserviceClient({ domain: "d", baseUrl: stub.url, apiKey: "the-key-1" });
      expect(await client.listAll("/api/v2/agents", "agents")).toEqual([{ id: 1 }]);
      expect(stub.seen).toHaveLength(1);
      expect(other.seen).toHaveLength(0);
    } finally {
      stub.server.close();
      other.server.close();
    }
  });

  test("redirects are not followed", async () => {
    const other = await stubServer((_req, res) => res.end("{}"));
    const stub = await stubServer((_req, res) => {
      res.statusCode = 302;
      res.setHeader("Location", `${other.url}/login`);
      res.end();
    });
    try {
      const client = createFreshserviceClient({ domain: "d", baseUrl: stub.url, apiKey: "the-key-2" });
      const e = await rejection(client.request("GET", "/api/v2/agents"));
      expect(e.status).toBe(302);
      expect(other.seen).toHaveLength(0);
    } finally {
      stub.server.close();
      other.server.close();
    }
  });

  test("a server that echoes the credentials back does not get them into the error", async () => {
    const stub = await stubServer((req, res) => {
      res.statusCode = 400;
      res.setHeader("Content-Type", "application/json");
      res.end(
        JSON.stringify({
          description: `bad request from ${req.headers.authorization}`,
          errors: [{ field: "x", message: `key ${Buffer.from(String(req.headers.authorization).slice(6), "base64").toString()}`, code: "invalid_value" }],
        }),
      );
    });
    try {
      const secret = "Zq8secretKEYvalue";
      const client = createFreshserviceClient({ domain: "d", baseUrl: stub.url, apiKey: secret });
      const e = await rejection(client.request("GET", "/api/v2/agents"));
      const all = `${e.message} ${JSON.stringify(e)} ${inspect(e)}`;
      expect(all).not.toContain(secret);
      expect(all).not.toContain(Buffer.from(`${secret}:X`).toString("base64"));
      expect(e.status).toBe(400);
      expect(e.message).toContain("invalid_value");
    } finally {
      stub.server.close();
    }
  });

  test("the client object shows no key; paths must be API v2 paths without query", async () => {
    const client = createFreshserviceClient({ domain: "d", baseUrl: emu.url, apiKey: key });
    expect(JSON.stringify(client)).not.toContain(key);
    expect(inspect(client, { depth: 5, showHidden: true })).not.toContain(key);
    await expect(client.request("GET", "/api/v2/agents?per_page=1")).rejects.toThrow(/without query/);
    await expect(client.request("GET", "https://evil.example.com/api/v2/agents")).rejects.toThrow(/API v2 path/);
  });

  test("helpers: Link parsing and plan names", () => {
    expect(nextLink('<https://x.freshservice.com/api/v2/agents?page=2>; rel="next"')).toBe("https://x.freshservice.com/api/v2/agents?page=2");
    expect(nextLink('<https://x/a?page=1>; rel="prev", <https://x/a?page=3>; rel="next"')).toBe("https://x/a?page=3");
    expect(nextLink(undefined)).toBeUndefined();
    expect([100, 200, 400, 500, 300, undefined].map(planForLimit)).toEqual(["starter", "growth", "pro", "enterprise", "custom", "unknown"]);
  });
});
