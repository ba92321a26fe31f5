/**
 * The chain every SNS delivery depends on — integration user → API key → inbound
 * profile → policy link → access policy → event endpoint → SNS subscription — as a
 * Mermaid diagram with the broken link marked, for a CI job summary or a drift issue.
 *
 * `npm run drift` knows the whole chain (each resource's refreshed state, and the
 * ApiKeyVerification's diagnosis of the first broken link); `npm run audit` knows
 * the first two links of each managed key (its owner and the key itself) and leaves
 * the rest unchecked.
 *
 * The diagram holds only fixed labels: names and messages from the instance go in
 * the Markdown list under it, escaped, so nothing on the instance can change the
 * diagram's syntax.
 */
import type { AuditReport, AuditedKey } from "../audit/auditKeys";
import { md } from "../shared/markdown";
import type { DriftReport } from "../drift/driftReport";
import { CHAIN, ChainNodeId, nodeForLink, nodeForType } from "./chainNodes";

/**
 * - broken: the chain fails here (changed or deleted on the instance, or named by the verification);
 * - attention: works, but `pulumi up` will change it, or the audit has a finding about it;
 * - unchecked: the report does not look at this link.
 */
export type NodeStatus = "ok" | "broken" | "attention" | "unchecked";

export interface NodeState {
  status: NodeStatus;
  /** Why, in words, each with the status it gave; may hold names from the instance (escaped when rendered). */
  notes: Array<{ status: NodeStatus; text: string }>;
}

export interface ChainState {
  nodes: Record<ChainNodeId, NodeState>;
  /** Problems that are not one link's (a prerequisite such as the plugin). */
  general: string[];
}

const RANK: Record<NodeStatus, number> = { unchecked: 0, ok: 1, attention: 2, broken: 3 };

function emptyChain(status: NodeStatus): ChainState {
  // Filled for every id on the next line, so the record is complete before it is returned.
  const nodes = {} as Record<ChainNodeId, NodeState>;
  for (const n of CHAIN) nodes[n.id] = { status, notes: [] };
  return { nodes, general: [] };
}

/** Raises a node's status (never lowers it) and records why. */
function mark(chain: ChainState, id: ChainNodeId, status: NodeStatus, note?: string): void {
  const node = chain.nodes[id];
  if (RANK[status] > RANK[node.status]) node.status = status;
  if (note && !node.notes.some((n) => n.text === note)) node.notes.push({ status, text: note });
}

/** `false (<reason>)`, as the drift report shows a failed check, to `<reason>`. */
function reasonOf(actual: unknown): string {
  const text = String(actual ?? "");
  const m = /^false \(([\s\S]*)\)$/.exec(text);
  return (m ? m[1] : text).trim();
}

/** The chain as a drift report sees it: every link is checked by the refresh. */
export function chainFromDrift(report: DriftReport): ChainState {
  const chain = emptyChain("ok");
  for (const item of report.items) {
    const type = item.type.split(":").pop() ?? item.type;
    if (type === "ApiKeyVerification") {
      const verified = item.properties.find((p) => p.property === "verified");
      if (verified) {
        const reason = reasonOf(verified.actual);
        const node = nodeForLink(item.link?.id);
        if (node) mark(chain, node, "broken", reason || "the key was refused");
        else if (!chain.general.includes(reason)) chain.general.push(reason || "the chain check saw an answer that proves nothing");
      }
      continue;
    }
    if (type === "Preflight") {
      const passed = item.properties.find((p) => p.property === "passed");
      if (!passed) continue;
      for (const problem of reasonOf(passed.actual)
        .split("; ")
        .filter((p) => p !== "")) {
        if (/push connector/i.test(problem)) mark(chain, "endpoint", "broken", problem);
        else if (!chain.general.includes(problem)) chain.general.push(problem);
      }
      continue;
    }
    // The chain check's diagnosis, joined to the change that explains it.
    if (item.breaks) mark(chain, nodeForLink(item.link?.id) ?? nodeForType(item.type) ?? "key", "broken", item.breaks);
    const node = nodeForType(item.type);
    if (!node) continue;
    // A parked rotation key waits while the key it replaces serves; a parked first key
    // means there is no working key yet.
    const onInstance = item.parkedKey ? item.action === "create" : item.action === "recreate" || item.properties.some((p) => p.source === "instance");
    mark(
      chain,
      node,
      onInstance ? "broken" : "attention",
      `${item.parkedKey ? "parked key " : ""}${item.resource}: ${item.summary} (pulumi up --refresh will ${item.fix})`,
    );
  }
  return chain;
}

/** The chain of one managed key as the audit sees it: its owner and the key; the rest unchecked. */
export function chainFromAuditedKey(report: AuditReport, key: AuditedKey): ChainState {
  const chain = emptyChain("unchecked");
  const owner = key.owner;
  const who = owner.userName ?? owner.sysId;
  if (!owner.found) mark(chain, "user", "broken", `the key's user ${owner.sysId || "(none)"} does not exist or cannot be read`);
  else if (owner.active === false || owner.lockedOut === true) mark(chain, "user", "broken", `the key's user ${who} is inactive or locked out`);
  else if (owner.roles.includes("admin")) mark(chain, "user", "attention", `the key's user ${who} has the admin role`);
  else mark(chain, "user", "ok");

  const expired = key.expires !== null && Date.parse(key.expires) <= Date.parse(report.generatedAt);
  if (!key.active) mark(chain, "key", "broken", "the key is inactive");
  else if (expired) mark(chain, "key", "broken", `the key expired at ${key.expires}`);
  const keyFindings = report.findings.filter((f) => f.keySysId === key.sysId && ["expiring-soon", "no-expiry", "no-auth-scope"].includes(f.code));
  for (const f of keyFindings) mark(chain, "key", "attention", `${f.code}: ${f.message}`);
  mark(chain, "key", "ok");
  // The break the stack's last up or refresh recorded, on the box its link id names.
  for (const f of report.findings.filter((x) => x.keySysId === key.sysId && x.code === "delivery-broken")) {
    const node = nodeForLink(f.link);
    if (node) mark(chain, node, "broken", f.message);
    else if (!chain.general.includes(f.message)) chain.general.push(f.message);
  }
  return chain;
}

const STATUS_TEXT: Record<NodeStatus, string> = { ok: "✅", broken: "❌", attention: "⚠️", unchecked: "·" };
const STATUS_WORD: Record<NodeStatus, string> = { ok: "ok", broken: "broken", attention: "will change or has a finding", unchecked: "not checked" };

const CLASS_STYLE: Record<NodeStatus, string> = {
  ok: "fill:#dafbe1,stroke:#1a7f37,color:#116329",
  broken: "fill:#ffebe9,stroke:#cf222e,stroke-width:3px,color:#a40e26",
  attention: "fill:#fff8c5,stroke:#9a6700,color:#7d4e00",
  unchecked: "fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:4 3,color:#57606a",
};

/**
 * The diagram as a ```mermaid block. A broken node has the `broken` class and a ❌
 * in its label, and the edge into it (the link that fails) is drawn red with ❌.
 */
export function chainMermaid(chain: ChainState): string {
  const lines = ["```mermaid", "flowchart LR"];
  for (const n of CHAIN) {
    const status = chain.nodes[n.id].status;
    lines.push(`  ${n.id}["${STATUS_TEXT[status]} ${n.label}"]`);
  }
  const brokenEdges: number[] = [];
  for (let i = 1; i < CHAIN.length; i++) {
    const from = CHAIN[i - 1].id;
    const to = CHAIN[i].id;
    if (chain.nodes[to].status === "broken") {
      brokenEdges.push(i - 1);
      lines.push(`  ${from} -->|❌| ${to}`);
    } else {
      lines.push(`  ${from} --> ${to}`);
    }
  }
  for (const status of ["ok", "broken", "attention", "unchecked"] as const) {
    const ids = CHAIN.filter((n) => chain.nodes[n.id].status === status).map((n) => n.id);
    if (ids.length === 0) continue;
    lines.push(`  classDef ${status} ${CLASS_STYLE[status]}`, `  class ${ids.join(",")} ${status}`);
  }
  for (const i of brokenEdges) lines.push(`  linkStyle ${i} stroke:#cf222e,stroke-width:3px`);
  lines.push("```");
  return lines.join("\n");
}

/** The diagram and, under it, what is wrong with which link in words (for readers without Mermaid). */
export function formatChainMarkdown(chain: ChainState, heading: string): string {
  const lines = [heading, "", chainMermaid(chain), ""];
  const explained = CHAIN.filter((n) => chain.nodes[n.id].status === "broken" || chain.nodes[n.id].status === "attention");
  for (const n of explained) {
    const node = chain.nodes[n.id];
    // The break first: it is what to fix; the changes `pulumi up` makes anyway follow.
    const notes = [...node.notes].sort((a, b) => RANK[b.status] - RANK[a.status]).map((n) => md(n.text));
    const why = notes.length > 0 ? notes.join("; ") : STATUS_WORD[node.status];
    lines.push(`- ${STATUS_TEXT[node.status]} **${n.label}** (${STATUS_WORD[node.status]}): ${why}`);
  }
  for (const g of chain.general) lines.push(`- ❌ **prerequisite**: ${md(g)}`);
  if (explained.length === 0 && chain.general.length === 0) {
    const unchecked = CHAIN.some((n) => chain.nodes[n.id].status === "unchecked");
    lines.push(unchecked ? "Every checked link is intact." : "Every link is intact.");
  }
  return `${lines.join("\n")}\n`;
}

/** The drift report's chain, for the job summary and the drift issue. */
export function formatDriftChain(report: DriftReport): string {
  return formatChainMarkdown(chainFromDrift(report), `#### The chain of stack ${md(report.stack)}`);
}

/** At most this many chains in an audit summary; the JSON report has every key. */
export const AUDIT_MAX_CHAINS = 10;

/** One chain per keywire-managed key (unmanaged keys are not part of a keywire chain). */
export function formatAuditChains(report: AuditReport): string {
  const managed = report.keys.filter((k) => k.managedBy !== null);
  const lines = ["#### The chains of keywire's keys", ""];
  if (managed.length === 0) {
    lines.push("No key on the instance is managed by a keywire stack: there is no chain to draw.");
    return `${lines.join("\n")}\n`;
  }
  lines.push("The audit checks each key and its user; `npm run drift` checks the links after them (profile, policy, endpoint, SNS).", "");
  const parts = [lines.join("\n")];
  for (const key of managed.slice(0, AUDIT_MAX_CHAINS)) {
    parts.push(formatChainMarkdown(chainFromAuditedKey(report, key), `##### ${md(key.name)} (stack ${md(key.managedBy ?? "")})`));
  }
  if (managed.length > AUDIT_MAX_CHAINS) parts.push(`…and ${managed.length - AUDIT_MAX_CHAINS} more managed keys: see the JSON report.\n`);
  return parts.join("\n");
}
