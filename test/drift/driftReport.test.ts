/**
 * The drift report from `pulumi preview --refresh --json`: per resource and
 * property, instance changes told apart from program changes.
 */
import { buildDriftReport, formatDriftMarkdown, formatDriftText, PreviewJson } from "../../scripts/drift/driftReport";
import { configSecrets, pulumiFailureText, redactDriftReport } from "../../scripts/drift/driftRedaction";

const urn = (type: string, name: string) => `urn:pulumi:dev::keywire::keywire:servicenow:ApiKeyAuth$${type}::${name}`;
const KEY = "pulumi-nodejs:dynamic/keywire/servicenow:ApiKey";
const PROFILE = "pulumi-nodejs:dynamic/keywire/servicenow:InboundProfile";
const VERIFY = "pulumi-nodejs:dynamic/keywire/servicenow:ApiKeyVerification";
/** How the engine marks a value it will only know during the update. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const preview: PreviewJson = {
  steps: [
    { op: "same", urn: "urn:pulumi:dev::keywire::pulumi:pulumi:Stack::keywire-dev" },
    { op: "refresh", urn: urn(PROFILE, "keywire-profile") },
    {
      op: "update",
      urn: urn(PROFILE, "keywire-profile"),
      oldState: {
        type: PROFILE,
        inputs: { name: "p", keyLocation: "header" },
        outputs: { name: "p", keyLocation: "header", sysId: "a".repeat(32), columns: {} },
      },
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
      oldState: {
        type: VERIFY,
        inputs: { via: "query" },
        outputs: { via: "query", verified: false, brokenLink: "the key is inactive", brokenLinkId: "key.inactive" },
      },
      newState: { type: VERIFY, inputs: { via: "query" } },
    },
    {
      op: "create",
      urn: urn("pulumi-nodejs:dynamic/keywire/servicenow:AccessPolicyProfileLink", "keywire-link-event-api"),
      newState: { type: "pulumi-nodejs:dynamic/keywire/servicenow:AccessPolicyProfileLink" },
    },
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
  expect(text).toContain("InboundProfile keywire-profile: keyLocation changed on the instance → pulumi up --refresh will set keyLocation back to query");
  expect(text).toContain("keyLocation: expected query → actual header");
  expect(formatDriftMarkdown(report)).toContain("| InboundProfile keywire-profile | keyLocation | query | header | set keyLocation back to query |");
});

/** A resource's refresh step and the step after it, as `pulumi preview --refresh --json` prints them. */
function refreshed(
  op: string,
  type: string,
  name: string,
  state: { before: Record<string, unknown>; after: Record<string, unknown>; afterInputs?: Record<string, unknown>; wanted: Record<string, unknown> },
): PreviewJson["steps"] {
  const u = urn(type, name);
  return [
    {
      op: "refresh",
      urn: u,
      oldState: { type, inputs: state.wanted, outputs: state.before },
      newState: { type, inputs: state.afterInputs ?? state.after, outputs: state.after },
    },
    {
      op,
      urn: u,
      oldState: { type, inputs: state.afterInputs ?? state.after, outputs: state.after },
      newState: { type, inputs: { ...state.wanted, __provider: "x" } },
    },
  ];
}

const T = "pulumi-nodejs:dynamic/keywire/servicenow:";
const PROFILE_ID = "a".repeat(32);
const INACTIVE = 'the inbound profile "keywire-dev api key (query parameter)" is inactive: run pulumi up to re-activate it';

/**
 * `pulumi preview --refresh --json` after someone deactivated the inbound profile:
 * the profile's `active`, which the program leaves at its default, reads false; the
 * links and the verification wait for the profile's update (their profile input is
 * not known until then), and the verification names the inactive profile.
 */
const profileDeactivated: PreviewJson = {
  steps: [
    { op: "same", urn: "urn:pulumi:dev::keywire::pulumi:pulumi:Stack::keywire-dev" },
    ...refreshed("update", `${T}InboundProfile`, "keywire-profile", {
      before: { name: "keywire-dev api key (query parameter)", keyLocation: "query", active: true, sysId: PROFILE_ID, columns: { active: "true" } },
      after: { name: "keywire-dev api key (query parameter)", keyLocation: "query", active: false, sysId: PROFILE_ID, columns: { active: "false" } },
      afterInputs: { name: "keywire-dev api key (query parameter)", keyLocation: "query", active: false },
      // The checked inputs: the default the program leaves out is filled in.
      wanted: { name: "keywire-dev api key (query parameter)", keyLocation: "query", active: true },
    })!,
    ...["table-get", "table-post", "event-api"].flatMap((suffix) =>
      refreshed("update", `${T}AccessPolicyProfileLink`, `keywire-link-${suffix}`, {
        before: { policy: "p".repeat(32), profile: PROFILE_ID },
        after: { policy: "p".repeat(32), profile: PROFILE_ID },
        wanted: { policy: "p".repeat(32), profile: UNKNOWN },
      })!,
    ),
    ...refreshed("update", VERIFY, "keywire-verification", {
      before: { via: "query", keySysId: "k".repeat(32), profileSysId: PROFILE_ID, verified: true, brokenLink: "" },
      after: { via: "query", keySysId: "k".repeat(32), profileSysId: PROFILE_ID, verified: false, brokenLink: INACTIVE, brokenLinkId: "profile.inactive" },
      wanted: { via: "query", keySysId: "k".repeat(32), profileSysId: UNKNOWN },
    })!,
  ],
};

describe("one change on the instance is one item", () => {
  test("a default the program leaves out, changed on the instance, is the instance's change; what follows it is not an item", () => {
    const report = buildDriftReport("dev", profileDeactivated);
    expect(report.items).toHaveLength(1);
    const [item] = report.items;
    expect(item.resource).toBe("InboundProfile keywire-profile");
    expect(item.properties).toEqual([{ property: "active", expected: true, actual: false, source: "instance" }]);
    expect(item.summary).toBe("active changed on the instance");
    expect(item.fix).toBe("set active back to true");
    // The verification's diagnosis joins the change it explains.
    expect(item.breaks).toBe(INACTIVE);
    const text = formatDriftText(report);
    expect(text).toContain("stack dev: drift in 1 resource\n");
    expect(text).toContain("- InboundProfile keywire-profile: active changed on the instance → pulumi up --refresh will set active back to true");
    expect(text).toContain("active: expected true → actual false");
    expect(text).toContain(`this breaks the chain: ${INACTIVE}`);
    expect(formatDriftMarkdown(report)).toContain("| InboundProfile keywire-profile | active | true | false | set active back to true |");
  });

  test("a link that waits for its profile's update is no item, but a link changed itself is", () => {
    const steps = refreshed("update", `${T}AccessPolicyProfileLink`, "keywire-link-event-api", {
      before: { policy: "p".repeat(32), profile: PROFILE_ID },
      after: { policy: "p".repeat(32), profile: PROFILE_ID },
      wanted: { policy: "p".repeat(32), profile: UNKNOWN },
    })!;
    expect(buildDriftReport("dev", { steps }).items).toEqual([]);
    const moved = refreshed("update", `${T}AccessPolicyProfileLink`, "keywire-link-event-api", {
      before: { policy: "p".repeat(32), profile: PROFILE_ID },
      after: { policy: "q".repeat(32), profile: PROFILE_ID },
      wanted: { policy: "p".repeat(32), profile: UNKNOWN },
    })!;
    const [item] = buildDriftReport("dev", { steps: moved }).items;
    expect(item.properties).toEqual([{ property: "policy", expected: "p".repeat(32), actual: "q".repeat(32), source: "instance" }]);
  });

  test("the program's change is told from the instance's by the refresh", () => {
    const steps = refreshed("update", `${T}InboundProfile`, "keywire-profile", {
      before: { name: "p", description: "old", active: true },
      after: { name: "p", description: "old", active: true },
      wanted: { name: "p", description: "new", active: true },
    })!;
    const [item] = buildDriftReport("dev", { steps }).items;
    expect(item.properties).toEqual([{ property: "description", expected: "new", actual: "old", source: "program" }]);
    expect(item.summary).toBe("the program changed description");
    expect(item.fix).toBe("set description to new");
  });

  test("a field of keywire's own record that the program leaves to keywire is the instance's change too; a shipped record's other fields are not", () => {
    const key = refreshed("update", `${T}ApiKey`, "keywire-key", {
      before: { name: "k", active: true, expires: "2027-01-01 00:00:00", expiresInDays: 90 },
      after: { name: "k", active: true, expires: "2031-01-01 00:00:00", expiresInDays: 90 },
      afterInputs: { name: "k", active: true, expires: "2031-01-01 00:00:00", expiresInDays: 90 },
      wanted: { name: "k", active: true, expiresInDays: 90 },
    })!;
    const [item] = buildDriftReport("dev", { steps: key }).items;
    expect(item.properties).toEqual([{ property: "expires", expected: "2027-01-01 00:00:00", actual: "2031-01-01 00:00:00", source: "instance" }]);
    expect(item.fix).toBe("set expires back to 2027-01-01 00:00:00");

    const adoption = { sysId: "s".repeat(32), original: { active: "true" } };
    const shipped = refreshed("update", `${T}AccessPolicy`, "keywire-table-get", {
      before: { name: "Table GET API Access Policy", active: true, httpMethod: "GET", adoption },
      after: { name: "Table GET API Access Policy", active: false, httpMethod: "PUT", adoption },
      afterInputs: { name: "Table GET API Access Policy", active: false, httpMethod: "PUT" },
      wanted: { name: "Table GET API Access Policy", active: true, adopt: true },
    })!;
    const [policy] = buildDriftReport("dev", { steps: shipped }).items;
    expect(policy.properties.map((p) => p.property)).toEqual(["active"]);
  });

  test("a broken chain that no change explains is an item of its own", () => {
    const steps = refreshed("update", VERIFY, "keywire-verification", {
      before: { via: "query", verified: true, brokenLink: "" },
      after: { via: "query", verified: false, brokenLink: "the key's user svc.x is inactive or locked out: re-activate it", brokenLinkId: "user.inactive" },
      wanted: { via: "query" },
    })!;
    const [item] = buildDriftReport("dev", { steps }).items;
    expect(item.resource).toBe("ApiKeyVerification keywire-verification");
    expect(item.summary).toBe("the chain check failed: the key's user svc.x is inactive or locked out: re-activate it");
    expect(item.fix).toBe("probe the chain again, and stop with the broken link named until it is repaired");
  });
});

describe("every item says what pulumi up --refresh will do", () => {
  test("recreate, replace, delete, rotate and update", () => {
    const report = buildDriftReport("dev", {
      steps: [
        { op: "create", urn: urn(`${T}AccessPolicyProfileLink`, "keywire-link-event-api"), newState: { type: `${T}AccessPolicyProfileLink` } },
        { op: "create", urn: urn(KEY, "keywire-key"), newState: { type: KEY, inputs: { name: "k" } } },
        {
          op: "replace",
          urn: urn(KEY, "keywire-key-2"),
          oldState: { type: KEY, inputs: { name: "k" }, outputs: { name: "k", rotation: { trigger: "1" }, issuedAt: "2026-01-01 00:00:00" } },
          newState: { type: KEY, inputs: { name: "k", rotation: { trigger: "2" }, issuedAt: "2026-02-01 00:00:00", generation: 1 } },
        },
        {
          op: "replace",
          urn: urn(`${T}UserRoleGrant`, "keywire-role-itil"),
          oldState: { type: `${T}UserRoleGrant`, inputs: { user: "u", role: "itil" }, outputs: { user: "u", role: "itil" } },
          newState: { type: `${T}UserRoleGrant`, inputs: { user: "u", role: "itil_admin" } },
        },
        { op: "delete", urn: urn(PROFILE, "old-profile"), oldState: { type: PROFILE, outputs: { name: "x" } } },
        {
          op: "delete",
          urn: urn(`${T}AccessPolicy`, "old-shipped"),
          oldState: { type: `${T}AccessPolicy`, outputs: { name: "x", adoption: { sysId: "s", original: {} } } },
        },
        { op: "delete-replaced", urn: urn(KEY, "keywire-key-2"), oldState: { type: KEY, outputs: {} } },
      ],
    });
    expect(report.items.map((i) => [i.resource, i.action, i.fix])).toEqual([
      ["AccessPolicyProfileLink keywire-link-event-api", "recreate", "recreate it"],
      [
        "ApiKey keywire-key",
        "recreate",
        "create a new key and get its token through the token routes again (on the manual route it stops for the token, as at the first up)",
      ],
      ["ApiKey keywire-key-2", "replace", "replace the key: create and prove a new one, move its consumers to it, then delete this one"],
      ["UserRoleGrant keywire-role-itil", "replace", "replace it: create the new record first, then delete this one"],
      ["InboundProfile old-profile", "delete", "delete it"],
      ["AccessPolicy old-shipped", "delete", "give the record back the values keywire found when it took it over"],
    ]);
    // What check derives for a new key (its generation, its issue time) is no drift.
    expect(report.items[2].properties.map((p) => p.property)).toEqual(["rotation"]);
    for (const line of formatDriftText(report)
      .split("\n")
      .filter((l) => l.startsWith("- ")))
      expect(line).toMatch(/ → pulumi up --refresh will /);
  });
});

describe("a key parked for its token", () => {
  const parked = (op: string): PreviewJson => ({
    steps: [
      {
        op,
        urn: urn(KEY, "keywire-key"),
        ...(op === "create" ? {} : { oldState: { type: KEY, inputs: { name: "keywire-dev events" }, outputs: { name: "keywire-dev events", rotation: {} } } }),
        newState: {
          type: KEY,
          inputs: {
            name: "keywire-dev events",
            tokenConfigKey: "keywire:apiKeyToken",
            rotation: { trigger: "2" },
            parkedKey: {
              sysId: "b".repeat(32),
              name: "keywire-dev events #2",
              recordUrl: "https://dev1.service-now.com/nav_to.do?uri=api_key.do%3Fsys_id%3Dbbbb",
            },
          },
        },
      },
      {
        op: "update",
        urn: urn(VERIFY, "keywire-verification"),
        oldState: { type: VERIFY, inputs: {}, outputs: { verified: true } },
        newState: { type: VERIFY, inputs: { keySysId: UNKNOWN } },
      },
    ],
  });

  test("a rotation's parked key is an item of its own, labelled, with the exact steps", () => {
    const report = buildDriftReport("dev", parked("replace"));
    expect(report.items).toHaveLength(1);
    const [item] = report.items;
    expect(item.action).toBe("replace");
    expect(item.summary).toBe(
      `"keywire-dev events #2" (sys_id ${"b".repeat(32)}) is inactive, waiting for its token (the manual token route); the key it replaces still serves`,
    );
    expect(item.parkedKey?.steps).toEqual([
      "Open https://dev1.service-now.com/nav_to.do?uri=api_key.do%3Fsys_id%3Dbbbb, unlock the Token field and copy the token.",
      "Run `pulumi config set --secret keywire:apiKeyToken --stack dev` and paste the token: it reads the token from standard input, so it lands in no shell history or process list.",
      "Run `pulumi up --refresh --stack dev`: keywire takes the parked key over, activates it and proves the token before using it, and only then deletes the key it replaces, which serves until then.",
      "If keywire:apiKeyToken already holds this key's token, only the last step is left. docs/runbook.md has the steps for CI and for a laptop.",
    ]);
    const text = formatDriftText(report);
    expect(text).toContain('- [parked key] ApiKey keywire-key: "keywire-dev events #2" (sys_id');
    expect(text).toContain("    1. Open https://dev1.service-now.com/");
    expect(text).toContain("docs/runbook.md");
    const markdown = formatDriftMarkdown(report);
    expect(markdown).toContain("| **parked key** ApiKey keywire-key |");
    // The key's name comes from the instance: escaped like every name (\# renders as #).
    expect(markdown).toContain("#### Parked key keywire-dev events \\#2: what to do");
    expect(markdown).toContain("2. Run `pulumi config set --secret keywire:apiKeyToken --stack dev`");
  });

  test("a first key parked at the first up is one too; no working key yet", () => {
    const [item] = buildDriftReport("dev", parked("create")).items;
    expect(item.action).toBe("create");
    expect(item.parkedKey?.steps[2]).toBe(
      "Run `pulumi up --refresh --stack dev`: keywire takes the parked key over, activates it and proves the token before using it.",
    );
  });
});

test("a preview with only unchanged steps is no drift", () => {
  const report = buildDriftReport("dev", {
    steps: [
      { op: "same", urn: urn(KEY, "k") },
      { op: "refresh", urn: urn(KEY, "k") },
    ],
  });
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

test("the drift issue's body mentions nobody and links nowhere a name from the instance says", () => {
  const hostile = "@platform-team see https://evil.example/<img src=x> [x](y)";
  const report = buildDriftReport("dev", {
    steps: [
      {
        op: "update",
        urn: urn(PROFILE, "p"),
        oldState: { type: PROFILE, inputs: { name: "x" }, outputs: { name: hostile } },
        newState: { type: PROFILE, inputs: { name: "x" } },
      },
    ],
  });
  const md = formatDriftMarkdown(report);
  expect(md).toContain("&#64;platform-team see https:&#47;&#47;evil.example/\\<img src=x\\> \\[x\\](y)");
  expect(md).not.toContain("@platform-team");
  expect(md).not.toContain("https://evil");
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
    diagnostics: [
      { severity: "error", urn: urn(PROFILE, "keywire-profile"), message: `read failed: login ${PASSWORD} refused; token ${JSON.stringify(TOKEN)}` },
    ],
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

test("without the refresh step, an API key's carried settings are the program's changes even though a refresh reports them", () => {
  const key = urn(KEY, "keywire-key");
  const refreshed = { name: "k", active: false, rotation: { trigger: "1" }, generation: 1 };
  const report = buildDriftReport("dev", {
    steps: [
      {
        op: "replace",
        urn: key,
        oldState: { type: KEY, inputs: refreshed, outputs: refreshed },
        newState: { type: KEY, inputs: { name: "k", active: true, rotation: { trigger: "2" }, generation: 2 } },
      },
    ],
  });
  const props = Object.fromEntries(report.items[0].properties.map((p) => [p.property, p.source]));
  // The generation is the engine's bookkeeping, not listed; the rotation is the program's.
  expect(props).toEqual({ active: "instance", rotation: "program" });
});
