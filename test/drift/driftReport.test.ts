/**
 * The drift report from `pulumi preview --refresh --json`: per resource and
 * property, instance changes told apart from program changes.
 */
import {
  buildDriftReport,
  configSecrets,
  formatDriftMarkdown,
  formatDriftText,
  PreviewJson,
  pulumiFailureText,
  redactDriftReport,
} from "../../scripts/drift/driftReport";

const urn = (type: string, name: string) => `urn:pulumi:dev::keywire::keywire:servicenow:ApiKeyAuth$${type}::${name}`;
const KEY = "pulumi-nodejs:dynamic/keywire/servicenow:ApiKey";
const PROFILE = "pulumi-nodejs:dynamic/keywire/servicenow:InboundProfile";
const VERIFY = "pulumi-nodejs:dynamic/keywire/servicenow:ApiKeyVerification";

const preview: PreviewJson = {
  steps: [
    { op: "same", urn: "urn:pulumi:dev::keywire::pulumi:pulumi:Stack::keywire-dev" },
    { op: "refresh", urn: urn(PROFILE, "keywire-profile") },
    {
      op: "update",
      urn: urn(PROFILE, "keywire-profile"),
      oldState: { type: PROFILE, inputs: { name: "p", keyLocation: "header" }, outputs: { name: "p", keyLocation: "header", sysId: "a".repeat(32), columns: {} } },
      newState: { type: PROFILE, inputs: { name: "p", keyLocation: "query", __provider: "x" } },
    },
    {
      op: "replace",
      urn: urn(KEY, "keywire-key"),
      oldState: { type: KEY, inputs: { name: "k", active: true }, outputs: { name: "k", active: true, rotation: { trigger: "1" } } },
      newState: { type: KEY, inputs: { name: "k", active: true, rotation: { trigger: "2" } } },
    },
    {
      op: "update",
      urn: urn(VERIFY, "keywire-verification"),
      oldState: { type: VERIFY, inputs: { via: "query" }, outputs: { via: "query", verified: false, brokenLink: "the key is inactive" } },
      newState: { type: VERIFY, inputs: { via: "query" } },
    },
    { op: "create", urn: urn("pulumi-nodejs:dynamic/keywire/servicenow:AccessPolicyProfileLink", "keywire-link-event-api"), newState: { type: "pulumi-nodejs:dynamic/keywire/servicenow:AccessPolicyProfileLink" } },
  ],
};

test("each drifted resource is named with its properties, expected and actual", () => {
  const report = buildDriftReport("dev", preview);
  expect(report.drifted).toBe(true);
  expect(report.items.map((i) => [i.resource, i.action])).toEqual([
    ["InboundProfile keywire-profile", "update"],
    ["ApiKey keywire-key", "replace"],
    ["ApiKeyVerification keywire-verification", "update"],
    ["AccessPolicyProfileLink keywire-link-event-api", "recreate"],
  ]);
  expect(report.items[0].properties).toEqual([{ property: "keyLocation", expected: "query", actual: "header", source: "instance" }]);
  expect(report.items[1].summary).toBe("rotation due (age, expiry or trigger)");
  expect(report.items[1].properties[0]).toMatchObject({ property: "rotation", source: "program" });
  expect(report.items[2].properties[0].actual).toBe("false (the key is inactive)");
  const text = formatDriftText(report);
  expect(text).toContain("InboundProfile keywire-profile: keyLocation changed on the instance → pulumi up will update it");
  expect(text).toContain("keyLocation: expected query → actual header");
  expect(formatDriftMarkdown(report)).toContain("| InboundProfile keywire-profile | keyLocation | query | header | update |");
});

test("a preview with only unchanged steps is no drift", () => {
  const report = buildDriftReport("dev", { steps: [{ op: "same", urn: urn(KEY, "k") }, { op: "refresh", urn: urn(KEY, "k") }] });
  expect(report.drifted).toBe(false);
  expect(formatDriftText(report)).toBe("stack dev: no drift\n");
});

test("markdown cannot be broken by names from the instance", () => {
  const report = buildDriftReport("dev", {
    steps: [
      {
        op: "update",
        urn: urn(PROFILE, "p"),
        oldState: { type: PROFILE, inputs: { name: "x" }, outputs: { name: "a|b\n`c`" } },
        newState: { type: PROFILE, inputs: { name: "x" } },
      },
    ],
  });
  const md = formatDriftMarkdown(report);
  expect(md).toContain("a\\|b \\`c\\`");
});

describe("the stack's secrets never reach the output", () => {
  // Neither is credential-shaped: only the stack's own list can catch them.
  const PASSWORD = "correct horse battery staple";
  const TOKEN = "plain-token-value-4711";
  const configJson = {
    "servicenow:instanceUrl": { value: "https://dev1.service-now.com", secret: false },
    "servicenow:password": { value: PASSWORD, secret: true },
    "keywire:apiKeyToken": { value: TOKEN, secret: true },
    "keywire:apiKey": { value: '{"name":"events"}', objectValue: { name: "events" }, secret: false },
  };
  const secretPreview: PreviewJson = {
    steps: [
      {
        op: "update",
        urn: urn(PROFILE, "keywire-profile"),
        // The engine should print secrets as [secret]; a provider that stored one in a
        // plain property, or a display bug, puts it in the diff in clear.
        oldState: { type: PROFILE, inputs: { name: "p", note: `old ${PASSWORD}` }, outputs: { name: "p", note: `old ${PASSWORD}`, nested: { t: TOKEN } } },
        newState: { type: PROFILE, inputs: { name: "p", note: `new ${TOKEN}`, nested: { t: "x" } } },
      },
    ],
    diagnostics: [{ severity: "error", urn: urn(PROFILE, "keywire-profile"), message: `read failed: login ${PASSWORD} refused; token ${JSON.stringify(TOKEN)}` }],
  };

  test("configSecrets takes the values marked secret, and only those", () => {
    expect(configSecrets(configJson).sort()).toEqual([PASSWORD, TOKEN].sort());
    expect(configSecrets({ "k:o": { value: '{"a":{"b":"leafSecret"}}', objectValue: { a: { b: "leafSecret" } }, secret: true } })).toContain("leafSecret");
    expect(configSecrets("not an object")).toEqual([]);
    expect(configSecrets(null)).toEqual([]);
  });

  test("a secret in a diff is not in the text, markdown or JSON report", () => {
    const secrets = configSecrets(configJson);
    const raw = buildDriftReport("dev", secretPreview);
    // Without the list the secret would be printed: the test shows the list is what stops it.
    expect(formatDriftText(raw)).toContain(PASSWORD);
    const report = redactDriftReport(raw, secrets);
    const printed = [formatDriftText(report), formatDriftMarkdown(report), JSON.stringify(report)].join("\n");
    for (const s of [PASSWORD, TOKEN]) expect(printed).not.toContain(s);
    expect(report.items[0].properties.map((p) => p.property)).toEqual(["note", "nested"]);
    expect(formatDriftText(report)).toContain("note: expected new [REDACTED] → actual old [REDACTED]");
  });

  test("a secret in a diagnostic is not in what a failed run prints", () => {
    const secrets = configSecrets(configJson);
    const stdout = JSON.stringify(secretPreview, null, 2);
    expect(stdout).toContain(PASSWORD);
    const text = pulumiFailureText("", stdout, secrets);
    for (const s of [PASSWORD, TOKEN]) expect(text).not.toContain(s);
    expect(text).toContain("read failed: login [REDACTED] refused");
    // stderr wins when there is one, redacted the same way.
    expect(pulumiFailureText(`error: ${PASSWORD}`, stdout, secrets)).toBe("error: [REDACTED]");
  });

  test("only the end of a long output is kept, cut after redaction so no secret is half-kept", () => {
    // The password straddles the cut: cutting first would keep its last characters.
    const long = `${PASSWORD}${"y".repeat(3996)}`;
    const text = pulumiFailureText(long, "", [PASSWORD]);
    expect(text).toHaveLength(4000);
    expect(text).not.toContain("aple");
    expect(text.endsWith("y".repeat(3996))).toBe(true);
  });
});

test("an API key's carried settings (rotation, generation) are the program's changes even though a refresh reports them", () => {
  const key = urn(KEY, "keywire-key");
  const refreshed = { name: "k", active: false, rotation: { trigger: "1" }, generation: 1 };
  const report = buildDriftReport("dev", {
    steps: [
      { op: "refresh", urn: key },
      {
        op: "replace",
        urn: key,
        oldState: { type: KEY, inputs: refreshed, outputs: refreshed },
        newState: { type: KEY, inputs: { name: "k", active: true, rotation: { trigger: "2" }, generation: 2 } },
      },
    ],
  });
  const props = Object.fromEntries(report.items[0].properties.map((p) => [p.property, p.source]));
  expect(props).toEqual({ active: "instance", rotation: "program", generation: "program" });
});
