/**
 * `npm run drift -- --stack <name> [--json <file>] [--markdown <file>]`
 *
 * Runs `pulumi preview --refresh --expect-no-changes --json` for the stack and
 * prints which resource and property drifted, expected → actual.
 * Exit codes: 0 no drift, 7 drift, anything else an error (the CLI's own code).
 */
import "../tools/preflight";
import * as fs from "fs";
import { spawn } from "child_process";
import { ensureBackendDir, ensurePulumi } from "../pulumi/toolchain";
import { buildDriftReport, formatDriftMarkdown, formatDriftText, PreviewJson } from "./driftReport";
import { redact } from "../../resources/shared/redact";

interface Args {
  stack: string;
  json?: string;
  markdown?: string;
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
    else if (a === "--cwd") args.cwd = next();
    else throw new Error(`unknown argument ${a}; usage: npm run drift -- --stack <name> [--json <file>] [--markdown <file>] [--cwd <project dir>]`);
  }
  if (!args.stack) throw new Error("--stack <name> is required");
  return args as Args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const tc = await ensurePulumi({ cwd: args.cwd });
  ensureBackendDir(tc.env);
  const child = spawn(tc.pulumi, ["preview", "--refresh", "--expect-no-changes", "--json", "--non-interactive", "--stack", args.stack], {
    cwd: args.cwd,
    env: tc.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code: number = await new Promise((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  if (code !== 0 && code !== 7) {
    process.stderr.write(redact(stderr || stdout).slice(-4000) + "\n");
    process.stderr.write(`drift check failed (pulumi exited ${code})\n`);
    return code;
  }
  let preview: PreviewJson;
  try {
    preview = JSON.parse(stdout) as PreviewJson;
  } catch {
    process.stderr.write("drift check failed: pulumi did not print JSON\n");
    return 1;
  }
  const report = buildDriftReport(args.stack, preview);
  process.stdout.write(formatDriftText(report));
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(report, null, 2) + "\n");
  if (args.markdown) fs.writeFileSync(args.markdown, formatDriftMarkdown(report));
  // The engine's verdict decides: 7 means it would change something.
  return code === 7 ? 7 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`drift: ${redact(err instanceof Error ? err.message : String(err))}\n`);
    process.exit(2);
  },
);
