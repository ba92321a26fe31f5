/**
 * What Pulumi stores with every record resource (`__provider`): a small reference
 * to the public module that exports the provider, free of credentials, that a
 * provider process resolves from the program's directory (here keywire's own
 * checkout, so to its sources); and the earlier formats, which states written by
 * older keywire versions still carry: the checkout-relative reference of 0.1, and the
 * self-contained serialized code before it.
 */
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { ReferencedProvider } from "../../resources/core/providerLoading/providerReference";
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { rateLimitRuleProvider } from "../../resources/servicenow/records/rateLimitRule";
import { revive, storedText } from "../support/providerText";
import { ADMIN_PASSWORD, ProviderDriver, configFor } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const CLIENT_SECRET = "oauth-client-secret-value-456";

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD, tokenReadback: "input_display_value" }, { resetAfterEach: false });
beforeAll(() => {
  process.env.SERVICENOW_PASSWORD = ADMIN_PASSWORD;
  process.env.SERVICENOW_CLIENT_SECRET = CLIENT_SECRET;
});
afterAll(() => {
  delete process.env.SERVICENOW_PASSWORD;
  delete process.env.SERVICENOW_CLIENT_SECRET;
});

/** The text every resource stores. */
const serialized = (provider: ReferencedProvider): string => storedText(provider);

/** `__provider` texts that keywire 0.1 stored (checkout-relative references), by type token. */
const STORED_BY_0_1 = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "core", "fixtures", "provider-references-0.1.0.json"), "utf8")) as Record<
  string,
  string
>;

/** Create, read and delete an inbound profile through `provider`, checking the emulator's records. */
async function manageProfile(provider: pulumi.dynamic.ResourceProvider, name: string): Promise<void> {
  const p = new ProviderDriver(provider, emu.url);
  const created = await p.create({ name, keyLocation: "query" });
  expect(emu.store.get("http_key_auth", created.id)?.name).toBe(name);
  expect((await p.read(created.id, created.outs)).props!.keyLocation).toBe("query");
  await p.delete(created.id, created.outs);
  expect(emu.store.get("http_key_auth", created.id)).toBeUndefined();
}

test("the stored text names the provider's public module and export, and holds no credential", async () => {
  await apiKeyProvider.configure({ config: configFor(emu.url, { "servicenow:clientSecret": CLIENT_SECRET }) });
  const text = serialized(apiKeyProvider);
  expect(Buffer.byteLength(text)).toBeLessThanOrEqual(300);
  expect(text).toContain('{"m":"keywire/servicenow","e":"apiKeyProvider"}');
  expect(text).toContain('"keywire/loadProvider"');
  // Nothing about where this checkout is: the same text works wherever keywire is installed.
  expect(text).not.toContain("resources/");
  expect(text).not.toContain(process.cwd());
  expect(text).not.toContain("api_key");
  expect(text).not.toContain(ADMIN_PASSWORD);
  expect(text).not.toContain(CLIENT_SECRET);
  expect(text).not.toContain(emu.url);
  // A provider made per column stores its column, and resolves to a provider for that column.
  const perColumn = serialized(rateLimitRuleProvider("u_hourly_limit"));
  expect(perColumn).toContain('{"m":"keywire/servicenow","e":"rateLimitRuleProvider","a":["u_hourly_limit"]}');
  expect(revive(perColumn).reference).toEqual(rateLimitRuleProvider("u_hourly_limit").reference);
});

test("in keywire's checkout a provider process loads the provider from the checkout's sources and runs it", async () => {
  const text = serialized(inboundProfileProvider);
  const revived = revive(text);
  // Loaded by the loader, outside jest's module registry: another object than jest's.
  expect(revived).not.toBe(inboundProfileProvider);
  await manageProfile(revived, "loaded from the checkout");
});

test("a reference to a module keywire does not export fails naming it", async () => {
  const text = serialized(inboundProfileProvider).replace('"keywire/servicenow"', '"keywire/gone"');
  expect(() => revive(text)).toThrow("keywire: the state names keywire/gone, which keywire's package.json");
});

test("a reference to an export that holds no keywire provider fails naming the module and the export", async () => {
  const text = serialized(inboundProfileProvider).replace('"inboundProfileProvider"', '"ServiceNowApiKeyAuth"');
  expect(() => revive(text)).toThrow("keywire: keywire/servicenow exports no keywire provider named ServiceNowApiKeyAuth");
});

test("every __provider that keywire 0.1 stored (checkout-relative) still loads its provider", async () => {
  const types = Object.keys(STORED_BY_0_1);
  expect(types.length).toBe(14);
  for (const type of types) {
    const text = STORED_BY_0_1[type];
    expect(text).toContain('"resources/core/loadProvider.js"');
    const revived = revive<Required<pulumi.dynamic.ResourceProvider>>(text);
    // The 0.1 text wraps the provider it loads on the first call; each answers as its type does.
    const typeName = type.split(":")[1];
    if (typeName === "Preflight") {
      // Preflight takes any inputs; it runs again whenever it has not passed.
      expect((await revived.diff("preflight", { passed: false }, {})).changes).toBe(true);
    } else {
      expect((await revived.check({}, {})).failures?.[0]?.reason).toMatch(new RegExp(`^${typeName}\\.`));
    }
  }
});

test("a __provider stored by keywire 0.1 runs against the instance: create, read and delete", async () => {
  await manageProfile(revive(STORED_BY_0_1["keywire/servicenow:InboundProfile"]), "from a 0.1 reference");
});

test("a 0.1 reference to a module that is gone fails naming where it looked", async () => {
  const text = STORED_BY_0_1["keywire/servicenow:InboundProfile"].replace('"resources/servicenow/records/inboundProfile.ts"', '"resources/servicenow/gone.ts"');
  await expect(revive(text).create({ name: "nowhere", keyLocation: "query" })).rejects.toThrow(
    /no provider code at .*gone\.ts; run pulumi from the keywire program's directory/,
  );
});

test("a __provider in the earlier self-contained format (compressed engine code) still runs", async () => {
  // Serialized by keywire before providers were stored by reference: states deployed
  // then keep it in their outputs until the resource is next updated.
  const text = fs.readFileSync(path.join(__dirname, "fixtures", "inboundProfile-provider.compressed-code.txt"), "utf8");
  expect(text).not.toContain("resources/servicenow");
  await manageProfile(revive(text), "from the earlier format");
});

test("importing a provider serializes nothing", async () => {
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
