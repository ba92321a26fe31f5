/**
 * `keywire audit --stack <name> [--state <file>]… [--instance-url <url>] [--json <file>]
 *   [--markdown <file>] [--summary <file>] [--expiring-within-days N] [--fail-on high|medium|low|none]`
 * (in keywire's checkout `npm run audit -- …`, which runs the same command).
 *
 * Lists every API key on the ServiceNow instance with its findings (auditKeys.ts).
 * Which keys keywire manages comes from Pulumi state: `--state` files (`pulumi stack
 * export` output, one per stack) or, without them, an export of `--stack` through the
 * Pulumi CLI wrapper. Exit codes: 0 = nothing at or above --fail-on, 1 = findings at or
 * above it, 2 = the audit could not run. Nothing secret is printed: errors go through
 * the shared redaction with every secret this process knows. The Markdown report and
 * a diagram of each managed key's chain are appended to `--summary <file>`, or to
 * $GITHUB_STEP_SUMMARY in a GitHub Actions job.
 */
import "../../config/requireNode22";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { STACK_NAME, StackAccessError, runPulumiWrapper, serviceNowClient } from "../pulumi/stackAccess";
import { isKeywireError } from "../../resources/core/errors";
import { redact, redactAndTrim } from "../../resources/core/redact";
import { AuditReport, DEFAULT_EXPIRING_WITHIN_DAYS, RecordedBreak, SEVERITY_ORDER, Severity, auditKeys } from "./auditKeys";
import { formatMarkdown, formatTable } from "./format";
import { formatAuditChains } from "../chain/chainDiagram";
import { appendSummary, summaryTarget } from "../chain/stepSummary";
import { type Invocation, npmScript } from "../cli/invocation";

const API_KEY_TYPE_SUFFIX = "keywire/servicenow:ApiKey";
const VERIFICATION_TYPE_SUFFIX = "keywire/servicenow:ApiKeyVerification";
const SYS_ID = /^[0-9a-f]{32}$/;

export function auditHelp(invoke: Invocation = npmScript): string {
  return `usage: ${invoke("audit")} --stack <name> [--state <file>]... [--instance-url <url>] [--json <file>] [--markdown <file>]
       [--summary <file>] [--expiring-within-days N] [--fail-on high|medium|low|none]

Lists every API key on the ServiceNow instance, not only keywire's, with its findings:
keys no stack manages, expired but active, admin-owned, with an inactive owner, expiring
soon, without expiry or without an auth scope. It only reads, and never the token.

  --stack <name>               the stack whose servicenow:* configuration connects to the
                               instance and whose state says which keys it manages
  --state <file>               a \`pulumi stack export\` file, one per stack (repeatable); with
                               it Pulumi is not asked, and --stack may be left out
  --instance-url <url>         use this instance and the SERVICENOW_* environment variables
  --json <file>                write the report as JSON
  --markdown <file>            write the report as Markdown
  --summary <file>             append the Markdown report and each key's chain to this file
                               ($GITHUB_STEP_SUMMARY in a GitHub Actions job when not given)
  --expiring-within-days N     a key expiring within N days is a finding (default ${DEFAULT_EXPIRING_WITHIN_DAYS})
  --fail-on <severity>         exit 1 on a finding at or above high, medium or low (default none)
  -h, --help                   this text

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 the audit could
not run. See docs/audit.md.
`;
}

function usageHint(invoke: Invocation): string {
  return `run ${invoke("audit")} --help for the options`;
}

type FailOn = Severity | "none";

/** Something the operator must fix before the audit can run; the message is safe to print. */
class AuditFailure extends Error {}

/** Every secret this process has seen, for redaction of anything it prints. */
const knownSecrets: string[] = [];

interface CliOptions {
  stack?: string;
  states: string[];
  instanceUrl?: string;
  json?: string;
  markdown?: string;
  summary?: string;
  expiringWithinDays: number;
  failOn: FailOn;
}

function parseCli(argv: string[], invoke: Invocation): CliOptions | "help" {
  const usage = usageHint(invoke);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: "boolean", short: "h" },
        stack: { type: "string" },
        state: { type: "string", multiple: true },
        "instance-url": { type: "string" },
        json: { type: "string" },
        markdown: { type: "string" },
        summary: { type: "string" },
        "expiring-within-days": { type: "string" },
        "fail-on": { type: "string" },
      },
    }));
  } catch (e) {
    // Node's own message names the option; its first line is the one that matters.
    throw new AuditFailure(`${(e instanceof Error ? e.message : String(e)).split("\n")[0]}; ${usage}`);
  }
  if (values.help === true) return "help";
  const stack = values.stack;
  if (stack !== undefined && !STACK_NAME.test(stack)) throw new AuditFailure(`--stack ${JSON.stringify(stack)} is not a stack name; ${usage}`);
  const states = values.state ?? [];
  if (stack === undefined && states.length === 0) throw new AuditFailure(`give --stack, or --state with a \`pulumi stack export\` file; ${usage}`);
  const daysText = values["expiring-within-days"] ?? String(DEFAULT_EXPIRING_WITHIN_DAYS);
  if (!/^\d{1,4}$/.test(daysText)) throw new AuditFailure(`--expiring-within-days takes a whole number of days (0 to 9999); ${usage}`);
  const failOn = values["fail-on"] ?? "none";
  if (!["high", "medium", "low", "none"].includes(failOn)) throw new AuditFailure(`--fail-on takes high, medium, low or none; ${usage}`);
  return {
    ...(stack !== undefined ? { stack } : {}),
    states,
    ...(values["instance-url"] !== undefined ? { instanceUrl: values["instance-url"] } : {}),
    ...(values.json !== undefined ? { json: values.json } : {}),
    ...(values.markdown !== undefined ? { markdown: values.markdown } : {}),
    ...(values.summary !== undefined ? { summary: values.summary } : {}),
    expiringWithinDays: Number(daysText),
    failOn: failOn as FailOn,
  };
}

/** sys_id → stack of every keywire ApiKey in a `pulumi stack export` document. */
export function managedKeysOf(exported: unknown, fallbackStack: string): Map<string, string> {
  const doc = exported as { version?: unknown; deployment?: { resources?: unknown }; manifest?: unknown; resources?: unknown } | null;
  // `pulumi stack export` wraps the deployment (a bare deployment is accepted too); an empty stack has no `resources`.
  const deployment = typeof doc?.deployment === "object" && doc.deployment !== null ? doc.deployment : doc?.manifest !== undefined ? doc : undefined;
  const resources = deployment?.resources ?? [];
  if (!deployment || !Array.isArray(resources)) throw new AuditFailure("not a `pulumi stack export` document (no deployment)");
  const out = new Map<string, string>();
  for (const r of resources as Array<Record<string, unknown>>) {
    if (typeof r?.type !== "string" || !r.type.endsWith(API_KEY_TYPE_SUFFIX)) continue;
    const outputs = (r.outputs ?? {}) as Record<string, unknown>;
    const sysId = [outputs.sysId, r.id].find((v): v is string => typeof v === "string" && SYS_ID.test(v));
    if (!sysId) continue;
    // urn:pulumi:<stack>::<project>::<type>::<name>
    const stack = typeof r.urn === "string" ? (/^urn:pulumi:([^:]+)::/.exec(r.urn)?.[1] ?? fallbackStack) : fallbackStack;
    out.set(sysId, stack);
  }
  return out;
}

/**
 * api_key sys_id → the broken delivery chain a `pulumi stack export` document recorded:
 * each ApiKeyVerification whose last up or refresh found the chain broken.
 */
export function brokenDeliveriesOf(exported: unknown, fallbackStack: string): Map<string, RecordedBreak> {
  const doc = exported as { deployment?: { resources?: unknown }; resources?: unknown } | null;
  const resources = (typeof doc?.deployment === "object" && doc.deployment !== null ? doc.deployment.resources : doc?.resources) ?? [];
  const out = new Map<string, RecordedBreak>();
  if (!Array.isArray(resources)) return out;
  for (const r of resources as Array<Record<string, unknown>>) {
    if (typeof r?.type !== "string" || !r.type.endsWith(VERIFICATION_TYPE_SUFFIX)) continue;
    const o = (r.outputs ?? {}) as Record<string, unknown>;
    if (o.verified !== false || typeof o.keySysId !== "string" || !SYS_ID.test(o.keySysId)) continue;
    const stack = typeof r.urn === "string" ? (/^urn:pulumi:([^:]+)::/.exec(r.urn)?.[1] ?? fallbackStack) : fallbackStack;
    out.set(o.keySysId, {
      stack,
      linkId: typeof o.brokenLinkId === "string" && o.brokenLinkId !== "" ? o.brokenLinkId : "unknown",
      since: typeof o.brokenSince === "string" ? o.brokenSince : "",
      message: typeof o.brokenLink === "string" ? o.brokenLink : "",
    });
  }
  return out;
}

function addManaged(into: Map<string, string>, from: Map<string, string>): void {
  for (const [id, stack] of from) {
    // Two stacks claiming one key is worth seeing: both names are kept.
    const prev = into.get(id);
    into.set(id, prev && prev !== stack ? [...new Set([...prev.split(", "), stack])].sort().join(", ") : stack);
  }
}

interface StateFacts {
  managed: Map<string, string>;
  broken: Map<string, RecordedBreak>;
}

async function managedKeys(o: CliOptions): Promise<StateFacts> {
  const out = new Map<string, string>();
  const broken = new Map<string, RecordedBreak>();
  if (o.states.length > 0) {
    for (const file of o.states) {
      let doc: unknown;
      try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code ?? "not JSON";
        throw new AuditFailure(`--state ${file}: cannot read it (${why})`);
      }
      try {
        const stack = path.basename(file).replace(/\.json$/i, "");
        addManaged(out, managedKeysOf(doc, stack));
        for (const [k, v] of brokenDeliveriesOf(doc, stack)) broken.set(k, v);
      } catch (e) {
        throw new AuditFailure(`--state ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return { managed: out, broken };
  }
  const stack = o.stack!;
  let text: string;
  try {
    text = await runPulumiWrapper(["stack", "export", "--stack", stack], knownSecrets);
  } catch (e) {
    throw new AuditFailure(
      `cannot learn which keys stack ${stack} manages: ${e instanceof Error ? e.message : String(e)}. ` +
        "Without it every key would look unmanaged; pass --state <file> with the output of `pulumi stack export` instead",
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new AuditFailure(`pulumi stack export --stack ${stack} did not print JSON`);
  }
  addManaged(out, managedKeysOf(doc, stack));
  return { managed: out, broken: brokenDeliveriesOf(doc, stack) };
}

function writeOutput(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, text);
}

function atOrAbove(report: AuditReport, failOn: FailOn): number {
  if (failOn === "none") return 0;
  const worst = SEVERITY_ORDER.indexOf(failOn);
  return report.findings.filter((f) => SEVERITY_ORDER.indexOf(f.severity) <= worst).length;
}

async function main(argv: string[], invoke: Invocation): Promise<number> {
  const o = parseCli(argv, invoke);
  if (o === "help") {
    process.stdout.write(auditHelp(invoke));
    return 0;
  }
  const { managed, broken } = await managedKeys(o);
  const client = await serviceNowClient({
    ...(o.stack !== undefined ? { stack: o.stack } : {}),
    ...(o.instanceUrl !== undefined ? { instanceUrl: o.instanceUrl } : {}),
    userAgent: "keywire-audit",
    tool: "audit",
    secrets: knownSecrets,
  });
  const report = await auditKeys(client, { managed, broken, expiringWithinDays: o.expiringWithinDays });
  process.stdout.write(formatTable(report));
  if (o.json) writeOutput(o.json, `${JSON.stringify(report, null, 2)}\n`);
  if (o.markdown) writeOutput(o.markdown, formatMarkdown(report));
  const summary = summaryTarget(o.summary);
  if (summary) appendSummary(summary, `${formatMarkdown(report)}\n${formatAuditChains(report)}`);
  const failing = atOrAbove(report, o.failOn);
  if (failing > 0) {
    process.stderr.write(`audit: ${failing} finding${failing === 1 ? "" : "s"} at or above ${o.failOn} (--fail-on ${o.failOn})\n`);
    return 1;
  }
  return 0;
}

function safeMessage(e: unknown): string {
  if (e instanceof AuditFailure || e instanceof StackAccessError || isKeywireError(e)) return redact(e.message, knownSecrets);
  // Anything else is unexpected: its message only (a stack or a library error's fields may carry data).
  return `unexpected failure: ${redactAndTrim(e instanceof Error ? e.message : String(e), knownSecrets)}`;
}

/** Runs the audit and sets the exit code; `invoke` names the command in usage lines. */
export function runAuditCli(argv: string[], invoke: Invocation = npmScript): void {
  main(argv, invoke).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`audit: ${safeMessage(e)}\n`);
      process.exitCode = 2;
    },
  );
}

if (require.main === module) runAuditCli(process.argv.slice(2));
