/**
 * What Pulumi stores with every record resource (`__provider`): a small reference
 * to the module that holds the provider, free of credentials, that a provider
 * process resolves to the checkout's code; and the earlier self-contained format,
 * which states written by older keywire versions still carry.
 */
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { RunningEmulator } from "../../emulator/servicenow";
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { rateLimitRuleProvider } from "../../resources/servicenow/records/rateLimitRule";
import { revive, storedText } from "../support/providerText";
import { ADMIN_PASSWORD, ProviderDriver, configFor, startEmulator } from "../support/serviceNow";

const CLIENT_SECRET = "oauth-client-secret-value-456";
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

/** The text every resource stores; no secret may reach it (fail rather than store one). */
async function serialized(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  return (await storedText(provider, { allowSecrets: false })).text;
}

/** Create, read and delete an inbound profile through `provider`, checking the emulator's records. */
async function manageProfile(provider: pulumi.dynamic.ResourceProvider, name: string): Promise<void> {
  const p = new ProviderDriver(provider, emu.url);
  const created = await p.create({ name, keyLocation: "query" });
  expect(emu.store.get("http_key_auth", created.id)?.name).toBe(name);
  expect((await p.read(created.id, created.outs)).props!.keyLocation).toBe("query");
  await p.delete(created.id, created.outs);
  expect(emu.store.get("http_key_auth", created.id)).toBeUndefined();
}

test("the stored text is a few kilobytes naming the provider's module, and holds no credential", async () => {
  await apiKeyProvider.configure?.({ config: configFor(emu.url, { "servicenow:clientSecret": CLIENT_SECRET }) });
  const text = await serialized(apiKeyProvider);
  // Every resource stores it twice (inputs and outputs); the engine code itself is ~150 KB.
  expect(text.length).toBeLessThan(4000);
  expect(text).toContain('"resources/servicenow/apiKey/apiKey.ts"');
  expect(text).toContain('"apiKeyProvider"');
  expect(text).not.toContain("api_key");
  expect(text).not.toContain(ADMIN_PASSWORD);
  expect(text).not.toContain(CLIENT_SECRET);
  expect(text).not.toContain(emu.url);
  // A provider made per column stores its column, and resolves to that same provider.
  const perColumn = await serialized(rateLimitRuleProvider("u_hourly_limit"));
  expect(perColumn).toContain('"rateLimitRuleProvider"');
  expect(perColumn).toContain('"u_hourly_limit"');
});

test("a provider process loads the provider from the checkout and runs it", async () => {
  const text = await serialized(inboundProfileProvider);
  const revived = revive(text);
  expect(revived).not.toBe(inboundProfileProvider);
  await manageProfile(revived, "loaded from the checkout");
});

test("a provider stored as a reference to a module that is gone fails naming where it looked", async () => {
  const text = (await serialized(inboundProfileProvider)).replace('"resources/servicenow/records/inboundProfile.ts"', '"resources/servicenow/gone.ts"');
  await expect(revive(text).create({ name: "nowhere", keyLocation: "query" })).rejects.toThrow(/no provider code at .*gone\.ts; run pulumi from the keywire program's directory/);
});

test("a reference to an export that holds no keywire provider fails naming the module and the export", async () => {
  const text = (await serialized(inboundProfileProvider)).replace('"inboundProfileProvider"', '"nothingHere"');
  await expect(revive(text).create({ name: "nowhere", keyLocation: "query" })).rejects.toThrow(
    "keywire: resources/servicenow/records/inboundProfile.ts exports no keywire provider named nothingHere",
  );
});

test("a __provider in the earlier self-contained format (compressed engine code) still runs", async () => {
  // Serialized by keywire before providers were stored by reference: states deployed
  // then keep it in their outputs until the resource is next updated.
  const text = fs.readFileSync(path.join(__dirname, "fixtures", "inboundProfile-provider.compressed-code.txt"), "utf8");
  expect(text).not.toContain("resources/servicenow");
  await manageProfile(revive(text), "from the earlier format");
});

test("importing a provider serializes nothing: the code is packed only when Pulumi serializes it", async () => {
  let spy: jest.SpyInstance | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const isolated = require("@pulumi/pulumi") as typeof pulumi;
    spy = jest.spyOn(isolated.runtime, "serializeFunction");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("../../resources/servicenow/records/user");
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(spy).toBeDefined();
  expect(spy!).not.toHaveBeenCalled();
  spy!.mockRestore();
});
