/**
 * Turns `pulumi preview --refresh --json` into a drift report: which resource,
 * which property, what the program expects and what the instance has now.
 *
 * Dynamic providers do not report per-property diffs to the engine, so the
 * report compares the refreshed outputs (the live values, which keywire's
 * resources keep in the same shape as their inputs) with the program's inputs.
 */

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

/** How the engine marks a value it will only know during the update. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Properties whose refreshed value differs from what the program asks for. */
export function propertyDrift(step: PreviewStep): PropertyDrift[] {
  const live = step.oldState?.outputs ?? {};
  const refreshedInputs = step.oldState?.inputs ?? {};
  const wanted = step.newState?.inputs ?? {};
  const out: PropertyDrift[] = [];
  for (const [key, expected] of Object.entries(wanted)) {
    if (INTERNAL.has(key) || expected === undefined || expected === UNKNOWN || !(key in live)) continue;
    if (same(expected, live[key])) continue;
    // keywire's reads report live values as inputs for the properties the instance
    // holds; a property only the program knows (a rotation trigger, a probe) is not
    // among them, so a difference there is the program's own change.
    const source = key in refreshedInputs ? "instance" : "program";
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
