/**
 * The client as Pulumi ships it: serialized by closure serialization, then loaded as
 * fresh code. Class field initializers, `#private` names and computed method names do
 * not survive that, so the round trip is run for real against the emulator.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { RunningEmulator, startServiceNowEmulator } from "../../../emulator/servicenow";
import { resolveConnection } from "../../../resources/servicenow/client/connection";
import { q } from "../../../resources/servicenow/client/encodedQuery";
import { TableClient } from "../../../resources/servicenow/client/tableClient";

const PASSWORD = "Ser1alized-Admin-Pw";
let em: RunningEmulator;
let dir: string;

beforeAll(async () => {
  em = await startServiceNowEmulator({ adminPassword: PASSWORD });
  // Inside node_modules so the loaded code resolves axios and zod like a provider would.
  fs.mkdirSync(path.join(process.cwd(), "node_modules", ".cache"), { recursive: true });
  dir = fs.mkdtempSync(path.join(process.cwd(), "node_modules", ".cache", "keywire-serialized-"));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await em.stop();
});

/** What a provider method does: credentials from the environment at call time, client built inside. */
async function providerMethod(instanceUrl: string, name: string): Promise<{ created: string; listed: number; got: string | undefined }> {
  const conn = resolveConnection({ get: (k: string) => (k === "servicenow:instanceUrl" ? instanceUrl : undefined) }, process.env);
  const client = new TableClient(conn, { retry: { maxAttempts: 2 } });
  const created = await client.create("incident", { short_description: name });
  const listed = await client.list("incident", { query: q().eq("short_description", name).orderBy("number").build() });
  const got = await client.get("incident", created.sys_id as string, { fields: ["short_description"] });
  await client.delete("incident", created.sys_id as string);
  return { created: created.sys_id as string, listed: listed.length, got: got?.short_description };
}

it("serializes without credentials and works after loading", async () => {
  process.env.SERVICENOW_USERNAME = "admin";
  process.env.SERVICENOW_PASSWORD = PASSWORD;
  try {
    const sf = await pulumi.runtime.serializeFunction(providerMethod, { allowSecrets: false });
    expect(sf.text).not.toContain(PASSWORD);
    const file = path.join(dir, "provider.js");
    fs.writeFileSync(file, sf.text);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(file)[sf.exportName] as typeof providerMethod;
    const out = await loaded(em.url, "serialized client");
    expect(out.created).toMatch(/^[0-9a-f]{32}$/);
    expect(out.listed).toBe(1);
    expect(out.got).toBe("serialized client");
  } finally {
    delete process.env.SERVICENOW_USERNAME;
    delete process.env.SERVICENOW_PASSWORD;
  }
});
