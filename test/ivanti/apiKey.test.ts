import { startIvantiEmulator, RunningIvantiEmulator } from "../../emulator/ivanti";
import {
  IvantiApiKey,
  IvantiApiKeyInputs,
  IvantiApiKeyOutputs,
  ivantiApiKeyProvider as provider,
  ivantiKeyFingerprint,
  verifyIvantiKey,
} from "../../resources/ivanti/apiKey";
import { UNKNOWN_INPUT } from "../../resources/ivanti/client";
import { roundTrip } from "../support/providerText";
import { registrationOptions } from "../support/registration";
import { rejection } from "../support/rejection";
import { fakeClock } from "../core/fakeClock";

let emu: RunningIvantiEmulator;
let key: string;

beforeAll(async () => {
  emu = await startIvantiEmulator();
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => {
  emu.reset();
  key = emu.addKey({ description: "keywire" }).referenceId;
});

const inputs = (over: Partial<IvantiApiKeyInputs> = {}): IvantiApiKeyInputs => ({ tenantUrl: emu.url, apiKey: key, ...over });

async function createOk(over: Partial<IvantiApiKeyInputs> = {}) {
  const r = await provider.create(inputs(over));
  return { id: r.id, outs: r.outs as IvantiApiKeyOutputs };
}

describe("IvantiApiKey check", () => {
  const check = (news: object) => provider.check!({}, news);

  test("accepts an HTTPS tenant and fills defaults", async () => {
    const r = await check({ tenantUrl: "https://mycompany.saasit.com/", apiKey: "ABCDEF0123" });
    expect(r.failures ?? []).toEqual([]);
    expect(r.inputs).toMatchObject({ tenantUrl: "https://mycompany.saasit.com", heatPrefix: false, probeObject: "incidents" });
  });

  test("names the property, explains /HEAT and the header prefix, never echoes the key", async () => {
    const r = await check({ tenantUrl: "https://mycompany.saasit.com/HEAT", apiKey: "rest_api_key=SECRET123", probeObject: "in cidents" });
    expect((r.failures ?? []).map((f) => f.property).sort()).toEqual(["apiKey", "probeObject", "tenantUrl"]);
    const text = JSON.stringify(r.failures);
    expect(text).toContain("IvantiApiKey.tenantUrl: must not include /HEAT: give the origin and set heatPrefix: true");
    expect(text).toContain("without the rest_api_key= prefix");
    expect(text).not.toContain("SECRET123");
  });

  test("plain http only on loopback; unknown preview values pass", async () => {
    expect((await check({ tenantUrl: "http://mycompany.saasit.com", apiKey: "k" })).failures?.[0].reason).toContain("must use https://");
    expect((await check({ tenantUrl: "http://127.0.0.1:8080", apiKey: "k" })).failures ?? []).toEqual([]);
    expect((await check({ tenantUrl: UNKNOWN_INPUT, apiKey: UNKNOWN_INPUT })).failures ?? []).toEqual([]);
    expect((await check({ tenantUrl: "https://x.example.com", apiKey: "" })).failures?.[0].property).toBe("apiKey");
  });
});

describe("IvantiApiKey against the emulator", () => {
  test("create proves the key through OData with one call", async () => {
    emu.resetMetrics();
    const { id, outs } = await createOk();
    expect(id.startsWith(`${new URL(emu.url).host}/`)).toBe(true);
    expect(id).toMatch(/\/[0-9a-f]{16}$/);
    expect(id).not.toContain(key);
    expect(id).not.toContain(ivantiKeyFingerprint(key));
    expect(outs).toMatchObject({
      verified: true,
      status: "valid",
      httpStatus: 200,
      errorCode: "",
      tenantUrl: emu.url,
      odataBase: `${emu.url}/api/odata`,
      heatPrefix: false,
      probeObject: "incidents",
    });
    expect(emu.metrics().total).toBe(1);
    expect(emu.metrics().byRoute["GET businessobject/{object}"]).toBe(1);
  });

  test("a refused key fails create with what only the console can change, without the key", async () => {
    emu.editKey(key, { activated: false });
    const e = await rejection(provider.create(inputs()));
    expect(e.status).toBe(401);
    expect(e.message).toContain("ISM_4001");
    expect(e.message).toContain("Configure > Security Controls > API Keys");
    expect(e.message).toContain("IP list");
    expect(e.message + JSON.stringify(e)).not.toContain(key);
  });

  test("refresh re-verifies: deactivation, deletion, IP list and tenant changes are drift", async () => {
    const { id, outs } = await createOk();
    const expectRefused = async () => {
      const r = await provider.read!(id, outs);
      expect(r.props).toMatchObject({ verified: false, status: "refused", httpStatus: 401, errorCode: "ISM_4001" });
      expect((await provider.diff!(id, r.props, inputs())).changes).toBe(true);
      return r;
    };
    emu.editKey(key, { activated: false });
    await expectRefused();
    emu.editKey(key, { activated: true });
    expect((await provider.read!(id, outs)).props.verified).toBe(true);

    emu.editKey(key, { ipList: ["203.0.113.7"] });
    await expectRefused();
    emu.setClientIp("203.0.113.7");
    expect((await provider.read!(id, outs)).props.verified).toBe(true);
    emu.setClientIp(undefined);
    emu.editKey(key, { ipList: [] });

    emu.editKey(key, { tenant: "another-tenant.ivanticloud.com" });
    await expectRefused();
    emu.editKey(key, { tenant: emu.tenant });

    emu.deleteKey(key);
    const gone = await expectRefused();
    await expect(provider.update!(id, gone.props, inputs())).rejects.toThrow(/Security Controls > API Keys/);
    expect(emu.metrics().refusals).toMatchObject({ deactivated: 1, ip_not_allowed: 1, wrong_tenant: 1, unknown_key: 2 });
  });

  test("a key created in another tenant is refused at create", async () => {
    const foreign = emu.addKey({ tenant: "other.ivanticloud.com" }).referenceId;
    await expect(provider.create(inputs({ apiKey: foreign }))).rejects.toThrow(/belongs to another tenant/);
  });

  test("the key's role decides what it can read", async () => {
    const selfService = emu.addKey({ role: "SelfService" }).referenceId;
    expect((await createOk({ apiKey: selfService })).outs.verified).toBe(true);
    const e = await rejection(provider.create(inputs({ apiKey: selfService, probeObject: "employees" })));
    expect(e.status).toBe(403);
    expect(e.message).toContain("In Role");
  });

  test("an unknown probe object is named against $metadata", async () => {
    const e = await rejection(provider.create(inputs({ probeObject: "widgets" })));
    expect(e.status).toBe(404);
    expect(e.message).toMatch(/No entity set "widgets" in \$metadata.*incidents/);
  });

  test("the /HEAT prefix: a wrong switch is explained, the right one works", async () => {
    emu.setHeatPrefix(true);
    const e = await rejection(provider.create(inputs()));
    expect(e.message).toContain("try heatPrefix: true");
    const { outs } = await createOk({ heatPrefix: true });
    expect(outs.odataBase).toBe(`${emu.url}/HEAT/api/odata`);
  });

  test("diff: another tenant or key replaces; heatPrefix and probe update; same inputs change nothing", async () => {
    const { id, outs } = await createOk();
    expect(await provider.diff!(id, outs, inputs())).toMatchObject({ changes: false });
    expect(await provider.diff!(id, outs, inputs({ tenantUrl: `${emu.url}/` }))).toMatchObject({ changes: false });
    expect((await provider.diff!(id, outs, inputs({ tenantUrl: "https://other.saasit.com" }))).replaces).toEqual(["tenantUrl"]);
    expect((await provider.diff!(id, outs, inputs({ apiKey: "OTHERKEY" }))).replaces).toEqual(["apiKey"]);
    expect(await provider.diff!(id, outs, inputs({ heatPrefix: true }))).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.diff!(id, outs, inputs({ probeObject: "changes" }))).toMatchObject({ changes: true, replaces: [] });
  });

  test("a 503 with Retry-After is retried after that delay", async () => {
    emu.failNext({ count: 1, status: 503, retryAfterSeconds: 1 });
    emu.resetMetrics();
    const clock = fakeClock();
    const v = await verifyIvantiKey(inputs(), clock);
    expect(clock.waits).toEqual([1000]);
    expect(v.verified).toBe(true);
    expect(emu.metrics().byStatus).toEqual({ "200": 1, "503": 1 });
  });

  test("429s are retried as asked and give up after the bounded attempts", async () => {
    emu.failNext({ count: 10, status: 429, retryAfterSeconds: 4 });
    const waits: number[] = [];
    const e = await rejection(verifyIvantiKey(inputs(), { sleep: async (ms) => void waits.push(ms), maxAttempts: 3 }));
    expect(waits).toEqual([4000, 4000]);
    expect(e.status).toBe(429);
    expect(e.retryable).toBe(true);
  });

  test("delete makes no call", async () => {
    const { id, outs } = await createOk();
    emu.resetMetrics();
    await provider.delete!(id, outs);
    expect(emu.metrics().total).toBe(0);
  });
});

describe("IvantiApiKey in the state", () => {
  test("the fingerprint is a secret output, like the key", async () => {
    const opts = await registrationOptions((o) => new IvantiApiKey("k", { tenantUrl: "https://mycompany.saasit.com", apiKey: "A-KEY-1" }, o));
    expect(opts.additionalSecretOutputs).toEqual(expect.arrayContaining(["apiKey", "fingerprint"]));
  });

  test("the id, stored in clear, holds nothing derived from the key", async () => {
    const a = await createOk();
    const b = await createOk();
    for (const id of [a.id, b.id]) {
      expect(id).not.toContain(ivantiKeyFingerprint(key));
      expect(id).not.toContain(key);
    }
    expect(a.id).not.toBe(b.id);
  });

  test("a state written by an earlier version: refresh replaces its id, and diffs still compare", async () => {
    const { outs } = await createOk();
    // Earlier versions used the fingerprint as the id's suffix and kept it as a plain output.
    const host = new URL(emu.url).host;
    const oldId = `${host}/${ivantiKeyFingerprint(key)}`;
    const old: IvantiApiKeyOutputs = { ...outs, fingerprint: ivantiKeyFingerprint(key) };
    expect(await provider.diff!(oldId, old, inputs())).toMatchObject({ changes: false });
    expect((await provider.diff!(oldId, old, inputs({ apiKey: "OTHERKEY" }))).replaces).toEqual(["apiKey"]);
    const refreshed = await provider.read!(oldId, old);
    expect(refreshed.id!.startsWith(`${host}/`)).toBe(true);
    expect(refreshed.id).not.toBe(oldId);
    expect(refreshed.props).toMatchObject({ verified: true, fingerprint: old.fingerprint });
    expect((await provider.read!(refreshed.id!, refreshed.props as IvantiApiKeyOutputs)).id).toBe(refreshed.id);
  });
});

describe("IvantiApiKey provider serialization", () => {
  test("round trip: no secret in the text; the reloaded provider verifies, reports drift and explains refusals", async () => {
    const rt = roundTrip(provider);
    expect(rt.text).not.toContain(key);
    const r = await rt.provider.create(inputs());
    expect(r.outs.verified).toBe(true);
    emu.editKey(key, { activated: false });
    expect((await rt.provider.read!(r.id, r.outs)).props).toMatchObject({ verified: false, errorCode: "ISM_4001" });
    const e = await rejection(rt.provider.create(inputs()));
    expect(e.message).toContain("Configure > Security Controls > API Keys");
    expect(e.message).not.toContain(key);
  });
});
