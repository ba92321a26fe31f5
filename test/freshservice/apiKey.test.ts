import { startFreshserviceEmulator, RunningFreshserviceEmulator } from "../../emulator/freshservice";
import {
  FreshserviceApiKey,
  FreshserviceApiKeyOutputs,
  freshserviceApiKeyProvider as provider,
  verifyFreshserviceKey,
} from "../../resources/freshservice/apiKey";
import { UNKNOWN_INPUT, keyFingerprint } from "../../resources/freshservice/client";
import { KeywireError } from "../../resources/core/errors";
import { roundTrip } from "../support/providerText";
import { registrationOptions } from "../support/registration";
import { rejection } from "../support/rejection";
import { fakeClock } from "../core/fakeClock";

let emu: RunningFreshserviceEmulator;
let key: string;
const domain = "keywire-test";

beforeAll(async () => {
  emu = await startFreshserviceEmulator({ domain });
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => {
  emu.reset();
  key = emu.addKey().key;
});

const inputs = (over: Record<string, unknown> = {}) =>
  ({ domain, apiKey: key, baseUrl: emu.url, ...over }) as { domain: string; apiKey: string; baseUrl?: string };

async function createOk() {
  const r = await provider.create(inputs());
  return { id: r.id, outs: r.outs as FreshserviceApiKeyOutputs };
}

function expectNoKey(text: string) {
  expect(text).not.toContain(key);
  expect(text).not.toContain(Buffer.from(`${key}:X`).toString("base64"));
}

describe("FreshserviceApiKey check", () => {
  const check = (news: Record<string, unknown>) => provider.check!({}, news);

  test("accepts a subdomain and normalises it", async () => {
    const r = await check({ domain: " MyCompany ", apiKey: "abcDEF123" });
    expect(r.failures ?? []).toEqual([]);
    expect(r.inputs).toMatchObject({ domain: "mycompany", probe: "agents" });
  });

  test("names the property and never echoes the key", async () => {
    const secretish = "s3cr3t value:with-colon";
    const r = await check({ domain: "https://mycompany.freshservice.com", apiKey: secretish, baseUrl: "http://example.com" });
    const props = (r.failures ?? []).map((f) => f.property).sort();
    expect(props).toEqual(["apiKey", "baseUrl", "domain"]);
    const text = JSON.stringify(r.failures);
    expect(text).not.toContain(secretish);
    expect(text).toContain("FreshserviceApiKey.domain: must be the subdomain only");
    expect(text).toContain("FreshserviceApiKey.baseUrl: must use https://");
  });

  test("an empty key, a bad probe and a missing domain fail", async () => {
    const r = await check({ apiKey: "  ", probe: "assets" });
    expect((r.failures ?? []).map((f) => f.property).sort()).toEqual(["apiKey", "domain", "probe"]);
  });

  test("https overrides and loopback http are accepted; paths are not", async () => {
    expect((await check({ domain, apiKey: "k1", baseUrl: "https://proxy.example.com" })).failures ?? []).toEqual([]);
    expect((await check({ domain, apiKey: "k1", baseUrl: "http://127.0.0.1:8080" })).failures ?? []).toEqual([]);
    expect((await check({ domain, apiKey: "k1", baseUrl: "http://localhost:8080" })).failures ?? []).toEqual([]);
    expect((await check({ domain, apiKey: "k1", baseUrl: "https://x.example.com/api/v2" })).failures?.[0].property).toBe("baseUrl");
    expect((await check({ domain, apiKey: "k1", baseUrl: "https://u:p@x.example.com" })).failures?.[0].property).toBe("baseUrl");
  });

  test("values unknown during preview pass", async () => {
    expect((await check({ domain: UNKNOWN_INPUT, apiKey: UNKNOWN_INPUT })).failures ?? []).toEqual([]);
  });
});

describe("FreshserviceApiKey against the emulator", () => {
  test("create verifies with one cheap call and reports the rate-limit figures", async () => {
    emu.resetMetrics();
    const { id, outs } = await createOk();
    expect(id).toMatch(/^keywire-test\/[0-9a-f]{16}$/);
    expect(id).not.toContain(key);
    expect(id).not.toContain(keyFingerprint(key));
    expect(outs).toMatchObject({
      verified: true,
      status: "valid",
      httpStatus: 200,
      errorCode: "",
      rateLimitPerMinute: 200,
      plan: "growth",
      baseUrl: emu.url,
      probe: "agents",
    });
    expect(outs.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(emu.metrics().total).toBe(1);
    expect(emu.metrics().byRoute["GET /agents"]).toBe(1);
  });

  test("the plan follows the account's figure", async () => {
    emu.setPlan("enterprise");
    expect((await createOk()).outs).toMatchObject({ rateLimitPerMinute: 500, plan: "enterprise" });
    emu.setRateLimits({ perMinute: 250 });
    expect((await createOk()).outs.plan).toBe("custom");
  });

  test("create with a refused key fails saying what to do, without the key", async () => {
    emu.revokeKey(key);
    const err = await provider.create(inputs()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KeywireError);
    const e = err as KeywireError;
    expect(e.status).toBe(401);
    expect(e.message).toContain("invalid_credentials");
    expect(e.message).toContain("Admin > User Management > Agents > <agent> > Permissions tab > API Key");
    expectNoKey(e.message);
    expectNoKey(JSON.stringify(e));
  });

  test("refresh re-verifies: a revoked or disabled key is drift, re-enabling clears it", async () => {
    const { id, outs } = await createOk();
    emu.setApiKeyEnabled(emu.adminAgentId, false);
    const disabled = await provider.read!(id, outs);
    expect(disabled.id).toBe(id);
    expect(disabled.props).toMatchObject({ verified: false, status: "invalid_credentials", httpStatus: 401, errorCode: "invalid_credentials" });

    const diff = await provider.diff!(id, disabled.props, inputs());
    expect(diff.changes).toBe(true);
    expect(diff.replaces).toEqual([]);
    await expect(provider.update!(id, disabled.props, inputs())).rejects.toThrow(/Permissions tab > API Key/);

    emu.setApiKeyEnabled(emu.adminAgentId, true);
    const back = await provider.read!(id, disabled.props);
    expect(back.props).toMatchObject({ verified: true, status: "valid" });
    expect((await provider.diff!(id, back.props, inputs())).changes).toBe(false);

    emu.regenerateKey(emu.adminAgentId);
    const regenerated = await provider.read!(id, back.props);
    expect(regenerated.props.verified).toBe(false);
    expectNoKey(JSON.stringify({ ...regenerated.props, apiKey: undefined }));
  });

  test("a deactivated agent's key shows as drift", async () => {
    const a = emu.addAgent({ email: "int@example.com", first_name: "Int", roleNames: ["Admin"] });
    const agentKey = emu.addKey({ agentId: a.id }).key;
    const r = await provider.create(inputs({ apiKey: agentKey }));
    expect(r.outs.verified).toBe(true);
    // An admin deactivates the integration agent through the API.
    const res = await fetch(`${emu.url}/api/v2/agents/${a.id}`, {
      method: "DELETE",
      headers: { Authorization: `Basic ${Buffer.from(`${key}:X`).toString("base64")}` },
    });
    expect(res.status).toBe(204);
    const after = await provider.read!(r.id, r.outs);
    expect(after.props).toMatchObject({ verified: false, status: "invalid_credentials" });
  });

  test("diff: another domain, base URL or key replaces; same inputs change nothing", async () => {
    const { id, outs } = await createOk();
    expect(await provider.diff!(id, outs, inputs())).toMatchObject({ changes: false });
    expect((await provider.diff!(id, outs, inputs({ domain: "other" }))).replaces).toEqual(["domain"]);
    expect((await provider.diff!(id, outs, inputs({ baseUrl: "http://127.0.0.1:1" }))).replaces).toEqual(["baseUrl"]);
    expect((await provider.diff!(id, outs, inputs({ apiKey: "another-key" }))).replaces).toEqual(["apiKey"]);
    expect((await provider.diff!(id, outs, inputs({ apiKey: UNKNOWN_INPUT }))).replaces).toEqual(["apiKey"]);
    const probe = await provider.diff!(id, outs, { ...inputs(), probe: "tickets" } as never);
    expect(probe).toMatchObject({ changes: true, replaces: [] });
  });

  test("update re-verifies with the new inputs", async () => {
    const { id, outs } = await createOk();
    emu.resetMetrics();
    const r = await provider.update!(id, outs, { ...inputs(), probe: "tickets" } as never);
    expect(r.outs).toMatchObject({ verified: true, probe: "tickets" });
    expect(emu.metrics().byRoute["GET /tickets"]).toBe(1);
  });

  test("the tickets probe reports require_feature when the module is off", async () => {
    emu.setModuleEnabled("tickets", false);
    await expect(provider.create({ ...inputs(), probe: "tickets" } as never)).rejects.toThrow(/require_feature/);
  });

  test("a 429 is retried after the Retry-After the server asked for", async () => {
    emu.failNext({ count: 1, status: 429, retryAfterSeconds: 1 });
    emu.resetMetrics();
    const clock = fakeClock();
    const v = await verifyFreshserviceKey(inputs(), clock);
    expect(clock.waits).toEqual([1000]);
    expect(v.verified).toBe(true);
    expect(emu.metrics().byStatus).toEqual({ "200": 1, "429": 1 });
  });

  test("the retry waits exactly what Retry-After says (injected sleep)", async () => {
    emu.failNext({ count: 2, status: 429, retryAfterSeconds: 7 });
    const waits: number[] = [];
    const v = await verifyFreshserviceKey(inputs(), { sleep: async (ms) => void waits.push(ms) });
    expect(waits).toEqual([7000, 7000]);
    expect(v.verified).toBe(true);
  });

  test("the account's own per-minute limit: 429, wait for the minute to turn, then verified", async () => {
    emu.setRateLimits({ perMinute: 1 });
    emu.resetMetrics();
    expect((await fetch(`${emu.url}/api/v2/roles`, { headers: { Authorization: `Basic ${Buffer.from(`${key}:X`).toString("base64")}` } })).status).toBe(200);
    const waits: number[] = [];
    // The injected sleep moves the emulator's clock instead of waiting for real.
    const v = await verifyFreshserviceKey(inputs(), { sleep: async (ms) => void (waits.push(ms), emu.advanceClock(ms)) });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(1000);
    expect(waits[0]).toBeLessThanOrEqual(60_000);
    expect(v).toMatchObject({ verified: true, rateLimitPerMinute: 1 });
    expect(emu.metrics().rateLimited).toBe(1);
  });

  test("rate limit used up and never freed: a retryable error after bounded attempts", async () => {
    emu.failNext({ count: 50, status: 429, retryAfterSeconds: 1 });
    const waits: number[] = [];
    const err = await verifyFreshserviceKey(inputs(), { sleep: async (ms) => void waits.push(ms), maxAttempts: 3 }).catch((e: unknown) => e as KeywireError);
    expect(err).toBeInstanceOf(KeywireError);
    expect((err as KeywireError).retryable).toBe(true);
    expect((err as KeywireError).status).toBe(429);
    expect(waits).toHaveLength(2);
    expectNoKey((err as Error).message);
  });

  test("delete makes no call: keywire never revokes a person's key", async () => {
    const { id, outs } = await createOk();
    emu.resetMetrics();
    await provider.delete!(id, outs);
    expect(emu.metrics().total).toBe(0);
  });

  test("an unreachable host fails loudly rather than reporting drift", async () => {
    const { id, outs } = await createOk();
    const err = await provider.read!(id, { ...outs, baseUrlInput: "http://127.0.0.1:9" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeywireError);
    expect((err as KeywireError).retryable).toBe(true);
    expectNoKey(JSON.stringify(err));
  });
});

describe("FreshserviceApiKey in the state", () => {
  test("the fingerprint is a secret output, like the key", async () => {
    const opts = await registrationOptions((o) => new FreshserviceApiKey("k", { domain, apiKey: "a-key-1" }, o));
    expect(opts.additionalSecretOutputs).toEqual(expect.arrayContaining(["apiKey", "fingerprint"]));
  });

  test("the id, stored in clear, holds nothing derived from the key", async () => {
    const a = await createOk();
    const b = await createOk();
    for (const id of [a.id, b.id]) {
      expect(id).not.toContain(keyFingerprint(key));
      expect(id).not.toContain(key);
    }
    expect(a.id).not.toBe(b.id);
  });

  test("a state written by an earlier version: refresh replaces its id, and diffs still compare", async () => {
    const { outs } = await createOk();
    // Earlier versions used the fingerprint as the id's suffix and kept it as a plain output.
    const oldId = `${domain}/${keyFingerprint(key)}`;
    const old: FreshserviceApiKeyOutputs = { ...outs, fingerprint: keyFingerprint(key) };
    expect(await provider.diff!(oldId, old, inputs())).toMatchObject({ changes: false });
    expect((await provider.diff!(oldId, old, inputs({ apiKey: "another-key" }))).replaces).toEqual(["apiKey"]);
    const refreshed = await provider.read!(oldId, old);
    expect(refreshed.id).toMatch(/^keywire-test\/[0-9a-f]{16}$/);
    expect(refreshed.id).not.toBe(oldId);
    expect(refreshed.props).toMatchObject({ verified: true, fingerprint: old.fingerprint });
    // Once refreshed, the id stays.
    expect((await provider.read!(refreshed.id!, refreshed.props as FreshserviceApiKeyOutputs)).id).toBe(refreshed.id);
  });
});

describe("FreshserviceApiKey provider serialization", () => {
  test("round trip: no secret in the text, and the reloaded provider works", async () => {
    const rt = roundTrip(provider);
    expectNoKey(rt.text);
    expect(rt.text).not.toMatch(/require\("\.{1,2}\//);
    const r = await rt.provider.create(inputs());
    expect(r.outs).toMatchObject({ verified: true, rateLimitPerMinute: 200 });
    emu.revokeKey(key);
    const read = await rt.provider.read!(r.id, r.outs);
    expect(read.props).toMatchObject({ verified: false, status: "invalid_credentials" });
    const check = await rt.provider.check!({}, { domain: "bad domain", apiKey: key });
    expect(check.failures?.[0].property).toBe("domain");
    const refused = await rejection(rt.provider.create(inputs()));
    expect(refused.message).toContain("Permissions tab > API Key");
    expect(refused.status).toBe(401);
    expectNoKey(refused.message);
  });
});
