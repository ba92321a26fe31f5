import { createServer, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { startIvantiEmulator, RunningIvantiEmulator } from "../../emulator/ivanti";
import { createIvantiClient, odataBase, tenantUrlProblem } from "../../resources/ivanti/client";
import { rejection } from "../support/rejection";

let emu: RunningIvantiEmulator;

beforeAll(async () => {
  emu = await startIvantiEmulator();
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => emu.reset());

async function withStub(handler: (req: IncomingMessage, res: ServerResponse) => void, body: (url: string, seen: IncomingMessage[]) => Promise<void>) {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    server.close();
  }
}

describe("Ivanti client", () => {
  test("sends exactly `rest_api_key=<key>` and reads $metadata entity sets", async () => {
    const key = emu.addKey().referenceId;
    const client = createIvantiClient({ tenantUrl: emu.url, apiKey: key });
    expect(client.odataBase).toBe(`${emu.url}/api/odata`);
    expect(await client.entitySets()).toEqual(["incidents", "employees", "changes", "problems"]);
    await withStub(
      (_req, res) => res.end("{}"),
      async (url, seen) => {
        await createIvantiClient({ tenantUrl: url, apiKey: "ABC123" }).get("businessobject/incidents");
        expect(seen[0].headers.authorization).toBe("rest_api_key=ABC123");
        expect(seen[0].url).toBe("/api/odata/businessobject/incidents");
      },
    );
  });

  test("a server echoing the key does not get it into the error; redirects are not followed", async () => {
    await withStub(
      (req, res) => {
        res.statusCode = 400;
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ code: "ISM_4000", description: "Invalid Request Payload", message: [`got ${req.headers.authorization}`] }));
      },
      async (url) => {
        const e = await rejection(createIvantiClient({ tenantUrl: url, apiKey: "SECRETREF0042" }).get("businessobject/incidents"));
        expect(`${e.message} ${JSON.stringify(e)} ${inspect(e)}`).not.toContain("SECRETREF0042");
        expect(e.message).toContain("ISM_4000");
      },
    );
    await withStub(
      (_req, res) => {
        res.statusCode = 302;
        res.setHeader("Location", "http://127.0.0.1:9/login");
        res.end();
      },
      async (url, seen) => {
        const e = await rejection(createIvantiClient({ tenantUrl: url, apiKey: "K1" }).get("businessobject/incidents"));
        expect(e.status).toBe(302);
        expect(seen).toHaveLength(1);
      },
    );
  });

  test("tenant URLs and the /HEAT prefix", () => {
    expect(odataBase("https://t.example.com", true)).toBe("https://t.example.com/HEAT/api/odata");
    expect(odataBase("https://t.example.com/", false)).toBe("https://t.example.com/api/odata");
    expect(tenantUrlProblem("https://t.example.com/api")).toMatch(/origin only/);
    expect(tenantUrlProblem("http://t.example.com")).toMatch(/https/);
    expect(tenantUrlProblem("http://[::1]:8080")).toBeUndefined();
  });

  test("paths stay under the OData root", async () => {
    const client = createIvantiClient({ tenantUrl: emu.url, apiKey: "K" });
    await expect(client.get("/api/other")).rejects.toThrow(/relative to the OData root/);
    await expect(client.get("../../rest/x")).rejects.toThrow(/relative to the OData root/);
    await expect(client.get("businessobject/incidents?$top=1")).rejects.toThrow(/without query/);
    expect(JSON.stringify(client)).not.toContain('"K"');
  });
});
