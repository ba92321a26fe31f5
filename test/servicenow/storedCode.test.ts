/**
 * The code Pulumi stores with every record resource (`__provider`): compressed,
 * free of credentials once unpacked, and what a provider process really runs.
 */
import * as path from "path";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { RunningEmulator } from "../../emulator/servicenow";
import { apiKeyProvider } from "../../resources/servicenow/apiKey";
import { inboundProfileProvider } from "../../resources/servicenow/inboundProfile";
import { ADMIN_PASSWORD, ProviderDriver, configFor, startEmulator } from "../support/serviceNow";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString: (code: string, filename: string) => { handler: () => pulumi.dynamic.ResourceProvider } = require("require-from-string");

const CLIENT_SECRET = "oauth-client-secret-value-456";
const LIVE_PROVIDERS = Symbol.for("keywire.servicenow.liveProviders");
let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  process.env.SERVICENOW_PASSWORD = ADMIN_PASSWORD;
  process.env.SERVICENOW_CLIENT_SECRET = CLIENT_SECRET;
});
afterAll(async () => {
  delete process.env.SERVICENOW_PASSWORD;
  delete process.env.SERVICENOW_CLIENT_SECRET;
  await emu.stop();
});

async function serialized(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false })).text;
}

/** The compressed engine code inside a serialized provider, unpacked. */
function unpacked(text: string): string {
  const packed = /"([A-Za-z0-9+/]{2000,}={0,2})"/.exec(text);
  expect(packed).not.toBeNull();
  return zlib.brotliDecompressSync(Buffer.from(packed![1], "base64")).toString("utf8");
}

test("the stored text is a fraction of the engine code it carries, and neither holds a credential", async () => {
  await apiKeyProvider.configure?.({ config: configFor(emu.url, { "servicenow:clientSecret": CLIENT_SECRET }) });
  const text = await serialized(apiKeyProvider);
  const code = unpacked(text);
  expect(code).toContain("exports.handler");
  expect(code).toContain("api_key");
  // What every resource stores, twice (inputs and outputs): well under the code's own size.
  expect(text.length).toBeLessThan(code.length / 3);
  for (const t of [text, code]) {
    expect(t).not.toContain(ADMIN_PASSWORD);
    expect(t).not.toContain(CLIENT_SECRET);
    expect(t).not.toContain(emu.url);
  }
});

test("a provider process runs the stored code, not the program's live provider", async () => {
  const text = await serialized(inboundProfileProvider);
  const g = globalThis as Record<symbol, unknown>;
  const live = g[LIVE_PROVIDERS];
  // As in a fresh provider process: no live provider to fall back on.
  g[LIVE_PROVIDERS] = undefined;
  try {
    const revived = requireFromString(text, path.join(process.cwd(), "__provider.js")).handler();
    expect(revived).not.toBe(inboundProfileProvider);
    const p = new ProviderDriver(revived, emu.url);
    const created = await p.create({ name: "from stored code", keyLocation: "query" });
    expect(emu.store.get("http_key_auth", created.id)?.name).toBe("from stored code");
    expect((await p.read(created.id, created.outs)).props!.keyLocation).toBe("query");
    await p.delete(created.id, created.outs);
    expect(emu.store.get("http_key_auth", created.id)).toBeUndefined();
  } finally {
    g[LIVE_PROVIDERS] = live;
  }
});

test("importing a provider serializes nothing: the code is packed only when Pulumi serializes it", async () => {
  let spy: jest.SpyInstance | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const isolated = require("@pulumi/pulumi") as typeof pulumi;
    spy = jest.spyOn(isolated.runtime, "serializeFunction");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("../../resources/servicenow/user");
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(spy).toBeDefined();
  expect(spy!).not.toHaveBeenCalled();
  spy!.mockRestore();
});
