/**
 * `keywire drift --stack <name> [--json <file>] [--markdown <file>] [--summary <file>]`
 * (in keywire's checkout `npm run drift -- …`, which runs the same command).
 *
 * Runs `pulumi preview --refresh --expect-no-changes --json` for the stack and
 * prints which resource and property drifted, expected → actual. The Markdown
 * report and a diagram of the chain with its broken link are appended to
 * `--summary <file>`, or to $GITHUB_STEP_SUMMARY in a GitHub Actions job.
 * Exit codes (exitCodes.ts): 0 no drift, 7 drift, anything else an error (the
 * Pulumi CLI's own code, 1 when it printed no JSON, 2 when the check could not run).
 */
import "../../config/requireNode22";
import * as fs from "fs";
import { ensurePulumi, type Toolchain } from "../pulumi/toolchain/ensurePulumi";
import { ensureBackendDir } from "../pulumi/toolchain/environment";
import { runCommand } from "../shared/process";
import { buildDriftReport, formatDriftMarkdown, formatDriftText, PreviewJson } from "./driftReport";
import { configSecrets, pulumiFailureText, redactDriftReport } from "./driftRedaction";
import { redact } from "../../resources/core/redact";
import { formatDriftChain } from "../chain/chainDiagram";
import { appendSummary, summaryTarget } from "../chain/stepSummary";
import { DRIFT_EXIT, PULUMI_CHANGES_FOUND, driftExitCode } from "./exitCodes";
import { type Invocation, npmScript } from "../cli/invocation";

/** The stack's secret values, once read: everything printed is redacted with them. */
const knownSecrets: string[] = [];
const CONFIG_TIMEOUT_MS = 2 * 60_000;
/** A refresh of every resource; a stack of hundreds of keys takes minutes, never hours. */
const PREVIEW_TIMEOUT_MS = 30 * 60_000;
/** The engine cancels gracefully on SIGTERM; SIGKILL after this. */
const KILL_GRACE_MS = 10_000;

interface Args {
  stack: string;
  json?: string;
  markdown?: string;
  summary?: string;
  cwd: string;
}

export function driftUsage(invoke: Invocation = npmScript): string {
  return `usage: ${invoke("drift")} --stack <name> [--json <file>] [--markdown <file>] [--summary <file>] [--cwd <project dir>]`;
}

export function driftHelp(invoke: Invocation = npmScript): string {
  return `${driftUsage(invoke)}

Compares the stack with what its resources really are: runs
pulumi preview --refresh --expect-no-changes for it and prints which resource and
property drifted, expected -> actual, and the broken link of the API-key chain.

  --stack <name>         the stack to check (required)
  --json <file>          write the report as JSON
  --markdown <file>      write the report as Markdown
  --summary <file>       append the Markdown report and the chain's diagram to this file
                         ($GITHUB_STEP_SUMMARY in a GitHub Actions job when not given)
  --cwd <project dir>    the Pulumi program's directory (default: the current one)
  -h, --help             this text

It runs the pulumi on PATH when that is at least the program's @pulumi/pulumi version,
with your PULUMI_HOME, login and backend (docs/toolchain.md).

Exit codes: 0 no drift; 7 drift; 1 pulumi printed no JSON; 2 the check could not run;
any other code is the Pulumi CLI's own (3 authentication, 6 stack not found, ...).
`;
}

type Parsed = { help: true } | { help: false; args: Args };

function parseArgs(argv: string[], invoke: Invocation): Parsed {
  const args: Partial<Args> = { cwd: process.cwd() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--help" || a === "-h") return { help: true };
    else if (a === "--stack") args.stack = next();
    else if (a === "--json") args.json = next();
    else if (a === "--markdown") args.markdown = next();
    else if (a === "--summary") args.summary = next();
    else if (a === "--cwd") args.cwd = next();
    else throw new Error(`unknown argument ${a}; ${driftUsage(invoke)}`);
  }
  if (!args.stack) throw new Error(`--stack <name> is required; ${driftUsage(invoke)}`);
  return { help: false, args: args as Args };
}

/**
 * The stack's secret configuration values. Without them the engine's output could
 * only be redacted by pattern, so a run that cannot read them stops here.
 */
async function stackSecrets(tc: Toolchain, args: Args): Promise<string[]> {
  const res = await runCommand(tc.pulumi, ["config", "--json", "--show-secrets", "--non-interactive", "--stack", args.stack], {
    cwd: args.cwd,
    env: tc.env,
    timeoutMs: CONFIG_TIMEOUT_MS,
  });
  const unreadable = (why: string) =>
    new Error(
      `could not read stack ${args.stack}'s secrets to keep them out of the report (pulumi config ${why}). ` +
        "Check that the stack exists and that its passphrase (PULUMI_CONFIG_PASSPHRASE) or secrets provider is available, then run the drift check again.",
    );
  if (res.timedOut) throw unreadable(`did not finish within ${CONFIG_TIMEOUT_MS / 1000} s`);
  if (res.code !== 0) throw unreadable(`exited ${res.code ?? res.signal}: ${redact(res.stderr).trim().split("\n").pop() ?? ""}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.stdout);
  } catch {
    // Never echo the text: it holds the stack's secrets.
    throw unreadable("did not print JSON");
  }
  return configSecrets(parsed);
}

async function main(argv: string[], invoke: Invocation): Promise<number> {
  const parsed = parseArgs(argv, invoke);
  if (parsed.help) {
    process.stdout.write(driftHelp(invoke));
    // A plain 0: no check ran, so there is no "clean" to report.
    return 0;
  }
  const args = parsed.args;
  // The project in --cwd is the one whose backend.url counts, for `config` and `preview` alike.
  const tc = await ensurePulumi({ cwd: args.cwd });
  ensureBackendDir(tc.env);
  // The secrets are read while the preview runs: nothing is printed before both end, and a
  // stack whose secrets cannot be read fails its preview as fast (both decrypt the same config).
  const secretsRead = stackSecrets(tc, args).then(
    (values) => ({ values }),
    (error: unknown) => ({ error }),
  );
  const run = await runCommand(tc.pulumi, ["preview", "--refresh", "--expect-no-changes", "--json", "--non-interactive", "--stack", args.stack], {
    cwd: args.cwd,
    env: tc.env,
    timeoutMs: PREVIEW_TIMEOUT_MS,
    killGraceMs: KILL_GRACE_MS,
  });
  const secrets = await secretsRead;
  if ("error" in secrets) throw secrets.error;
  knownSecrets.push(...secrets.values);
  const { stdout, stderr } = run;
  if (run.timedOut) {
    process.stderr.write(`drift check failed: pulumi preview did not finish within ${PREVIEW_TIMEOUT_MS / 60_000} minutes\n`);
    return DRIFT_EXIT.cannotRun;
  }
  const code = run.code ?? 1;
  if (code !== 0 && code !== PULUMI_CHANGES_FOUND) {
    process.stderr.write(pulumiFailureText(stderr, stdout, knownSecrets) + "\n");
    process.stderr.write(`drift check failed (pulumi exited ${code})\n`);
    return driftExitCode(code, false);
  }
  let preview: PreviewJson;
  try {
    preview = JSON.parse(stdout) as PreviewJson;
  } catch {
    process.stderr.write("drift check failed: pulumi did not print JSON\n");
    return driftExitCode(code, false);
  }
  const report = redactDriftReport(buildDriftReport(args.stack, preview), knownSecrets);
  process.stdout.write(formatDriftText(report));
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(report, null, 2) + "\n");
  if (args.markdown) fs.writeFileSync(args.markdown, formatDriftMarkdown(report));
  const summary = summaryTarget(args.summary);
  if (summary) appendSummary(summary, `${formatDriftMarkdown(report)}\n${formatDriftChain(report)}`);
  return driftExitCode(code, true);
}

/** Runs the drift check and exits with its code; `invoke` names the command in usage lines. */
export function runDriftCli(argv: string[], invoke: Invocation = npmScript): void {
  main(argv, invoke).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`drift: ${redact(err instanceof Error ? err.message : String(err), knownSecrets)}\n`);
      process.exit(DRIFT_EXIT.cannotRun);
    },
  );
}

if (require.main === module) runDriftCli(process.argv.slice(2));
