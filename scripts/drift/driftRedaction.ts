/**
 * What the drift check may print: the stack's secret values, read from its config, and
 * the report and a failed run's output redacted with them and the credential patterns.
 */
import { redact } from "../../resources/core/redact";
import type { DriftReport } from "./driftReport";

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
