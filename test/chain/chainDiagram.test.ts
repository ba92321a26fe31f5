/**
 * The chain diagram: user → key → profile → policy link → policy → endpoint → SNS,
 * with the broken link marked, from a drift report and from an audit report.
 */
import type { AuditReport, AuditedKey } from "../../scripts/audit/auditKeys";
import { CHAIN, ChainNodeId, nodeForLink } from "../../scripts/chain/chainNodes";
import { CHAIN_LINK_IDS } from "../../resources/servicenow/checks/chainLinks";
import { NodeStatus, chainFromAuditedKey, chainFromDrift, chainMermaid, formatAuditChains, formatDriftChain } from "../../scripts/chain/chainDiagram";
import { PreviewJson, buildDriftReport } from "../../scripts/drift/driftReport";

const T = "pulumi-nodejs:dynamic/keywire/servicenow:";
const urn = (type: string, name: string): string => `urn:pulumi:dev::keywire::keywire:servicenow:ApiKeyAuth$${type}::${name}`;
/** How the engine marks a value it will only know during the update. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const PROFILE_INACTIVE = 'the inbound profile "keywire-dev-profile" is inactive: run pulumi up to re-activate it';

/** A verification step whose refresh found the chain broken. */
function verificationStep(brokenLink: string, brokenLinkId: string) {
  const type = `${T}ApiKeyVerification`;
  return {
    op: "update",
    urn: urn(type, "keywire-verification"),
    oldState: { type, inputs: { via: "query" }, outputs: { via: "query", verified: false, brokenLink, brokenLinkId, brokenSince: "" } },
    newState: { type, inputs: { via: "query" } },
  };
}

/**
 * What `pulumi preview --refresh --json` shows after someone deactivated the inbound
 * profile: the profile's `active`, a default the program leaves out (check fills it
 * in), reads false; the links that refer to the profile wait for its update, and the
 * verification names the profile.
 */
const profileInactive: PreviewJson = {
  steps: [
    { op: "same", urn: "urn:pulumi:dev::keywire::pulumi:pulumi:Stack::keywire-dev" },
    { op: "same", urn: urn(`${T}ApiKey`, "keywire-key") },
    {
      op: "refresh",
      urn: urn(`${T}InboundProfile`, "keywire-profile"),
      oldState: { type: `${T}InboundProfile`, inputs: { name: "keywire-dev-profile", active: true }, outputs: { name: "keywire-dev-profile", active: true } },
      newState: { type: `${T}InboundProfile`, inputs: { name: "keywire-dev-profile", active: false }, outputs: { name: "keywire-dev-profile", active: false } },
    },
    {
      op: "update",
      urn: urn(`${T}InboundProfile`, "keywire-profile"),
      oldState: { type: `${T}InboundProfile`, inputs: { name: "keywire-dev-profile", active: false }, outputs: { name: "keywire-dev-profile", active: false } },
      newState: { type: `${T}InboundProfile`, inputs: { name: "keywire-dev-profile", active: true } },
    },
    ...["table-get", "event-api"].map((suffix) => ({
      op: "update",
      urn: urn(`${T}AccessPolicyProfileLink`, `keywire-link-${suffix}`),
      oldState: {
        type: `${T}AccessPolicyProfileLink`,
        inputs: { policy: "p".repeat(32), profile: "a".repeat(32) },
        outputs: { policy: "p".repeat(32), profile: "a".repeat(32) },
      },
      newState: { type: `${T}AccessPolicyProfileLink`, inputs: { policy: "p".repeat(32), profile: UNKNOWN } },
    })),
    verificationStep(PROFILE_INACTIVE, "profile.inactive"),
  ],
};

/** The diagram's classes and red edges, read back from the Mermaid text. */
function parseMermaid(block: string): { classes: Map<ChainNodeId, NodeStatus>; redEdges: number[]; labels: Map<string, string>; edges: string[] } {
  expect(block.startsWith("```mermaid\nflowchart LR\n")).toBe(true);
  expect(block.endsWith("\n```")).toBe(true);
  const classes = new Map<ChainNodeId, NodeStatus>();
  const redEdges: number[] = [];
  const labels = new Map<string, string>();
  const edges: string[] = [];
  for (const line of block.split("\n").map((l) => l.trim())) {
    const cls = /^class ([a-z,]+) (ok|broken|attention|unchecked)$/.exec(line);
    if (cls) for (const id of cls[1].split(",")) classes.set(id as ChainNodeId, cls[2] as NodeStatus);
    const style = /^linkStyle (\d+) stroke:#cf222e/.exec(line);
    if (style) redEdges.push(Number(style[1]));
    const node = /^([a-z]+)\["(.*)"\]$/.exec(line);
    if (node) labels.set(node[1], node[2]);
    if (/-->/.test(line)) edges.push(line);
  }
  return { classes, redEdges, labels, edges };
}

function brokenIn(block: string): ChainNodeId[] {
  return [...parseMermaid(block).classes].filter(([, s]) => s === "broken").map(([id]) => id);
}

describe("from a drift report", () => {
  test("an inactive profile marks exactly the profile and the edge into it broken", () => {
    const report = buildDriftReport("dev", profileInactive);
    const block = chainMermaid(chainFromDrift(report));
    const { classes, redEdges, labels, edges } = parseMermaid(block);
    expect(brokenIn(block)).toEqual(["profile"]);
    // The edge key → profile is the second of the six.
    expect(redEdges).toEqual([1]);
    expect(edges[1]).toBe("key -->|❌| profile");
    expect(edges.filter((e) => e.includes("❌"))).toHaveLength(1);
    expect(labels.get("profile")).toBe("❌ inbound profile");
    expect([...labels.values()].filter((l) => l.startsWith("❌"))).toHaveLength(1);
    // The links only wait for the profile's update: nothing is wrong with them.
    for (const id of ["user", "key", "link", "policy", "endpoint", "sns"] as const) expect(classes.get(id)).toBe("ok");
    // Every node has exactly one class.
    expect(classes.size).toBe(CHAIN.length);

    const markdown = formatDriftChain(report);
    expect(markdown).toContain("#### The chain of stack dev");
    expect(markdown).toContain(block);
    expect(markdown).toMatch(/- ❌ \*\*inbound profile\*\* \(broken\): the inbound profile "keywire-dev-profile" is inactive/);
    expect(markdown).toContain("InboundProfile keywire-profile: active changed on the instance (pulumi up --refresh will set active back to true)");
  });

  test("an inactive key marks the key, and no edge but user → key", () => {
    const type = `${T}ApiKey`;
    const report = buildDriftReport("dev", {
      steps: [
        {
          op: "update",
          urn: urn(type, "keywire-key"),
          oldState: { type, inputs: { name: "k", active: false }, outputs: { name: "k", active: false } },
          newState: { type, inputs: { name: "k", active: true } },
        },
        verificationStep("the key is inactive: run pulumi up to re-activate it", "key.inactive"),
      ],
    });
    const block = chainMermaid(chainFromDrift(report));
    expect(brokenIn(block)).toEqual(["key"]);
    expect(parseMermaid(block).redEdges).toEqual([0]);
  });

  test("a deleted link, a deleted SNS subscription and a missing push connector each break their own node", () => {
    const sub = "aws:sns/topicSubscription:TopicSubscription";
    const report = buildDriftReport("dev", {
      steps: [
        { op: "create", urn: urn(`${T}AccessPolicyProfileLink`, "keywire-link-event-api"), newState: { type: `${T}AccessPolicyProfileLink` } },
        { op: "create", urn: `urn:pulumi:dev::keywire::keywire:aws:SnsEventIntegration$${sub}::keywire-sns-subscription`, newState: { type: sub } },
        {
          op: "update",
          urn: urn(`${T}Preflight`, "keywire-preflight"),
          oldState: {
            type: `${T}Preflight`,
            inputs: {},
            outputs: {
              passed: false,
              problems: ['the push connector instance "AWS" is inactive: activate it', "the plugin com.glide.tokenbased_auth is not active"],
            },
          },
          newState: { type: `${T}Preflight`, inputs: {} },
        },
      ],
    });
    const chain = chainFromDrift(report);
    expect(brokenIn(chainMermaid(chain))).toEqual(["link", "endpoint", "sns"]);
    expect(chain.general).toEqual(["the plugin com.glide.tokenbased_auth is not active"]);
    expect(formatDriftChain(report)).toContain("- ❌ **prerequisite**: the plugin com.glide.tokenbased\\_auth is not active");
  });

  test("a rotation that is due is a change, not a break", () => {
    const type = `${T}ApiKey`;
    const report = buildDriftReport("dev", {
      steps: [
        {
          op: "replace",
          urn: urn(type, "keywire-key"),
          oldState: { type, inputs: { name: "k" }, outputs: { name: "k", rotation: { trigger: "1" } } },
          newState: { type, inputs: { name: "k", rotation: { trigger: "2" } } },
        },
      ],
    });
    const { classes, redEdges } = parseMermaid(chainMermaid(chainFromDrift(report)));
    expect(classes.get("key")).toBe("attention");
    expect(brokenIn(chainMermaid(chainFromDrift(report)))).toEqual([]);
    expect(redEdges).toEqual([]);
  });

  test("a parked key: a change while the key it replaces serves, a break when it is the only key", () => {
    const type = `${T}ApiKey`;
    const parkedKey = { sysId: "b".repeat(32), name: "k #2", recordUrl: "https://dev1.service-now.com/x" };
    const step = (op: string) => ({ op, urn: urn(type, "keywire-key"), newState: { type, inputs: { name: "k", parkedKey } } });
    const rotating = chainFromDrift(buildDriftReport("dev", { steps: [step("replace")] }));
    expect(rotating.nodes.key.status).toBe("attention");
    expect(rotating.nodes.key.notes[0].text).toContain("parked key");
    const first = chainFromDrift(buildDriftReport("dev", { steps: [step("create")] }));
    expect(brokenIn(chainMermaid(first))).toEqual(["key"]);
  });

  test("no drift: every link ok, nothing red", () => {
    const report = buildDriftReport("dev", { steps: [{ op: "same", urn: urn(`${T}ApiKey`, "k") }] });
    const block = chainMermaid(chainFromDrift(report));
    const { classes, redEdges } = parseMermaid(block);
    expect([...classes.values()]).toEqual(CHAIN.map(() => "ok"));
    expect(redEdges).toEqual([]);
    expect(block).not.toContain("❌");
    expect(formatDriftChain(report)).toContain("Every link is intact.");
  });

  test("names from the instance cannot change the diagram", () => {
    const hostile = 'the inbound profile "x"] --> evil["pwned" is inactive\n```\n@team <script>';
    const report = buildDriftReport("dev", { steps: [verificationStep(hostile, "link.event")] });
    const markdown = formatDriftChain(report);
    const block = chainMermaid(chainFromDrift(report));
    expect(block).not.toContain("evil");
    expect(block).not.toContain("pwned");
    // One fenced block: the note cannot close it or open another.
    expect(markdown.match(/```/g)).toHaveLength(2);
    expect(markdown).not.toContain("<script>");
    expect(markdown).not.toContain("@team");
  });
});

test("each broken link id of ApiKeyVerification points at its box; an answer that proves nothing at none", () => {
  const expected: Record<string, ChainNodeId | undefined> = {
    "user.missing": "user",
    "user.inactive": "user",
    "user.roles": "user",
    "key.missing": "key",
    "key.inactive": "key",
    "key.expired": "key",
    "key.token": "key",
    "key.scope": "key",
    "profile.missing": "profile",
    "profile.inactive": "profile",
    "profile.keyLocation": "profile",
    "policy.tableNone": "policy",
    "link.table": "link",
    "policy.eventNone": "policy",
    "link.event": "link",
    "endpoint.connectorMissing": "endpoint",
    "endpoint.connectorInactive": "endpoint",
    "endpoint.source": "endpoint",
    "endpoint.eventManagement": "endpoint",
    "instance.unknown": undefined,
  };
  expect([...CHAIN_LINK_IDS].sort()).toEqual(Object.keys(expected).sort());
  for (const id of CHAIN_LINK_IDS) expect([id, nodeForLink(id)]).toEqual([id, expected[id]]);
  // A sentence is never parsed: only an id names a box.
  expect(nodeForLink("the key's user svc.x is inactive")).toBeUndefined();
});

test("a foreign Event Management policy is one drift item naming the policy, since when, and what to run", () => {
  const message =
    'the policy "Events: POST" (sys_id ' +
    "a".repeat(32) +
    ") outranks the others for the Event Management API (POST sn_em_connector/em) and does not admit keywire's inbound profile: link the profile to it";
  const step = verificationStep(message, "link.event");
  (step.oldState.outputs as Record<string, unknown>).brokenSince = "2026-12-01 10:00:00";
  const report = buildDriftReport("dev", { steps: [step] });
  expect(report.items).toHaveLength(1);
  expect(report.items[0].link).toEqual({ id: "link.event", since: "2026-12-01 10:00:00", run: expect.stringContaining("pulumi up --refresh") });
  expect(report.items[0].summary).toContain("Events: POST");
  const chain = chainFromDrift(report);
  expect(chain.nodes.link.status).toBe("broken");
  expect(chain.nodes.key.status).toBe("ok");
});

describe("from an audit report", () => {
  const base: AuditedKey = {
    sysId: "k".repeat(32),
    name: "keywire-dev-events",
    active: true,
    expires: "2030-04-01T12:00:00Z",
    createdAt: null,
    updatedAt: null,
    owner: { sysId: "u".repeat(32), found: true, userName: "svc.keywire.events", active: true, lockedOut: false, roles: ["evt_mgmt_integration"] },
    authScopes: ["useraccount"],
    managedBy: "dev",
  };
  const report = (keys: AuditedKey[]): AuditReport => ({
    instance: "https://dev1.service-now.com",
    generatedAt: "2030-01-01T00:00:00.000Z",
    keys,
    findings: [],
    summary: { keys: keys.length, managed: keys.length, unmanaged: 0, high: 0, medium: 0, low: 0 },
  });

  test("an inactive owner breaks the user; the links after the key are not checked", () => {
    const key = { ...base, owner: { ...base.owner, active: false } };
    const block = chainMermaid(chainFromAuditedKey(report([key]), key));
    const { classes, redEdges } = parseMermaid(block);
    expect(brokenIn(block)).toEqual(["user"]);
    expect(redEdges).toEqual([]);
    expect(classes.get("key")).toBe("ok");
    for (const id of ["profile", "link", "policy", "endpoint", "sns"] as const) expect(classes.get(id)).toBe("unchecked");
  });

  test("an expired key that is still active breaks the key", () => {
    const key = { ...base, expires: "2029-12-31T00:00:00Z" };
    const block = chainMermaid(chainFromAuditedKey(report([key]), key));
    expect(brokenIn(block)).toEqual(["key"]);
    expect(parseMermaid(block).redEdges).toEqual([0]);
  });

  test("one chain per managed key; unmanaged keys have none", () => {
    const unmanaged = { ...base, sysId: "x".repeat(32), name: "hand-made", managedBy: null };
    const text = formatAuditChains(report([base, unmanaged]));
    expect(text.match(/```mermaid/g)).toHaveLength(1);
    expect(text).toContain("##### keywire-dev-events (stack dev)");
    expect(text).not.toContain("hand-made");
    expect(formatAuditChains(report([unmanaged]))).toContain("there is no chain to draw");
  });
});
