/**
 * Turns `pulumi preview --refresh --json` into a drift report: which resource,
 * which property, what the program expects and what the instance has now.
 *
 * Dynamic providers do not report per-property diffs to the engine, so the
 * report compares the refreshed outputs (the live values, which keywire's
 * resources keep in the same shape as their inputs) with the program's inputs.
 *
 * Everything the drift command prints passes through redaction with the stack's
 * secret configuration values: the engine masks secrets in its JSON, but a value a
 * provider keeps in a plain property, or echoes in a diagnostic, would be in clear.
 */
import { UNKNOWN } from "../../resources/core/unknown";
import { API_KEY_CARRIED_INPUTS } from "../../resources/servicenow/apiKey/apiKey";
import { redact } from "../../resources/core/redact";

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

export interface DriftItem {
  /** e.g. `ApiKey keywire-key` */
  resource: string;
  type: string;
  urn: string;
  /** What `pulumi up` would do about it. */
  action: "update" | "replace" | "recreate" | "delete" | "create";
  /** Why, in words. */
  summary: string;
  properties: PropertyDrift[];
}

export interface DriftReport {
  stack: string;
  drifted: boolean;
  items: DriftItem[];
}

/** Keys that are the engine's or keywire's bookkeeping, never drift a person acts on. */
const INTERNAL = new Set(["__provider", "sysId", "columns", "resolved", "adoption", "adoptionPreview", "recordUrl", "adopt", "onDestroy"]);

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
 * Settings a resource carries in its inputs that the instance does not hold (a
 * key's rotation, its generation): a refresh reports them as they were, so a
 * difference there is the program's own change. By type name, from the resources'
 * own lists.
 */
const PROGRAM_SETTINGS: Record<string, readonly string[]> = { ApiKey: API_KEY_CARRIED_INPUTS };

/** Properties whose refreshed value differs from what the program asks for. */
export function propertyDrift(step: PreviewStep): PropertyDrift[] {
  const type = step.newState?.type ?? step.oldState?.type ?? "";
  const programOnly = PROGRAM_SETTINGS[shortType(type)] ?? [];
  const live = step.oldState?.outputs ?? {};
  const refreshedInputs = step.oldState?.inputs ?? {};
  const wanted = step.newState?.inputs ?? {};
  const out: PropertyDrift[] = [];
  for (const [key, expected] of Object.entries(wanted)) {
    if (INTERNAL.has(key) || expected === undefined || expected === UNKNOWN || !(key in live)) continue;
    if (same(expected, live[key])) continue;
    // keywire's reads report live values as inputs for the properties the instance
    // holds; a property absent there, or one only the program sets, is the program's.
    const source = key in refreshedInputs && !programOnly.includes(key) ? "instance" : "program";
    out.push({ property: key, expected, actual: live[key], source });
  }
  // Checks whose result is the drift (verification, preflight).
  if (live.verified === false) out.push({ property: "verified", expected: true, actual: `false (${String(live.brokenLink ?? "")})`, source: "instance" });
  if (live.passed === false) {
    out.push({ property: "passed", expected: true, actual: `false (${(live.problems as string[] | undefined)?.join("; ") ?? ""})`, source: "instance" });
  }
  return out;
}

export function buildDriftReport(stack: string, preview: PreviewJson): DriftReport {
  const items: DriftItem[] = [];
  for (const step of preview.steps ?? []) {
    const type = step.newState?.type ?? step.oldState?.type ?? step.urn.split("::")[2] ?? "";
    if (type === "pulumi:pulumi:Stack" || step.op === "same" || step.op === "refresh" || step.op === "read") continue;
    const resource = `${shortType(type)} ${nameOf(step.urn)}`;
    if (step.op === "create") {
      items.push({ resource, type, urn: step.urn, action: "recreate", summary: "missing on the instance (deleted out of band, or never created)", properties: [] });
      continue;
    }
    if (step.op === "delete") {
      items.push({ resource, type, urn: step.urn, action: "delete", summary: "in the state but no longer in the program", properties: [] });
      continue;
    }
    const properties = propertyDrift(step);
    const replace = step.op === "replace" || step.op.startsWith("create-replacement") || step.op.startsWith("delete-replaced");
    if (step.op.startsWith("delete-replaced")) continue;
    const onInstance = properties.filter((p) => p.source === "instance").map((p) => p.property);
    const inProgram = properties.filter((p) => p.source === "program").map((p) => p.property);
    const summary =
      replace && type.endsWith(":ApiKey") && onInstance.length === 0
        ? "rotation due (age, expiry or trigger)"
        : onInstance.length > 0
          ? `${onInstance.join(", ")} changed on the instance`
          : inProgram.length > 0
            ? `the program changed ${inProgram.join(", ")}`
            : "the program changed since the last up";
    items.push({ resource, type, urn: step.urn, action: replace ? "replace" : "update", summary, properties });
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
    lines.push(`- ${item.resource}: ${item.summary} → pulumi up will ${item.action} it`);
    for (const p of item.properties) lines.push(`    ${p.property}: expected ${show(p.expected)} → actual ${show(p.actual)}`);
  }
  return lines.join("\n") + "\n";
}

function md(text: string): string {
  return text.replace(/[|`*_<>[\]]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, " ");
}

export function formatDriftMarkdown(report: DriftReport): string {
  if (!report.drifted) return `### keywire drift: \`${md(report.stack)}\`\n\nNo drift.\n`;
  const rows = report.items.flatMap((i) =>
    i.properties.length > 0
      ? i.properties.map((p) => `| ${md(i.resource)} | ${md(p.property)} | ${md(show(p.expected))} | ${md(show(p.actual))} | ${i.action} |`)
      : [`| ${md(i.resource)} | — | — | ${md(i.summary)} | ${i.action} |`],
  );
  return [
    `### keywire drift: \`${md(report.stack)}\``,
    "",
    "| resource | property | expected | actual | `pulumi up` will |",
    "|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

/** How much of a failed run's output is printed: its end, where pulumi puts the error. */
const FAILURE_TAIL = 4000;

/**
 * The stack's secret values from `pulumi config --json --show-secrets`: every entry
 * marked secret, and for a structured one every string inside it (the engine may print
 * one on its own). Pulumi marks a whole object secret when any part of it is, so its
 * plain strings are redacted too: more than needed, never less.
 */
export function configSecrets(config: unknown): string[] {
  if (typeof config !== "object" || config === null || Array.isArray(config)) return [];
  const out: string[] = [];
  const strings = (v: unknown): void => {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) v.forEach(strings);
    else if (typeof v === "object" && v !== null) Object.values(v).forEach(strings);
  };
  for (const entry of Object.values(config)) {
    if (typeof entry !== "object" || entry === null) continue;
    const e = entry as { value?: unknown; objectValue?: unknown; secret?: unknown };
    if (e.secret !== true) continue;
    strings(e.value);
    strings(e.objectValue);
  }
  return out;
}

/** `v` with every string in it redacted, and a number that is a secret's digits. */
function redactValue(v: unknown, secrets: readonly string[]): unknown {
  if (typeof v === "string") return redact(v, secrets);
  if (typeof v === "number") return secrets.includes(String(v)) ? redact(String(v), secrets) : v;
  if (Array.isArray(v)) return v.map((x) => redactValue(x, secrets));
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k, secrets), redactValue(x, secrets)]));
  }
  return v;
}

/**
 * The report as it may be printed or written: every string in it redacted with the
 * stack's secrets and the credential patterns. Values are redacted one by one, before
 * formatting, so a property named `password` or `token` stays readable as a name.
 */
export function redactDriftReport(report: DriftReport, secrets: readonly string[]): DriftReport {
  return redactValue(report, secrets) as DriftReport;
}

/**
 * What a failed pulumi run leaves for the person running the check: the end of its
 * stderr (or of stdout, which holds the JSON with the diagnostics), redacted before it
 * is cut so no secret is half-kept.
 */
export function pulumiFailureText(stderr: string, stdout: string, secrets: readonly string[]): string {
  return redact(stderr || stdout, secrets).slice(-FAILURE_TAIL);
}
