/**
 * The canary's report: the JSON form is the report itself; the text goes to stdout
 * and the Markdown to a file or the job summary. Values that come from outside (the
 * MessageId, the event's fields, error text) are made inert before they reach Markdown.
 */
import { redact } from "../../resources/core/redact";
import type { CanaryOutcome } from "./exitCodes";
import { code, md, plain } from "../shared/markdown";

export interface CanaryEvent {
  sysId: string;
  /** sys_created_on as ISO 8601 (UTC); the instance records it to the second. */
  createdOn: string | null;
  severity: string;
  messageKey: string;
  state: string;
}

export interface CanaryReport {
  stack: string;
  instance: string;
  topicArn: string;
  /** The alarm name the message carries; the event is found by it. */
  marker: string;
  subject: string;
  /** When the canary sent the publish request. */
  publishedAt: string;
  /** The id SNS gave the message; null when SNS did not accept it (or its answer never came). */
  messageId: string | null;
  outcome: CanaryOutcome;
  exitCode: number;
  /** The longest the canary waited for the event. */
  timeoutSeconds: number;
  latency: {
    /** publishedAt → the event's sys_created_on, in whole seconds (the instance's clock and resolution). */
    publishToEventCreatedSeconds: number | null;
    /** publishedAt → the poll that found the event, in milliseconds (this machine's clock). */
    publishToSeenMs: number | null;
  };
  event: CanaryEvent | null;
  /** What happened, in a sentence or two. */
  detail: string;
  /** What the run leaves on the ServiceNow instance. */
  leaves: string;
  /** The command to run next, when there is a problem to find. */
  next: string | null;
}

/** What a delivered canary leaves, said once for every outcome that may leave it. */
export const EVENT_LEFT =
  "one em_event row with Clear severity and a unique message key, and no alert (a Clear event only closes an open alert with the same key, and none has it); Event Management's own table cleanup removes old events";

const OUTCOME_LINE: Record<CanaryOutcome, string> = {
  delivered: "delivered",
  "not-delivered": "NOT delivered",
  failed: "check failed",
};

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function latencyText(r: CanaryReport): string {
  const parts: string[] = [];
  if (r.latency.publishToSeenMs !== null) parts.push(`seen ${seconds(r.latency.publishToSeenMs)} after publishing`);
  if (r.latency.publishToEventCreatedSeconds !== null)
    parts.push(`created ${r.latency.publishToEventCreatedSeconds} s after publishing by the instance's clock`);
  return parts.join("; ");
}

export function formatCanaryText(r: CanaryReport): string {
  const head = `canary ${plain(r.stack)}: ${OUTCOME_LINE[r.outcome]}${r.outcome === "delivered" ? ` (${latencyText(r)})` : ""}`;
  const lines = [
    head,
    `  topic:     ${plain(r.topicArn)}`,
    `  instance:  ${plain(r.instance)}`,
    `  marker:    ${plain(r.marker)}`,
    `  MessageId: ${r.messageId === null ? "-" : plain(r.messageId)}`,
  ];
  if (r.event) lines.push(`  event:     em_event ${plain(r.event.sysId)}, severity ${plain(r.event.severity)}, message key ${plain(r.event.messageKey)}`);
  lines.push(`  what happened: ${plain(r.detail)}`);
  lines.push(`  leaves on the instance: ${plain(r.leaves)}`);
  if (r.next) lines.push(`  next: ${plain(r.next)}`);
  return `${lines.join("\n")}\n`;
}

const ICON: Record<CanaryOutcome, string> = {
  delivered: "✅ **Delivered**",
  "not-delivered": "❌ **Not delivered**",
  failed: "⚠️ **The check failed**",
};

export function formatCanaryMarkdown(r: CanaryReport): string {
  const rows: Array<[string, string]> = [
    ["Outcome", `${r.outcome} (exit ${r.exitCode})`],
    ["SNS topic", code(r.topicArn)],
    ["ServiceNow instance", code(r.instance)],
    ["Marker (alarm name)", code(r.marker)],
    ["SNS MessageId", r.messageId === null ? "— (not accepted)" : code(r.messageId)],
    ["Published", md(r.publishedAt)],
    ["Event", r.event ? `${code(r.event.sysId)}, severity ${md(r.event.severity)}, message key ${code(r.event.messageKey)}` : "—"],
    [
      "Publish → event created",
      r.latency.publishToEventCreatedSeconds === null
        ? "—"
        : `${r.latency.publishToEventCreatedSeconds} s (sys\\_created\\_on: the instance's clock, whole seconds)`,
    ],
    ["Publish → seen by the canary", r.latency.publishToSeenMs === null ? "—" : seconds(r.latency.publishToSeenMs)],
    ["Waited at most", `${r.timeoutSeconds} s`],
  ];
  const lines = [
    `### keywire delivery canary: ${code(r.stack)}`,
    "",
    `${ICON[r.outcome]}: ${md(r.detail)}`,
    "",
    "| | |",
    "|---|---|",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    "",
    `**What it leaves on the instance:** ${md(r.leaves)}`,
  ];
  // The command stays a code span: escaping would change it.
  if (r.next) lines.push("", `**Next:** run ${code(r.next)}: it names the broken link in the chain.`);
  return `${lines.join("\n")}\n`;
}

/** The report with every string in it redacted: what may be printed or written. */
export function redactCanaryReport(r: CanaryReport, secrets: readonly string[]): CanaryReport {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redact(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(r) as CanaryReport;
}
