/**
 * Stack configuration: every problem reported at once with its key, and the
 * example stacks refused until their placeholders are filled in.
 */
import * as fs from "fs";
import * as path from "path";
import { StackConfigError, loadStackConfig } from "../../config/stackConfig";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require("js-yaml");

type Raw = Record<string, string>;
const raw = (values: Raw) => ({ get: (k: string) => values[k], has: (k: string) => values[k] !== undefined });

/** Pulumi hands object values to the program as JSON strings; do the same with a stack file. */
function stackFile(name: string, secrets: string[] = []): Raw {
  const doc = yaml.load(fs.readFileSync(path.join(__dirname, "../../stacks", name), "utf8")) as { config: Record<string, unknown> };
  const out: Raw = {};
  for (const [k, v] of Object.entries(doc.config)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  for (const s of secrets) out[s] = "set";
  return out;
}

function problems(values: Raw): Record<string, string> {
  try {
    loadStackConfig(raw(values));
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
  ["not both topic forms", { ...valid, "keywire:sns": JSON.stringify({ topicName: "a", existingTopicArn: "arn:aws:sns:eu-west-1:123456789012:b" }) }, "keywire:sns.existingTopicArn"],
  ["unknown keys are refused", { ...valid, "keywire:apiKey": JSON.stringify({ expiresInDay: 3 }) }, "keywire:apiKey"],
  ["an object key given as a plain string", { ...valid, "keywire:sns": "yes" }, "keywire:sns"],
  ["SNS cannot reach a loopback instance", { ...valid, "servicenow:instance": undefined as unknown as string, "servicenow:instanceUrl": "http://127.0.0.1:9" }, "keywire:sns.enabled"],
])("%s", (_label, values, key) => {
  const clean = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Raw;
  expect(Object.keys(problems(clean))).toContain(key);
});

test("the connection may come from the SERVICENOW_* environment, as the providers read it", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { pulumiRawConfig } = require("../../config/pulumiConfig") as typeof import("../../config/pulumiConfig");
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
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
