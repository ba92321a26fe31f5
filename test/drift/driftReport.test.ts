/**
 * The drift report from `pulumi preview --refresh --json`: per resource and
 * property, instance changes told apart from program changes.
 */
import { buildDriftReport, formatDriftMarkdown, formatDriftText, PreviewJson } from "../../scripts/drift/driftReport";

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
