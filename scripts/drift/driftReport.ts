/**
 * Turns `pulumi preview --refresh --json` into a drift report: which resource,
 * which property, what the program expects and what the instance has now, and
 * what `pulumi up --refresh` will do about it.
 *
 * Dynamic providers do not report per-property diffs to the engine, so the
 * report compares the refreshed outputs (the live values, which keywire's
 * resources keep in the same shape as their inputs) with the program's inputs.
 * The preview's refresh steps hold each resource's state before and after the
 * refresh: a property the refresh changed was changed on the instance since the
 * last up; any other difference is the program's own change.
 *
 * One change on the instance is one item. Resources that only wait for another
 * one's pending change (a link whose profile is being repaired: its inputs are
 * not known until then) are not items, and the chain check's diagnosis joins the
 * item it explains (ApiKeyVerification names the inactive profile: that is the
 * profile's item, not a second one). A key parked for its token (the manual
 * route) is an item of its own, with the steps that finish it.
 *
 * Everything the drift command prints passes through redaction (driftRedaction.ts) with the stack's
 * secret configuration values: the engine masks secrets in its JSON, but a value a
 * provider keeps in a plain property, or echoes in a diagnostic, would be in clear.
 */
import { containsUnknown } from "../../resources/core/unknown";
import { API_KEY_CARRIED_INPUTS } from "../../resources/servicenow/apiKey/inputs";
import { keyRecordName } from "../../resources/servicenow/apiKey/recordName";
import { md } from "../shared/markdown";
import { nodeForLink, nodeForType } from "../chain/chainNodes";
import { LINK_REMEDY, isChainLinkId } from "../../resources/servicenow/checks/chainLinks";

export interface PreviewStep {
  op: string;
  urn: string;
  oldState?: { type?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
  newState?: { type?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
  diffReasons?: string[];
  replaceReasons?: string[];
}

export interface PreviewJson {
  steps?: PreviewStep[];
  diagnostics?: Array<{ message?: string; severity?: string; urn?: string }>;
}

export interface PropertyDrift {
  property: string;
  expected: unknown;
  actual: unknown;
  /** `instance`: changed on the instance since the last up; `program`: the program asks for something new. */
  source: "instance" | "program";
}

/** A key an earlier run parked (deactivated) for its token: the manual token route, half done. */
export interface ParkedKeyItem {
  sysId: string;
  /** The record's name, with its generation (`… #2` for a rotation's new key). */
  name: string;
  recordUrl: string;
  /** The config key that takes its token (`keywire:apiKeyToken`). */
  configKey: string;
  /** What a person does, in order, with the exact commands. */
  steps: string[];
}

/** A broken delivery link, as ApiKeyVerification names it (resources/servicenow/checks/chainLinks.ts). */
export interface BrokenLinkItem {
  id: string;
  /** `YYYY-MM-DD HH:MM:SS` UTC, when the record that breaks it last changed; "" when no record tells. */
  since: string;
  /** What to run. */
  run: string;
}

export interface DriftItem {
  /** e.g. `ApiKey keywire-key` */
  resource: string;
  type: string;
  urn: string;
  /** What `pulumi up` would do about it. */
  action: "update" | "replace" | "recreate" | "delete" | "create";
  /** Why, in words. */
  summary: string;
  /** What `pulumi up --refresh` will do about it, as words that follow "will": `set active back to true`. */
  fix: string;
  properties: PropertyDrift[];
  /** The chain check's finding that this change explains (ApiKeyVerification's broken link). */
  breaks?: string;
  /** The broken link as data, when the chain check names one: its id, since when, and what to run. */
  link?: BrokenLinkItem;
  /** Set on a key parked for its token: the item is that, and says what to do. */
  parkedKey?: ParkedKeyItem;
}

export interface DriftReport {
  stack: string;
  drifted: boolean;
  items: DriftItem[];
}

/** Where the steps for a parked key are written out, for CI and for a laptop. */
export const RUNBOOK = "docs/runbook.md";

/**
 * Keys that are the engine's or keywire's bookkeeping, never drift a person acts on:
 * the record engine's own, and what check derives (a key's generation and issue
 * time, the parked key it found), which differ whenever a new key is due.
 */
const INTERNAL = new Set([
  "__provider",
  "sysId",
  "columns",
  "resolved",
  "adoption",
  "adoptionPreview",
  "recordUrl",
  "adopt",
  "onDestroy",
  "generation",
  "issuedAt",
  "parkedKey",
  "createdAt",
  "expiresAt",
  "tokenSource",
]);

function shortType(type: string): string {
  const last = type.split(":").pop() ?? type;
  return last;
}

function nameOf(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Whether the program's value is the live one. An integer field is a number in the
 * program and the instance's string in the outputs (a rate limit's 3600 and "3600").
 */
function sameValue(expected: unknown, live: unknown): boolean {
  if (typeof expected === "number" && typeof live === "string") return live.trim() !== "" && Number(live) === expected;
  return same(expected, live);
}

/** The outputs of a ServiceNow record (the record engine's): the live columns beside the fields. */
function isRecord(outputs: Record<string, unknown>): boolean {
  return typeof outputs.sysId === "string" && typeof outputs.columns === "object" && outputs.columns !== null;
}

/**
 * The program's value as the record in service holds it when keywire writes it in
 * another form: a key's name carries the key's generation from its first rotation on
 * (`<name> #2`). A new generation is a rotation, which the report tells by itself.
 */
function asShown(type: string, key: string, value: unknown, live: Record<string, unknown>): unknown {
  if (shortType(type) === "ApiKey" && key === "name" && typeof value === "string" && typeof live.generation === "number") {
    return keyRecordName(value, live.generation);
  }
  return value;
}

/**
 * Settings a resource carries in its inputs that the instance does not hold (a
 * key's rotation, its generation): a refresh reports them as they were, so a
 * difference there is the program's own change. By type name, from the resources'
 * own lists.
 */
const PROGRAM_SETTINGS: Record<string, readonly string[]> = { ApiKey: API_KEY_CARRIED_INPUTS };

/**
 * Whether the record is keywire's own (created, or taken over to be deleted on
 * destroy): every field is kept, so any field the instance changed is drift. An
 * adopted record that is someone else's is kept only in what the program states.
 */
function ownedRecord(outputs: Record<string, unknown>): boolean {
  return outputs.adoption === undefined || outputs.onDestroy === "delete";
}

/**
 * Properties whose refreshed value differs from what the program asks for.
 * `before`: the resource's outputs before the refresh (its refresh step), when the
 * preview has it; without it, a property among the resource's stored inputs counts
 * as the instance's.
 */
export function propertyDrift(step: PreviewStep, before?: Record<string, unknown>): PropertyDrift[] {
  const type = step.newState?.type ?? step.oldState?.type ?? "";
  const programOnly = PROGRAM_SETTINGS[shortType(type)] ?? [];
  const live = step.oldState?.outputs ?? {};
  const refreshedInputs = step.oldState?.inputs ?? {};
  const wanted = step.newState?.inputs ?? {};
  const changedByRefresh = (key: string): boolean => before !== undefined && key in before && !same(before[key], live[key]);
  const out: PropertyDrift[] = [];
  for (const [key, given] of Object.entries(wanted)) {
    if (INTERNAL.has(key) || given === undefined || containsUnknown(given) || !(key in live)) continue;
    const expected = asShown(type, key, given, live);
    if (sameValue(expected, live[key])) continue;
    // The refresh says what the instance changed: keywire's reads put the live values in
    // the outputs and leave the inputs as the program gave them. Without the refresh's
    // step, a property among the stored inputs (other than a setting only the program
    // knows: a rotation trigger, a probe) counts as the instance's.
    const source =
      before !== undefined ? (changedByRefresh(key) ? "instance" : "program") : key in refreshedInputs && !programOnly.includes(key) ? "instance" : "program";
    out.push({ property: key, expected, actual: live[key], source });
  }
  // A field of keywire's own record that the program leaves to keywire (an expiry
  // from expiresInDays) and the refresh found changed: up writes back what it had. A
  // record's read changes no output but its fields; another resource's properties are
  // taken from its inputs.
  if (before !== undefined && ownedRecord(live)) {
    for (const key of Object.keys(live)) {
      if (INTERNAL.has(key) || key in wanted || !(key in refreshedInputs || isRecord(live)) || !changedByRefresh(key)) continue;
      out.push({ property: key, expected: before[key], actual: live[key], source: "instance" });
    }
  }
  // Checks whose result is the drift (verification, preflight).
  if (live.verified === false) out.push({ property: "verified", expected: true, actual: `false (${String(live.brokenLink ?? "")})`, source: "instance" });
  if (live.passed === false) {
    out.push({ property: "passed", expected: true, actual: `false (${(live.problems as string[] | undefined)?.join("; ") ?? ""})`, source: "instance" });
  }
  return out;
}

/** What destroy does with a record no longer in the program, from its state. */
function removalFix(outputs: Record<string, unknown>): string {
  const mode = outputs.onDestroy ?? (outputs.adoption !== undefined ? "restore" : "delete");
  if (mode === "retain") return "drop it from the state and leave the record on the instance";
  if (mode === "restore") return "give the record back the values keywire found when it took it over";
  return "delete it";
}

/** `set active back to true and set description to "x"`: the instance's changes first. */
function propertyFix(properties: PropertyDrift[]): string {
  const parts = properties
    .filter((p) => p.property !== "verified" && p.property !== "passed")
    .sort((a, b) => (a.source === b.source ? 0 : a.source === "instance" ? -1 : 1))
    .map((p) => (p.source === "instance" ? `set ${p.property} back to ${show(p.expected)}` : `set ${p.property} to ${show(p.expected)}`));
  return parts.join(" and ");
}

function parkedKeyOf(step: PreviewStep, stack: string): ParkedKeyItem | undefined {
  const inputs = step.newState?.inputs ?? {};
  const parked = inputs.parkedKey as { sysId?: unknown; name?: unknown; recordUrl?: unknown } | undefined;
  if (!parked || typeof parked.sysId !== "string" || typeof parked.recordUrl !== "string") return undefined;
  const name = typeof parked.name === "string" ? parked.name : String(inputs.name ?? "");
  const configKey = typeof inputs.tokenConfigKey === "string" ? inputs.tokenConfigKey : "keywire:apiKeyToken";
  const replacing = step.op !== "create";
  return {
    sysId: parked.sysId,
    name,
    recordUrl: parked.recordUrl,
    configKey,
    steps: [
      `Open ${parked.recordUrl}, unlock the Token field and copy the token.`,
      `Run \`pulumi config set --secret ${configKey} --stack ${stack}\` and paste the token: it reads the token from standard input, so it lands in no shell history or process list.`,
      `Run \`pulumi up --refresh --stack ${stack}\`: keywire takes the parked key over, activates it and proves the token before using it` +
        (replacing ? ", and only then deletes the key it replaces, which serves until then." : "."),
      `If ${configKey} already holds this key's token, only the last step is left. ${RUNBOOK} has the steps for CI and for a laptop.`,
    ],
  };
}

function parkedItem(step: PreviewStep, resource: string, type: string, parked: ParkedKeyItem): DriftItem {
  const replacing = step.op !== "create";
  return {
    resource,
    type,
    urn: step.urn,
    action: replacing ? "replace" : "create",
    summary:
      `"${parked.name}" (sys_id ${parked.sysId}) is inactive, waiting for its token (the manual token route)` +
      (replacing ? "; the key it replaces still serves" : ""),
    fix:
      `stop at this key again until ${parked.configKey} holds its token; with the token set, take the key over, prove the token` +
      (replacing ? " and delete the key it replaces" : " and verify the chain"),
    properties: [],
    parkedKey: parked,
  };
}

/** What a create in the preview means: the record is gone (or was never made). */
function missingItem(step: PreviewStep, resource: string, type: string): DriftItem {
  return {
    resource,
    type,
    urn: step.urn,
    action: "recreate",
    summary: "missing on the instance (deleted out of band, or never created)",
    fix: type.endsWith(":ApiKey")
      ? "create a new key and get its token through the token routes again (on the manual route it stops for the token, as at the first up)"
      : "recreate it",
    properties: [],
  };
}

export function buildDriftReport(stack: string, preview: PreviewJson): DriftReport {
  const steps = preview.steps ?? [];
  const before = new Map<string, Record<string, unknown>>();
  for (const step of steps) if (step.op === "refresh" && step.oldState?.outputs) before.set(step.urn, step.oldState.outputs);
  const items: DriftItem[] = [];
  const failedChecks: Array<{ step: PreviewStep; resource: string; type: string; properties: PropertyDrift[]; at: number }> = [];
  for (const step of steps) {
    const type = step.newState?.type ?? step.oldState?.type ?? step.urn.split("::")[2] ?? "";
    if (type === "pulumi:pulumi:Stack" || step.op === "same" || step.op === "refresh" || step.op === "read") continue;
    if (step.op.startsWith("delete-replaced")) continue;
    const resource = `${shortType(type)} ${nameOf(step.urn)}`;
    if (type.endsWith(":ApiKeyVerification")) {
      // Not a record: it proves the chain. Its failure is set against the change that
      // explains it, below; a verification waiting for the key it proves is no item.
      const properties = step.op === "create" ? [] : propertyDrift(step, before.get(step.urn));
      if (properties.some((p) => p.property === "verified")) failedChecks.push({ step, resource, type, properties, at: items.length });
      continue;
    }
    const parked = type.endsWith(":ApiKey") ? parkedKeyOf(step, stack) : undefined;
    if (parked) {
      items.push(parkedItem(step, resource, type, parked));
      continue;
    }
    if (step.op === "create") {
      items.push(missingItem(step, resource, type));
      continue;
    }
    if (step.op === "delete") {
      const outputs = step.oldState?.outputs ?? {};
      items.push({
        resource,
        type,
        urn: step.urn,
        action: "delete",
        summary: "in the state but no longer in the program",
        fix: removalFix(outputs),
        properties: [],
      });
      continue;
    }
    const properties = propertyDrift(step, before.get(step.urn));
    const replace = step.op === "replace" || step.op.startsWith("create-replacement");
    // A resource whose only difference is a value it will get from another resource's
    // pending change (a link waiting for its profile's update) follows that change.
    if (properties.length === 0 && !replace && containsUnknown(step.newState?.inputs ?? {})) continue;
    const onInstance = properties.filter((p) => p.source === "instance").map((p) => p.property);
    const inProgram = properties.filter((p) => p.source === "program").map((p) => p.property);
    const rotation = replace && type.endsWith(":ApiKey") && onInstance.length === 0;
    const summary = rotation
      ? "rotation due (age, expiry or trigger)"
      : onInstance.length > 0
        ? `${onInstance.join(", ")} changed on the instance`
        : inProgram.length > 0
          ? `the program changed ${inProgram.join(", ")}`
          : "the program changed since the last up";
    const fix = rotation
      ? "replace the key: create and prove a new one, move its consumers to it, then delete this one"
      : replace
        ? "replace it: create the new record first, then delete this one"
        : type.endsWith(":Preflight")
          ? "run the checks again, and change nothing until they pass"
          : propertyFix(properties) || "apply the program's change";
    items.push({ resource, type, urn: step.urn, action: replace ? "replace" : "update", summary, fix, properties });
  }
  // In the preview's order: a failed check that stands alone goes where it was.
  for (const check of [...failedChecks].reverse()) {
    const verified = check.properties.find((p) => p.property === "verified");
    const outputs = check.step.oldState?.outputs ?? {};
    const reason = String(outputs.brokenLink ?? "");
    const id = outputs.brokenLinkId;
    const link: BrokenLinkItem | undefined = isChainLinkId(id) ? { id, since: String(outputs.brokenSince ?? ""), run: LINK_REMEDY[id] } : undefined;
    const node = nodeForLink(id);
    const cause = node
      ? items.find(
          (i) =>
            i.breaks === undefined &&
            nodeForType(i.type) === node &&
            (i.action === "recreate" || i.parkedKey !== undefined || i.properties.some((p) => p.source === "instance")),
        )
      : undefined;
    if (cause && reason !== "") {
      cause.breaks = reason;
      if (link) cause.link = link;
      continue;
    }
    items.splice(check.at, 0, {
      resource: check.resource,
      type: check.type,
      urn: check.step.urn,
      action: "update",
      summary: `the chain check failed: ${reason || "the key was refused"}`,
      fix: "probe the chain again, and stop with the broken link named until it is repaired",
      properties: verified ? [verified] : check.properties,
      ...(link ? { link } : {}),
    });
  }
  return { stack, drifted: items.length > 0, items };
}

function show(v: unknown): string {
  if (typeof v === "string") return v === "" ? '""' : v;
  return JSON.stringify(v);
}

export function formatDriftText(report: DriftReport): string {
  if (!report.drifted) return `stack ${report.stack}: no drift\n`;
  const lines = [`stack ${report.stack}: drift in ${report.items.length} resource${report.items.length === 1 ? "" : "s"}`];
  for (const item of report.items) {
    const label = item.parkedKey ? "[parked key] " : "";
    lines.push(`- ${label}${item.resource}: ${item.summary} → pulumi up --refresh will ${item.fix}`);
    for (const p of item.properties) lines.push(`    ${p.property}: expected ${show(p.expected)} → actual ${show(p.actual)}`);
    if (item.breaks) lines.push(`    this breaks the chain: ${item.breaks}`);
    if (item.link) lines.push(`    broken link: ${item.link.id}${item.link.since ? ` (since ${item.link.since} UTC)` : ""}; run: ${item.link.run}`);
    if (item.parkedKey) item.parkedKey.steps.forEach((step, i) => lines.push(`    ${i + 1}. ${step}`));
  }
  return lines.join("\n") + "\n";
}

export function formatDriftMarkdown(report: DriftReport): string {
  if (!report.drifted) return `### keywire drift: \`${md(report.stack)}\`\n\nNo drift.\n`;
  const rows = report.items.flatMap((i) => {
    const resource = `${i.parkedKey ? "**parked key** " : ""}${md(i.resource)}`;
    return i.properties.length > 0
      ? i.properties.map((p) => `| ${resource} | ${md(p.property)} | ${md(show(p.expected))} | ${md(show(p.actual))} | ${md(i.fix)} |`)
      : [`| ${resource} | — | — | ${md(i.summary)} | ${md(i.fix)} |`];
  });
  const notes: string[] = [];
  for (const i of report.items) {
    if (i.breaks) notes.push(`- ${md(i.resource)} breaks the chain: ${md(i.breaks)}`);
    if (i.link) notes.push(`- broken link \`${i.link.id}\`${i.link.since ? ` since ${md(i.link.since)} UTC` : ""}: run ${md(i.link.run)}`);
  }
  const parked = report.items.filter((i) => i.parkedKey);
  const steps = parked.flatMap((i) => [
    "",
    `#### Parked key ${md(i.parkedKey?.name ?? "")}: what to do`,
    "",
    // Commands stay in code spans: escaping would change them.
    ...(i.parkedKey?.steps ?? []).map((step, n) => `${n + 1}. ${step.replace(/[\r\n]+/g, " ")}`),
  ]);
  return [
    `### keywire drift: \`${md(report.stack)}\``,
    "",
    "| resource | property | expected | actual | `pulumi up --refresh` will |",
    "|---|---|---|---|---|",
    ...rows,
    ...(notes.length > 0 ? ["", ...notes] : []),
    ...steps,
    "",
  ].join("\n");
}
