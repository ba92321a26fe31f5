/**
 * Stack configuration: every problem reported at once with its key, and the
 * example stacks refused until their placeholders are filled in.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { RawConfig, StackConfigError, loadStackConfig } from "../../config/stackConfig";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require("js-yaml");

type Raw = Record<string, string>;
/** The keys a stack sets with --secret; `inClear` lists those set without it in a test. */
const SECRET_KEYS = ["servicenow:password", "servicenow:clientSecret", "keywire:apiKeyToken"];
const raw = (values: Raw, inClear: string[] = []): RawConfig => ({
  get: (k: string) => values[k],
  has: (k: string) => values[k] !== undefined,
  keys: () => Object.keys(values).filter((k) => values[k] !== undefined),
  origin: (k: string) => (values[k] === undefined ? undefined : SECRET_KEYS.includes(k) && !inClear.includes(k) ? "secret" : "plain"),
  length: (k: string) => values[k]?.length,
});

/** Pulumi hands object values to the program as JSON strings; do the same with a stack file. */
function stackFile(name: string, secrets: string[] = []): Raw {
  const doc = yaml.load(fs.readFileSync(path.join(__dirname, "../../stacks", name), "utf8")) as { config: Record<string, unknown> };
  const out: Raw = {};
  for (const [k, v] of Object.entries(doc.config)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  for (const s of secrets) out[s] = "set";
  return out;
}

function problems(values: Raw, inClear: string[] = []): Record<string, string> {
  try {
    loadStackConfig(raw(values, inClear));
  } catch (e) {
    expect(e).toBeInstanceOf(StackConfigError);
    return Object.fromEntries((e as StackConfigError).problems.map((p) => [p.key, p.message]));
  }
  throw new Error("expected the configuration to be refused");
}

const valid: Raw = {
  "servicenow:instance": "dev12345",
  "servicenow:username": "deployer",
  "servicenow:password": "x",
  "keywire:integrationUser": JSON.stringify({ userName: "svc.events" }),
  "keywire:pushConnector": JSON.stringify({ name: "AWS SNS push connector" }),
  "keywire:sns": JSON.stringify({ topicName: "alarms" }),
};

test("a complete configuration loads with defaults filled in", () => {
  const cfg = loadStackConfig(raw(valid));
  expect(cfg.instanceUrl).toBe("https://dev12345.service-now.com");
  expect(cfg.policyMode).toBe("attach");
  expect(cfg.integrationUser.roles).toEqual(["evt_mgmt_integration"]);
  expect(cfg.apiKey.authScopes).toEqual(["useraccount"]);
  expect(cfg.sns.confirmationTimeoutInMinutes).toBe(5);
  expect(cfg.hasOperatorToken).toBe(false);
});

test("the local stack file is valid once the demo sets the emulator's URL and password", () => {
  const cfg = loadStackConfig(raw({ ...stackFile("Pulumi.local.yaml", ["servicenow:password"]), "servicenow:instanceUrl": "http://127.0.0.1:1234" }));
  expect(cfg.sns.enabled).toBe(false);
});

test.each(["Pulumi.dev.yaml", "Pulumi.prod.yaml"])("%s is refused until its placeholders are replaced, naming each key", (file) => {
  const p = problems(stackFile(file, ["servicenow:password", "servicenow:clientSecret"]));
  expect(Object.keys(p)).toEqual(expect.arrayContaining(["servicenow:instance", "keywire:pushConnector.name"]));
  expect(p["servicenow:instance"]).toMatch(/replace the placeholder/);
});

test("every problem is reported at once, each with its key", () => {
  const p = problems({
    "servicenow:instanceUrl": "http://example.com",
    "keywire:policyMode": "sideways",
    "keywire:integrationUser": JSON.stringify({ userName: "has spaces" }),
    "keywire:sns": JSON.stringify({ enabled: true, existingTopicArn: "not-an-arn", confirmationTimeoutInMinutes: 0 }),
    "keywire:apiKey": JSON.stringify({ expiresInDays: -1 }),
  });
  expect(Object.keys(p).sort()).toEqual(
    [
      "keywire:apiKey.expiresInDays",
      "keywire:integrationUser.userName",
      "keywire:policyMode",
      "keywire:pushConnector",
      "keywire:sns.confirmationTimeoutInMinutes",
      "keywire:sns.existingTopicArn",
      "servicenow:instanceUrl",
      "servicenow:username",
    ].sort(),
  );
  expect(p["servicenow:instanceUrl"]).toMatch(/https/);
  expect(p["keywire:policyMode"]).toMatch(/attach.*dedicated/);
});

test.each<[string, Raw, string]>([
  ["a password is required with a username", { ...valid, "servicenow:password": undefined as unknown as string }, "servicenow:password"],
  ["a client secret is required with a client id", { ...valid, "servicenow:clientId": "abc" }, "servicenow:clientSecret"],
  ["SNS needs a topic", { ...valid, "keywire:sns": JSON.stringify({ enabled: true }) }, "keywire:sns.topicName"],
  [
    "not both topic forms",
    { ...valid, "keywire:sns": JSON.stringify({ topicName: "a", existingTopicArn: "arn:aws:sns:eu-west-1:123456789012:b" }) },
    "keywire:sns.existingTopicArn",
  ],
  ["unknown keys are refused", { ...valid, "keywire:apiKey": JSON.stringify({ expiresInDay: 3 }) }, "keywire:apiKey"],
  ["an object key given as a plain string", { ...valid, "keywire:sns": "yes" }, "keywire:sns"],
  [
    "SNS cannot reach a loopback instance",
    { ...valid, "servicenow:instance": undefined as unknown as string, "servicenow:instanceUrl": "http://127.0.0.1:9" },
    "keywire:sns.enabled",
  ],
])("%s", (_label, values, key) => {
  const clean = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Raw;
  expect(Object.keys(problems(clean))).toContain(key);
});

test("the connection may come from the SERVICENOW_* environment, as the providers read it", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { pulumiRawConfig } = require("../../config/pulumiConfig") as typeof import("../../config/pulumiConfig");
  pulumi.runtime.setAllConfig({
    "keywire:integrationUser": JSON.stringify({ userName: "svc.events" }),
    "keywire:pushConnector": JSON.stringify({ name: "AWS SNS push connector" }),
    "keywire:sns": JSON.stringify({ enabled: false }),
  });
  const cfg = loadStackConfig(
    pulumiRawConfig({ SERVICENOW_INSTANCE_URL: "https://dev12345.service-now.com", SERVICENOW_USERNAME: "deployer", SERVICENOW_PASSWORD: "x" }),
  );
  expect(cfg.instanceUrl).toBe("https://dev12345.service-now.com");
  expect(cfg.authKind).toBe("basic");
});

test("a placeholder OAuth client id is refused", () => {
  const { "servicenow:username": _u, "servicenow:password": _p, ...rest } = valid;
  expect(problems({ ...rest, "servicenow:clientId": "<oauth client id>", "servicenow:clientSecret": "s" })["servicenow:clientId"]).toMatch(/placeholder/);
});

describe("bad input is refused with what to do, in one message", () => {
  test("the error is a RunError, so Pulumi prints the problems without a stack trace", () => {
    let thrown: unknown;
    try {
      loadStackConfig(raw({ ...valid, "keywire:policyMode": "sideways" }));
    } catch (e) {
      thrown = e;
    }
    expect(pulumi.RunError.isInstance(thrown)).toBe(true);
    expect((thrown as Error).message).toContain("keywire:policyMode");
  });

  test.each<[string, Raw, string, RegExp]>([
    ["a boolean given as a word", { "keywire:keepBasicAuth": "yes" }, "keywire:keepBasicAuth", /^must be a boolean \(got string "yes"\)/],
    [
      "a number given as text",
      { "keywire:apiKey": JSON.stringify({ expiresInDays: "90" }) },
      "keywire:apiKey.expiresInDays",
      /^must be a number \(got string "90"\)/,
    ],
    [
      "a list given as text",
      { "keywire:integrationUser": JSON.stringify({ userName: "svc.events", roles: "itil" }) },
      "keywire:integrationUser.roles",
      /^must be a list \(got string "itil"\)/,
    ],
    ["an object given as a list", { "keywire:sns": JSON.stringify([1]) }, "keywire:sns", /^must be an object \(got a list\)/],
  ])("a wrong type reads as a wrong type, not as missing: %s", (_label, values, key, message) => {
    const p = problems({ ...valid, ...values });
    expect(p[key]).toMatch(message);
    expect(p[key]).not.toMatch(/required/);
  });

  test("a missing value still reads as required", () => {
    const { "keywire:pushConnector": _omit, ...rest } = valid;
    expect(problems(rest)["keywire:pushConnector"]).toBe("is required");
  });

  test("an unknown keywire key is refused, naming the nearest known key", () => {
    const p = problems({ ...valid, "keywire:keepBasicAuht": "true", "keywire:somethingElse": "1" });
    expect(p["keywire:keepBasicAuht"]).toMatch(/not a keywire setting.*did you mean keywire:keepBasicAuth\?/);
    expect(p["keywire:somethingElse"]).toMatch(/not a keywire setting/);
    expect(p["keywire:somethingElse"]).not.toMatch(/did you mean/);
  });

  test("keywire:adopt is true or the parts to take over; anything else is refused with what it may be", () => {
    expect(loadStackConfig(raw({ ...valid, "keywire:adopt": "true" })).adopt).toBe(true);
    const parts = JSON.stringify({ key: "0123456789abcdef0123456789abcdef", links: true });
    expect(loadStackConfig(raw({ ...valid, "keywire:adopt": parts })).adopt).toEqual({ key: "0123456789abcdef0123456789abcdef", links: true });
    expect(problems({ ...valid, "keywire:adopt": "yes" })["keywire:adopt"]).toContain("must be true or an object");
    expect(problems({ ...valid, "keywire:adopt": JSON.stringify({ keys: true }) })["keywire:adopt"]).toMatch(/"keys".*did you mean "key"/);
    expect(problems({ ...valid, "keywire:adopt": JSON.stringify({ key: "KEY-1" }) })["keywire:adopt.key"]).toContain("the key's sys_id");
    expect(problems({ ...valid, "keywire:adopt.key": "true" })["keywire:adopt.key"]).toContain("pulumi config set --path keywire:adopt.key");
  });

  test("an unknown nested key names the nearest one in its object", () => {
    const p = problems({ ...valid, "keywire:apiKey": JSON.stringify({ expiresInDay: 3 }) });
    expect(p["keywire:apiKey"]).toMatch(/expiresInDay.*did you mean "expiresInDays"\?/);
  });

  test("a dotted key set without --path is refused with the --path command", () => {
    const p = problems({ ...valid, "keywire:sns.enabled": "false", "keywire:apiKey.rotation.maxAgeDays": "30" });
    expect(p["keywire:sns.enabled"]).toContain("pulumi config set --path keywire:sns.enabled");
    expect(p["keywire:sns.enabled"]).toContain("pulumi config rm keywire:sns.enabled");
    expect(p["keywire:apiKey.rotation.maxAgeDays"]).toContain("pulumi config set --path keywire:apiKey.rotation.maxAgeDays");
    // The value is not repeated: it is the user's to type again.
    expect(p["keywire:sns.enabled"]).not.toContain("false");
  });

  test("keys of other namespaces, the operator token and the documented platform keys are not refused", () => {
    const cfg = loadStackConfig(
      raw({
        ...valid,
        "aws:region": "eu-west-1",
        "freshservice:domain": "mycompany",
        "keywire:apiKeyToken": "now_secret",
        "keywire:freshservice": JSON.stringify({ probe: "agents" }),
        "keywire:ivanti": JSON.stringify({ heatPrefix: false }),
        "servicenow:proxy": "unrelated",
      }),
    );
    expect(cfg.hasOperatorToken).toBe(true);
  });

  test("a misspelt servicenow key is not refused, but the missing key's problem points at it", () => {
    const { "servicenow:instance": _omit, ...rest } = valid;
    const p = problems({ ...rest, "servicenow:instanceURL": "https://dev12345.service-now.com" });
    expect(Object.keys(p)).toEqual(["servicenow:instance"]);
    expect(p["servicenow:instance"]).toContain("servicenow:instanceURL is set: did you mean servicenow:instanceUrl?");
  });

  test.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      "rotation before expiry as long as the key lives (due at creation)",
      { expiresInDays: 30, rotation: { rotateBeforeExpiryDays: 30 } },
      "keywire:apiKey.rotation.rotateBeforeExpiryDays",
      /less than expiresInDays \(30\)/,
    ],
    [
      "rotation before expiry longer than the key lives",
      { expiresInDays: 30, rotation: { rotateBeforeExpiryDays: 45 } },
      "keywire:apiKey.rotation.rotateBeforeExpiryDays",
      /less than expiresInDays/,
    ],
    [
      "a maximum age past the expiry",
      { expiresInDays: 30, rotation: { maxAgeDays: 31 } },
      "keywire:apiKey.rotation.maxAgeDays",
      /at most expiresInDays \(30\)/,
    ],
    ["a maximum age of zero", { expiresInDays: 30, rotation: { maxAgeDays: 0 } }, "keywire:apiKey.rotation.maxAgeDays", /greater than 0/],
  ])("a key due for rotation when it is made is refused: %s", (_label, apiKey, key, message) => {
    const p = problems({ ...valid, "keywire:apiKey": JSON.stringify(apiKey) });
    expect(p[key]).toMatch(message);
  });

  test("rotation settings that leave the key time to serve are accepted", () => {
    for (const rotation of [{ rotateBeforeExpiryDays: 29 }, { maxAgeDays: 30 }, { maxAgeDays: 20, rotateBeforeExpiryDays: 5 }]) {
      expect(() => loadStackConfig(raw({ ...valid, "keywire:apiKey": JSON.stringify({ expiresInDays: 30, rotation }) }))).not.toThrow();
    }
  });

  test("a rotation problem is reported along with the other problems", () => {
    const p = problems({
      ...valid,
      "keywire:policyMode": "sideways",
      "keywire:apiKey": JSON.stringify({ expiresInDays: 30, rotation: { rotateBeforeExpiryDays: 30 } }),
    });
    expect(Object.keys(p).sort()).toEqual(["keywire:apiKey.rotation.rotateBeforeExpiryDays", "keywire:policyMode"]);
  });

  test("a delivery policy whose minimum delay exceeds its maximum is refused", () => {
    const p = problems({ ...valid, "keywire:sns": JSON.stringify({ topicName: "alarms", deliveryPolicy: { minDelayTarget: 700 } }) });
    expect(p["keywire:sns.deliveryPolicy.minDelayTarget"]).toMatch(/maxDelayTarget \(600\)/);
  });

  test.each<[string, Raw, string]>([
    ["an over-long key name", { "keywire:apiKey": JSON.stringify({ name: "k".repeat(101) }) }, "keywire:apiKey.name"],
    ["a key name with a line break", { "keywire:apiKey": JSON.stringify({ name: "a\nb" }) }, "keywire:apiKey.name"],
    ["a connector name with a control character", { "keywire:pushConnector": JSON.stringify({ name: "AWS\u0007" }) }, "keywire:pushConnector.name"],
    ["an over-long connector name", { "keywire:pushConnector": JSON.stringify({ name: "c".repeat(101) }) }, "keywire:pushConnector.name"],
    [
      "an over-long first name",
      { "keywire:integrationUser": JSON.stringify({ userName: "svc.events", firstName: "f".repeat(101) }) },
      "keywire:integrationUser.firstName",
    ],
    [
      "a connector name the instance would run as a script",
      { "keywire:pushConnector": JSON.stringify({ name: " JavaScript:gs.getUserID()" }) },
      "keywire:pushConnector.name",
    ],
    ["a key name the instance would run as a script", { "keywire:apiKey": JSON.stringify({ name: "javascript:1" }) }, "keywire:apiKey.name"],
    ["an auth scope the instance would run as a script", { "keywire:apiKey": JSON.stringify({ authScopes: ["javascript:1"] }) }, "keywire:apiKey.authScopes.0"],
  ])("%s is refused, naming the key", (_label, values, key) => {
    expect(Object.keys(problems({ ...valid, ...values }))).toContain(key);
  });

  test("a value that may hold credentials is never repeated", () => {
    const e = (() => {
      try {
        loadStackConfig(
          raw({
            ...valid,
            "servicenow:instance": "<https://admin:hunter2@dev1.service-now.com>",
            "keywire:keepBasicAuth": "https://admin:hunter3@example.com",
            "keywire:namePrefix": "now_abcdefghijklmnopqrstuvwxyz0123",
          }),
        );
      } catch (err) {
        return err as StackConfigError;
      }
      throw new Error("expected the configuration to be refused");
    })();
    const keys = e.problems.map((p) => p.key);
    expect(keys).toEqual(expect.arrayContaining(["servicenow:instance", "keywire:keepBasicAuth", "keywire:namePrefix"]));
    for (const secret of ["hunter2", "hunter3", "abcdefghijklmnopqrstuvwxyz"]) expect(e.message).not.toContain(secret);
    expect(e.problems.find((p) => p.key === "keywire:keepBasicAuth")!.message).toMatch(/must be a boolean \(got a string\)/);
  });
});

describe("characters that change what a value names or how it reads are refused, naming the key", () => {
  test.each<[string, Raw, string, RegExp]>([
    [
      "a line break inside the instance URL",
      { "servicenow:instance": undefined as unknown as string, "servicenow:instanceUrl": "https://dev1.service-now.com\n.evil.com" },
      "servicenow:instanceUrl",
      /contains a line break.*character 29/,
    ],
    ["a tab inside the instance name", { "servicenow:instance": "dev1\t" }, "servicenow:instance", /contains a tab/],
    [
      "a space inside the instance URL",
      { "servicenow:instance": undefined as unknown as string, "servicenow:instanceUrl": "https://dev1.service-now.com .evil.com" },
      "servicenow:instanceUrl",
      /contains a space/,
    ],
    [
      "a zero-width space inside the instance URL",
      { "servicenow:instance": undefined as unknown as string, "servicenow:instanceUrl": "https://dev1.service-now.com\u200b.evil.com" },
      "servicenow:instanceUrl",
      /U\+200B/,
    ],
    [
      "a 70,000-character instance host",
      { "servicenow:instance": undefined as unknown as string, "servicenow:instanceUrl": `https://${"h".repeat(70_000)}.com` },
      "servicenow:instanceUrl",
      /longer than 4096 characters/,
    ],
    [
      "a 3,000-character instance host",
      { "servicenow:instance": undefined as unknown as string, "servicenow:instanceUrl": `https://${"h".repeat(3_000)}.com` },
      "servicenow:instanceUrl",
      /at most 2048 characters/,
    ],
    [
      "a 254-character instance host",
      { "servicenow:instance": `${Array.from({ length: 4 }, () => "h".repeat(62)).join(".")}.co` },
      "servicenow:instance",
      /host .*at most 253 characters/,
    ],
    [
      "a 64-character label in the instance host",
      { "servicenow:instance": `${"h".repeat(64)}.service-now.com` },
      "servicenow:instance",
      /label .*at most 63 characters/,
    ],
    [
      "a right-to-left override in the connector's name",
      { "keywire:pushConnector": JSON.stringify({ name: "AWS SNS push \u202Erotcennoc" }) },
      "keywire:pushConnector.name",
      /U\+202E/,
    ],
    ["a zero-width space in the key's name", { "keywire:apiKey": JSON.stringify({ name: "keywire\u200b key" }) }, "keywire:apiKey.name", /U\+200B/],
    ["an isolate in the key's name", { "keywire:apiKey": JSON.stringify({ name: "\u2066keywire\u2069 key" }) }, "keywire:apiKey.name", /U\+2066/],
    [
      "a byte-order mark in the user's first name",
      { "keywire:integrationUser": JSON.stringify({ userName: "svc.events", firstName: "\ufeffEvents" }) },
      "keywire:integrationUser.firstName",
      /U\+FEFF/,
    ],
    [
      "a word joiner in the user's last name",
      { "keywire:integrationUser": JSON.stringify({ userName: "svc.events", lastName: "Ev\u2060ents" }) },
      "keywire:integrationUser.lastName",
      /U\+2060/,
    ],
    [
      "a left-to-right mark in the user name",
      { "keywire:integrationUser": JSON.stringify({ userName: "svc.events\u200e" }) },
      "keywire:integrationUser.userName",
      /user_name/,
    ],
    ["a bidirectional override in the name prefix", { "keywire:namePrefix": "kw\u202d" }, "keywire:namePrefix", /lower-case/],
  ])("%s", (_label, values, key, message) => {
    const clean = Object.fromEntries(Object.entries({ ...valid, ...values }).filter(([, v]) => v !== undefined)) as Raw;
    const p = problems(clean);
    expect(p[key]).toMatch(message);
    expect(p[key]).not.toContain("evil");
    expect(p[key]).not.toContain("hhhhhhhhhh");
  });
});

test("a problem with a setting taken from the environment names the variable, not a config key", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { pulumiRawConfig } = require("../../config/pulumiConfig") as typeof import("../../config/pulumiConfig");
  pulumi.runtime.setAllConfig({
    "keywire:integrationUser": JSON.stringify({ userName: "svc.events" }),
    "keywire:pushConnector": JSON.stringify({ name: "AWS SNS push connector" }),
    "keywire:sns": JSON.stringify({ enabled: false }),
  });
  const env = { SERVICENOW_INSTANCE_URL: "https://dev12345.service-now.com\n.evil.com", SERVICENOW_USERNAME: "deployer", SERVICENOW_PASSWORD: "x" };
  let thrown: unknown;
  try {
    loadStackConfig(pulumiRawConfig(env));
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(StackConfigError);
  const p = Object.fromEntries((thrown as StackConfigError).problems.map((x) => [x.key, x.message]));
  expect(Object.keys(p)).toEqual(["SERVICENOW_INSTANCE_URL"]);
  expect(p.SERVICENOW_INSTANCE_URL).toContain("export SERVICENOW_INSTANCE_URL=");
});

describe("a value longer than any keywire setting needs is refused before it is parsed", () => {
  test.each<[string, string, number, RegExp]>([
    ["keywire:sns", JSON.stringify({ topicName: "alarms", padding: "p".repeat(200_000) }), 200_000, /longer than 16384 characters/],
    ["keywire:namePrefix", "n".repeat(20_000), 20_000, /longer than 16384 characters/],
    ["servicenow:username", "u".repeat(5_000), 5_000, /longer than 4096 characters/],
    ["servicenow:password", "s".repeat(5_000), 5_000, /longer than 4096 characters/],
    ["keywire:apiKeyToken", "t".repeat(5_000), 5_000, /longer than 4096 characters/],
  ])("%s", (key, value, _n, message) => {
    const p = problems({ ...valid, [key]: value });
    expect(p[key]).toMatch(message);
    expect(p[key]).toMatch(/pulumi config/);
    // One problem for the key, not one per rule the long value also breaks.
    expect(Object.keys(p).filter((k) => k.startsWith(key))).toEqual([key]);
    expect(JSON.stringify(p)).not.toMatch(/(.)\1{50}/);
  });
});

describe("a secret set without --secret is refused with the command that stores it encrypted", () => {
  test.each(["servicenow:password", "keywire:apiKeyToken"])("%s in clear text", (key) => {
    const p = problems({ ...valid, [key]: "hunter2-in-clear" }, [key]);
    expect(p[key]).toContain("clear text");
    expect(p[key]).toContain(`pulumi config set --secret ${key}`);
    expect(p[key]).toContain(`pulumi config rm ${key}`);
    expect(JSON.stringify(p)).not.toContain("hunter2-in-clear");
  });

  test("servicenow:clientSecret in clear text", () => {
    const { "servicenow:username": _u, "servicenow:password": _p, ...rest } = valid;
    const p = problems({ ...rest, "servicenow:clientId": "cid", "servicenow:clientSecret": "hunter3-in-clear" }, ["servicenow:clientSecret"]);
    expect(p["servicenow:clientSecret"]).toContain("pulumi config set --secret servicenow:clientSecret");
    expect(JSON.stringify(p)).not.toContain("hunter3-in-clear");
  });

  test("a password from SERVICENOW_PASSWORD is not a clear-text setting", () => {
    const { "servicenow:password": _p, ...rest } = valid;
    const values: Raw = { ...rest };
    const cfg = loadStackConfig({
      ...raw(values),
      has: (k) => k === "servicenow:password" || values[k] !== undefined,
      origin: (k) => (k === "servicenow:password" ? "environment" : values[k] === undefined ? undefined : "plain"),
      length: (k) => (k === "servicenow:password" ? 8 : values[k]?.length),
    });
    expect(cfg.authKind).toBe("basic");
  });
});
