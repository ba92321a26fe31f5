/**
 * The providers as Pulumi stores them: a reference in `__provider`, which a
 * separate process turns back into the provider by loading its module. Unit tests
 * that call methods directly never see that round trip, so it is tested on its
 * own, with credentials present in the process.
 */
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { accessPolicyProvider } from "../../resources/servicenow/records/accessPolicy";
import { accessPolicyProfileLinkProvider } from "../../resources/servicenow/records/accessPolicyProfileLink";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { userRoleGrantProvider } from "../../resources/servicenow/records/userRoleGrant";
import { pushConnectorProvider } from "../../resources/servicenow/records/pushConnector";
import type { ReferencedProvider } from "../../resources/core/providerLoading/providerReference";
import { roundTrip } from "../support/providerText";
import { ADMIN_PASSWORD, ProviderDriver, configFor } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const CLIENT_SECRET = "oauth-client-secret-value-123";
const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD, tokenReadback: "input_display_value" }, { resetAfterEach: false });
beforeAll(() => {
  // Credentials present everywhere a careless provider could pick them up.
  process.env.SERVICENOW_PASSWORD = ADMIN_PASSWORD;
  process.env.SERVICENOW_CLIENT_SECRET = CLIENT_SECRET;
});
afterAll(() => {
  delete process.env.SERVICENOW_PASSWORD;
  delete process.env.SERVICENOW_CLIENT_SECRET;
});

const providers: Array<[string, ReferencedProvider]> = [
  ["ApiKey", apiKeyProvider],
  ["InboundProfile", inboundProfileProvider],
  ["AccessPolicy", accessPolicyProvider],
  ["AccessPolicyProfileLink", accessPolicyProfileLinkProvider],
  ["ServiceNowUser", serviceNowUserProvider],
  ["UserRoleGrant", userRoleGrantProvider],
  ["PushConnector", pushConnectorProvider],
];

const stored = (provider: ReferencedProvider) => roundTrip(provider);

/** What each stored text measured, by provider: reported once, after the sizes are checked. */
const sizes: Record<string, number> = {};
afterAll(() => {
  if (Object.keys(sizes).length > 0) process.stderr.write(`__provider sizes (bytes): ${JSON.stringify(sizes)}\n`);
});

test.each(providers)("%s is stored in at most 300 bytes, without any credential, even after configure ran", async (name, provider) => {
  await provider.configure({ config: configFor(emu.url, { "servicenow:clientSecret": CLIENT_SECRET }) });
  const { text } = stored(provider);
  expect(text).not.toContain(ADMIN_PASSWORD);
  expect(text).not.toContain(CLIENT_SECRET);
  expect(text).not.toContain(emu.url);
  // Every resource stores it twice (inputs and outputs), and a file backend rewrites the
  // whole state after every step; the provider's code itself is ~150 KB.
  sizes[name] = Buffer.byteLength(text);
  expect(Buffer.byteLength(text)).toBeLessThanOrEqual(300);
});

test("deserialized providers create, read, update and delete against the emulator", async () => {
  const profile = stored(inboundProfileProvider);
  const p = new ProviderDriver(profile.provider, emu.url);
  const created = await p.create({ name: "revived", keyLocation: "header" });
  expect(emu.store.get("http_key_auth", created.id)?.name).toBe("revived");
  const read = await p.read(created.id, created.outs);
  expect(read.props!.keyLocation).toBe("header");
  const updated = await p.update(created.id, read.props!, { name: "revived", keyLocation: "query" });
  expect(updated.keyLocation).toBe("query");

  const link = stored(accessPolicyProfileLinkProvider);
  const policy = emu.store.query("sys_api_access_policy", (r) => r.name === "Table GET API Access Policy")[0];
  const l = await new ProviderDriver(link.provider, emu.url).create({ policy: policy.sys_id, profile: created.id });
  expect(emu.store.get("sys_auth_profile_mapping", l.id)).toBeDefined();

  await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.provider" });
  const key = stored(apiKeyProvider);
  const k = await new ProviderDriver(key.provider, emu.url).create({ name: "revived key", user: "svc.provider", probe: { via: "query" } });
  expect(k.outs.token).toBe(emu.tokenOf(k.id));
  await new ProviderDriver(key.provider, emu.url).delete(k.id, k.outs);
  await p.delete(created.id, updated);
  expect(emu.store.get("api_key", k.id)).toBeUndefined();
  expect(emu.store.get("http_key_auth", created.id)).toBeUndefined();
});

test("errors thrown by a deserialized provider keep their message (the engine shows it) and no secret", async () => {
  const key = stored(apiKeyProvider);
  emu.setOptions({ tokenReadback: "none" });
  try {
    await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.errors" });
    let err: unknown;
    try {
      await new ProviderDriver(key.provider, emu.url).create({ name: "no token", user: "svc.errors" });
    } catch (e) {
      err = e;
    }
    const e = err as Error & { details?: unknown };
    expect(e.message).toMatch(/obtain the token of api_key "no token" failed/);
    expect(`${e}`).toContain("pulumi config set --secret keywire:apiKeyToken` (it reads the token from standard input");
    // gRPC takes an error's `details` as its text: it must not be a method.
    expect(typeof e.details).not.toBe("function");
    const row = emu.store.query("api_key", (r) => r.name === "no token")[0];
    for (const text of [e.message, String(e.stack), JSON.stringify(e)]) {
      expect(text).not.toContain(emu.tokenOf(row.sys_id)!);
      expect(text).not.toContain(ADMIN_PASSWORD);
    }
  } finally {
    emu.setOptions({ tokenReadback: "input_display_value" });
  }
});

test("a deserialized provider still retries: dropped connections, 503 and 429 with Retry-After, commit-then-fail without a duplicate", async () => {
  const profile = stored(inboundProfileProvider);
  const p = new ProviderDriver(profile.provider, emu.url);
  const created = await p.create({ name: "resilient", keyLocation: "query" });
  emu.setFaults({ dropNext: { count: 1, methods: ["GET"] } });
  expect((await p.read(created.id, created.outs)).props!.keyLocation).toBe("query");
  emu.setFaults({ failNext: { count: 1, status: 503, methods: ["GET"] } });
  expect((await p.read(created.id, created.outs)).id).toBe(created.id);
  emu.setFaults({ failNext: { count: 1, status: 429, retryAfterSeconds: 1, methods: ["GET"] } });
  expect((await p.read(created.id, created.outs)).id).toBe(created.id);
  emu.setFaults({ commitThenFailNext: { count: 1, mode: "drop", methods: ["POST"], table: "http_key_auth" } });
  const again = await p.create({ name: "written once", keyLocation: "header" });
  expect(emu.store.query("http_key_auth", (r) => r.name === "written once").map((r) => r.sys_id)).toEqual([again.id]);
  emu.setFaults({});
});
