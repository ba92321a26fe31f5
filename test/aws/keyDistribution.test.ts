import * as pulumi from "@pulumi/pulumi";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const registered: Registered[] = [];
const SECRET_SIG = { key: pulumi.runtime.specialSigKey, value: pulumi.runtime.specialSecretSig };

/** A secret input arrives at the mock monitor wrapped in the secret signature. */
function secretWrapped(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG.key] === SECRET_SIG.value;
}

function value<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

function find(type: string, name?: string): Registered {
  const r = registered.find((x) => x.type === type && (name === undefined || x.name === name));
  if (!r) throw new Error(`no ${type} ${name ?? ""} registered; have ${registered.map((x) => `${x.type}/${x.name}`).join(", ")}`);
  return r;
}

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs };
        delete state.__provider;
        // What the key providers would compute (their code does not run under mocks).
        if (args.type === "pulumi-nodejs:dynamic/keywire/freshservice:ApiKey") state.baseUrl = `https://${args.inputs.domain}.freshservice.com`;
        if (args.type === "pulumi-nodejs:dynamic/keywire/ivanti:ApiKey") state.odataBase = `${args.inputs.tenantUrl}/api/odata`;
        if (args.type === "aws:secretsmanager/secret:Secret") {
          state.arn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${args.name}-AbCdEf`;
          state.name = args.inputs.name ?? `${args.name}-1234567`;
        }
        if (args.type === "aws:secretsmanager/secretVersion:SecretVersion") {
          state.versionId = "3a1c7d2e-0000-4000-8000-000000000001";
          state.arn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${args.name}`;
        }
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        return args.inputs;
      },
    },
    "keywire",
    "test",
    false,
  );
});

beforeEach(() => {
  registered.length = 0;
});

// Loaded after the mocks are in place, which a static import would precede.
/* eslint-disable @typescript-eslint/no-require-imports -- see above */
const load = () => ({
  dist: require("../../resources/aws/secretsManagerDistribution") as typeof import("../../resources/aws/secretsManagerDistribution"),
  fsKey: require("../../resources/freshservice/apiKey") as typeof import("../../resources/freshservice/apiKey"),
  fsAgent: require("../../resources/freshservice/agent") as typeof import("../../resources/freshservice/agent"),
  ivKey: require("../../resources/ivanti/apiKey") as typeof import("../../resources/ivanti/apiKey"),
});
/* eslint-enable @typescript-eslint/no-require-imports */

const FS_KEY = "fs-plain-key-value-123";
const IV_KEY = "0123456789ABCDEF0123456789ABCDEF";

describe("KeyDistribution with mocks", () => {
  test("publishes a Freshservice key: secret + version, value secret-wrapped, ARN and version id out", async () => {
    const { dist, fsKey } = load();
    // A plain string on purpose: the resource must make it secret itself.
    const key = new fsKey.FreshserviceApiKey("helpdesk", { domain: "mycompany", apiKey: FS_KEY });
    const d = new dist.KeyDistribution("helpdesk-key", {
      secretName: "keywire/freshservice/helpdesk",
      payload: dist.freshserviceKeyPayload(key),
      tags: { team: "itsm" },
    });

    expect(await value(d.secretArn)).toBe("arn:aws:secretsmanager:eu-west-1:123456789012:secret:helpdesk-key-AbCdEf");
    expect(await value(d.versionId)).toBe("3a1c7d2e-0000-4000-8000-000000000001");
    expect(await value(d.secretName)).toBe("keywire/freshservice/helpdesk");
    expect(await pulumi.isSecret(d.secretArn)).toBe(false);

    const secret = find("aws:secretsmanager/secret:Secret", "helpdesk-key");
    expect(secret.inputs).toMatchObject({ name: "keywire/freshservice/helpdesk", tags: { team: "itsm", "managed-by": "keywire" } });
    expect(JSON.stringify(secret.inputs)).not.toContain(FS_KEY);

    const version = find("aws:secretsmanager/secretVersion:SecretVersion", "helpdesk-key-value");
    expect(version.inputs.secretId).toBe("helpdesk-key-id");
    expect(secretWrapped(version.inputs.secretString)).toBe(true);
    const stored = JSON.parse((version.inputs.secretString as { value: string }).value);
    expect(stored).toEqual({
      platform: "freshservice",
      domain: "mycompany",
      apiBaseUrl: "https://mycompany.freshservice.com/api/v2",
      apiKey: FS_KEY,
      auth: "basic",
    });
    expect(await pulumi.isSecret(d.version.secretString)).toBe(true);
  });

  test("a bare secretValue given as plain text is still secret-wrapped", async () => {
    const { dist } = load();
    const d = new dist.KeyDistribution("bare", { secretValue: "plain-text-key" });
    await value(d.versionId);
    const version = find("aws:secretsmanager/secretVersion:SecretVersion", "bare-value");
    expect(secretWrapped(version.inputs.secretString)).toBe(true);
    expect((version.inputs.secretString as { value: string }).value).toBe("plain-text-key");
    expect(await pulumi.isSecret(d.version.secretString)).toBe(true);
    expect(find("aws:secretsmanager/secret:Secret", "bare").inputs.description).toBe("API key published by keywire");
  });

  test("publishes an Ivanti key with its OData root", async () => {
    const { dist, ivKey } = load();
    const key = new ivKey.IvantiApiKey("ism", { tenantUrl: "https://mycompany.saasit.com", apiKey: IV_KEY });
    const d = new dist.KeyDistribution("ism-key", {
      payload: dist.ivantiKeyPayload(key),
      recoveryWindowInDays: 7,
    });
    await value(d.versionId);
    expect(find("aws:secretsmanager/secret:Secret", "ism-key").inputs.recoveryWindowInDays).toBe(7);
    const version = find("aws:secretsmanager/secretVersion:SecretVersion", "ism-key-value");
    expect(secretWrapped(version.inputs.secretString)).toBe(true);
    expect(JSON.parse((version.inputs.secretString as { value: string }).value)).toEqual({
      platform: "ivanti",
      tenantUrl: "https://mycompany.saasit.com",
      odataBase: "https://mycompany.saasit.com/api/odata",
      apiKey: IV_KEY,
      auth: "rest_api_key",
    });
  });

  test("the payload helpers return secret Outputs", async () => {
    const { dist } = load();
    const p = dist.freshserviceKeyPayload({ domain: "d", baseUrl: "https://d.freshservice.com", apiKey: "k-123" });
    expect(await pulumi.isSecret(p)).toBe(true);
    expect(await value(p)).toMatchObject({ apiBaseUrl: "https://d.freshservice.com/api/v2", apiKey: "k-123" });
  });

  test("exactly one of secretValue or payload", () => {
    const { dist } = load();
    expect(() => new dist.KeyDistribution("none", {})).toThrow(/exactly one of secretValue or payload/);
    expect(() => new dist.KeyDistribution("both", { secretValue: "a", payload: { a: "b" } })).toThrow(/exactly one/);
  });

  test("payload JSON is stable whatever the key order", () => {
    const { dist } = load();
    expect(dist.stableJson({ b: "2", a: 1, c: true })).toBe(dist.stableJson({ c: true, a: 1, b: "2" }));
  });
});

describe("keywire's key resources under mocks", () => {
  test("FreshserviceApiKey: own type token, key secret-wrapped, secret output, provider text without the key", async () => {
    const { fsKey } = load();
    const key = new fsKey.FreshserviceApiKey("k", { domain: "mycompany", apiKey: FS_KEY });
    expect(await pulumi.isSecret(key.apiKey)).toBe(true);
    expect(await pulumi.isSecret(key.domain)).toBe(false);
    const reg = find("pulumi-nodejs:dynamic/keywire/freshservice:ApiKey", "k");
    expect(secretWrapped(reg.inputs.apiKey)).toBe(true);
    expect(typeof reg.inputs.__provider).toBe("string");
    expect(reg.inputs.__provider as string).not.toContain(FS_KEY);
  });

  test("FreshserviceAgent: own type token and secret managing key", async () => {
    const { fsAgent } = load();
    const agent = new fsAgent.FreshserviceAgent("a", {
      domain: "mycompany",
      apiKey: FS_KEY,
      email: "bot@example.com",
      firstName: "Bot",
      roles: [{ roleName: "SD Agent" }],
    });
    expect(await pulumi.isSecret(agent.apiKey)).toBe(true);
    const reg = find("pulumi-nodejs:dynamic/keywire/freshservice:Agent", "a");
    expect(secretWrapped(reg.inputs.apiKey)).toBe(true);
    expect(reg.inputs.__provider as string).not.toContain(FS_KEY);
  });

  test("IvantiApiKey: own type token and secret key", async () => {
    const { ivKey } = load();
    const key = new ivKey.IvantiApiKey("i", { tenantUrl: "https://mycompany.saasit.com", apiKey: IV_KEY, heatPrefix: true });
    expect(await pulumi.isSecret(key.apiKey)).toBe(true);
    const reg = find("pulumi-nodejs:dynamic/keywire/ivanti:ApiKey", "i");
    expect(secretWrapped(reg.inputs.apiKey)).toBe(true);
    expect(reg.inputs.heatPrefix).toBe(true);
    expect(reg.inputs.__provider as string).not.toContain(IV_KEY);
  });
});
