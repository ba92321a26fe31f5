/**
 * The audit report as text: a fixed-width table for a CI log and Markdown for a CI
 * comment. (The JSON form is the report itself.)
 *
 * Key names, user names and role names come from the instance, so anyone who can
 * create a key controls part of this text: it is escaped by scripts/shared/markdown.ts.
 */
import type { AuditReport, AuditedKey, Finding, Severity } from "./auditKeys";
import { md, plain } from "../shared/markdown";

/** A CI comment is limited in size (65536 characters on GitHub): longer lists point to the JSON. */
const MARKDOWN_MAX_ROWS = 200;

function fit(text: string, width: number): string {
  const t = plain(text);
  return t.length > width ? `${t.slice(0, width - 1)}…` : t.padEnd(width);
}

function day(iso: string | null, empty: string): string {
  return iso ? iso.slice(0, 10) : empty;
}

function owner(k: AuditedKey): string {
  if (!k.owner.found) return `(missing ${k.owner.sysId.slice(0, 8) || "user"})`;
  const state = !k.owner.active ? " (inactive)" : k.owner.lockedOut ? " (locked)" : "";
  return `${k.owner.userName ?? k.owner.sysId}${state}`;
}

function codesOf(report: AuditReport): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of report.findings) out.set(f.keySysId, [...(out.get(f.keySysId) ?? []), f.code]);
  return out;
}

function summaryLine(r: AuditReport): string {
  const s = r.summary;
  return `${s.keys} key${s.keys === 1 ? "" : "s"} (${s.managed} managed, ${s.unmanaged} unmanaged); findings: ${s.high} high, ${s.medium} medium, ${s.low} low`;
}

const COLUMNS: Array<[title: string, width: number, cell: (k: AuditedKey, codes: string[]) => string]> = [
  ["KEY", 28, (k) => k.name],
  ["OWNER", 24, owner],
  ["ROLES", 28, (k) => k.owner.roles.join(",") || "-"],
  ["ACTIVE", 6, (k) => (k.active ? "yes" : "no")],
  ["EXPIRES", 10, (k) => day(k.expires, "never")],
  ["UPDATED", 10, (k) => day(k.updatedAt, "-")],
  ["STACK", 16, (k) => k.managedBy ?? "-"],
  ["FINDINGS", 0, (_k, codes) => codes.join(",") || "-"],
];

/** The fixed-width table: keys, then findings with their remediation, most severe first. */
export function formatTable(report: AuditReport): string {
  const codes = codesOf(report);
  const row = (cells: string[]): string =>
    cells
      .map((c, i) => (COLUMNS[i][1] > 0 ? fit(c, COLUMNS[i][1]) : plain(c)))
      .join("  ")
      .trimEnd();
  const lines = [
    `API-key audit of ${plain(report.instance)} at ${report.generatedAt}`,
    summaryLine(report),
    "",
    row(COLUMNS.map((c) => c[0])),
    ...report.keys.map((k) => row(COLUMNS.map((c) => c[2](k, codes.get(k.sysId) ?? [])))),
  ];
  if (report.keys.length === 0) lines.push("(no API keys on the instance)");
  lines.push("");
  if (report.findings.length === 0) {
    lines.push("No findings.");
  } else {
    lines.push(`${fit("SEVERITY", 8)}  ${fit("KEY", 28)}  ${fit("FINDING", 14)}  DETAIL`);
    const indent = " ".repeat(8 + 2 + 28 + 2 + 14 + 2);
    for (const f of report.findings) {
      lines.push(`${fit(f.severity.toUpperCase(), 8)}  ${fit(f.keyName, 28)}  ${fit(f.code, 14)}  ${plain(f.message)}`);
      lines.push(`${indent}fix: ${plain(f.remediation)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

const ICON: Record<Severity, string> = { high: "🔴 high", medium: "🟠 medium", low: "🟡 low" };

function table(header: string[], rows: string[][], total: number, what: string): string[] {
  const out = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.slice(0, MARKDOWN_MAX_ROWS).map((r) => `| ${r.join(" | ")} |`)];
  if (total > MARKDOWN_MAX_ROWS) out.push("", `…and ${total - MARKDOWN_MAX_ROWS} more ${what}: see the JSON report.`);
  return out;
}

/** Markdown for a CI comment: the summary, the findings, then the keys. */
export function formatMarkdown(report: AuditReport): string {
  const codes = codesOf(report);
  // The instance URL is keywire's own setting; a code span keeps it from becoming a link.
  const lines = [
    `### API-key audit of \`${plain(report.instance).replace(/`/g, "")}\``,
    "",
    `${md(summaryLine(report))} — generated ${report.generatedAt}.`,
    "",
  ];
  if (report.findings.length === 0) {
    lines.push("No findings.");
  } else {
    lines.push("#### Findings", "");
    const rows = report.findings.map((f: Finding) => [ICON[f.severity], md(f.keyName), `\`${f.code}\``, md(f.message), md(f.remediation)]);
    lines.push(...table(["Severity", "Key", "Finding", "Detail", "Remediation"], rows, rows.length, "findings"));
  }
  lines.push("", "#### Keys", "");
  const rows = report.keys.map((k) => [
    md(k.name),
    md(owner(k)),
    md(k.owner.roles.join(", ") || "-"),
    k.active ? "yes" : "no",
    day(k.expires, "never"),
    day(k.updatedAt, "-"),
    md(k.managedBy ?? "-"),
    (codes.get(k.sysId) ?? []).map((c) => `\`${c}\``).join(" ") || "-",
  ]);
  lines.push(...table(["Key", "Owner", "Roles", "Active", "Expires", "Updated", "Stack", "Findings"], rows, rows.length, "keys"));
  return `${lines.join("\n")}\n`;
}
