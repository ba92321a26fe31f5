/**
 * `npm run drift -- --stack <name> [--json <file>] [--markdown <file>] [--summary <file>]`
 *
 * Runs `pulumi preview --refresh --expect-no-changes --json` for the stack and
 * prints which resource and property drifted, expected → actual. The Markdown
 * report and a diagram of the chain with its broken link are appended to
 * `--summary <file>`, or to $GITHUB_STEP_SUMMARY in a GitHub Actions job.
 * Exit codes (exitCodes.ts): 0 no drift, 7 drift, anything else an error (the
 * Pulumi CLI's own code, 1 when it printed no JSON, 2 when the check could not run).
 */
import "../tools/preflight";
import * as fs from "fs";
import { ensureBackendDir, ensurePulumi, runCommand, type Toolchain } from "../pulumi/toolchain";
import { buildDriftReport, configSecrets, formatDriftMarkdown, formatDriftText, PreviewJson, pulumiFailureText, redactDriftReport } from "./driftReport";
import { redact } from "../../resources/core/redact";
import { formatDriftChain } from "../chain/chainDiagram";
import { appendSummary, summaryTarget } from "../chain/stepSummary";
import { DRIFT_EXIT, PULUMI_CHANGES_FOUND, driftExitCode } from "./exitCodes";

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

function parseArgs(argv: string[]): Args {
  const args: Partial<Args> = { cwd: process.cwd() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--stack") args.stack = next();
    else if (a === "--json") args.json = next();
    else if (a === "--markdown") args.markdown = next();
    else if (a === "--summary") args.summary = next();
    else if (a === "--cwd") args.cwd = next();
    else throw new Error(`unknown argument ${a}; usage: npm run drift -- --stack <name> [--json <file>] [--markdown <file>] [--summary <file>] [--cwd <project dir>]`);
  }
  if (!args.stack) throw new Error("--stack <name> is required");
  return args as Args;
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

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  // The project in --cwd is the one whose backend.url counts, for `config` and `preview` alike.
  const tc = await ensurePulumi({ cwd: args.cwd });
  ensureBackendDir(tc.env);
  knownSecrets.push(...(await stackSecrets(tc, args)));
  const run = await runCommand(tc.pulumi, ["preview", "--refresh", "--expect-no-changes", "--json", "--non-interactive", "--stack", args.stack], {
    cwd: args.cwd,
    env: tc.env,
    timeoutMs: PREVIEW_TIMEOUT_MS,
    killGraceMs: KILL_GRACE_MS,
  });
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

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`drift: ${redact(err instanceof Error ? err.message : String(err), knownSecrets)}\n`);
    process.exit(DRIFT_EXIT.cannotRun);
  },
);
