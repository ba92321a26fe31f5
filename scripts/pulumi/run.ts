/**
 * `npm run -s pulumi -- <args>`: runs a pulumi CLI at least as new as the installed
 * @pulumi/pulumi: the team's own from PATH, else one keywire provides (toolchain/ensurePulumi.ts).
 * Says on stderr which one and in what environment, then hands over
 * stdin/stdout/stderr and exits with the CLI's own exit code, so
 * `--expect-no-changes` (7) and friends reach the caller unchanged.
 *
 * Before any of that it refuses a setting too long for the stack's configuration
 * (configLimits.ts), given on the command line, on standard input to
 * `config set <key>`, or already in the stack file of a command that runs the program.
 */
import "../../config/requireNode22";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { callerDir } from "../shared/paths";
import { ensurePulumi } from "./toolchain/ensurePulumi";
import { ensureBackendDir, envForCommand } from "./toolchain/environment";
import { ToolchainError } from "./toolchain/route";
import { commandLineValueProblems, keyReadFromStdin, stackFileProblems, valueMax, valueProblem } from "./configLimits";

/** The CLI handles stop signals itself (a first Ctrl-C cancels gracefully, a second
 * one hard). Ctrl-C and a terminal hang-up already reach it, since it shares the
 * wrapper's process group: passing them on would make one Ctrl-C count twice, so the
 * wrapper only outlives them. SIGTERM is sent to one process (CI, `kill`): pass it on. */
const FROM_TERMINAL: NodeJS.Signals[] = ["SIGINT", "SIGHUP"];
const FORWARDED: NodeJS.Signals[] = ["SIGTERM"];
const ignore = (): void => undefined;

/**
 * The directory whose project the CLI will load: `--cwd`/`-C` resolved against the
 * caller's directory, else that directory. The environment decision reads the
 * project's backend.url from there.
 */
export function projectDir(args: string[], callerCwd: string): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") break;
    if ((a === "--cwd" || a === "-C") && i + 1 < args.length) return path.resolve(callerCwd, args[i + 1]);
    if (a.startsWith("--cwd=")) return path.resolve(callerCwd, a.slice("--cwd=".length));
  }
  return callerCwd;
}

/**
 * Standard input, read whole unless it grows past `maxBytes`: then undefined, and
 * the rest is left unread (the command is refused anyway).
 */
function readInput(maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (result: Buffer | undefined): void => {
      process.stdin.off("data", onData);
      process.stdin.off("end", onEnd);
      process.stdin.off("error", reject);
      process.stdin.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) stop(undefined);
      else chunks.push(chunk);
    };
    const onEnd = (): void => stop(Buffer.concat(chunks));
    process.stdin.on("data", onData);
    process.stdin.on("end", onEnd);
    process.stdin.on("error", reject);
  });
}

/** Bounds of the walk through a file backend's `.pulumi/` folder (stacks, locks, history). */
const ATTRS_WALK_MAX_DEPTH = 6;
const ATTRS_WALK_MAX_ENTRIES = 20_000;

/**
 * The folder of a `file://` backend URL (`file:///abs`, `file://~/dir`, `file://./rel`,
 * any `?query` dropped), or undefined for any other backend.
 */
export function fileBackendDir(url: string | undefined, cwd: string): string | undefined {
  if (!url || !url.startsWith("file://")) return undefined;
  const rest = decodeURIComponent(url.slice("file://".length).split("?")[0]);
  if (rest === "~" || rest.startsWith("~/")) return path.join(os.homedir(), rest.slice(1));
  return path.resolve(cwd, rest);
}

/**
 * Empty `.attrs` files in a file backend. The CLI's blob storage writes one beside each
 * state file (its content type and checksum), truncating it before it writes it; a CLI
 * killed in between leaves it empty, and every command that reads the file beside it then
 * fails with `failed to load checkpoint: EOF`. Without the `.attrs` file the storage
 * takes defaults, so removing an empty one loses nothing.
 */
export function emptyAttrsFiles(backendDir: string): string[] {
  const found: string[] = [];
  let entries = 0;
  const walk = (dir: string, depth: number): void => {
    if (depth > ATTRS_WALK_MAX_DEPTH) return;
    let listing: fs.Dirent[];
    try {
      listing = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of listing) {
      if (++entries > ATTRS_WALK_MAX_ENTRIES) return;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith(".attrs") && fs.statSync(p).size === 0) found.push(p);
    }
  };
  walk(path.join(backendDir, ".pulumi"), 0);
  return found.sort();
}

/** What the wrapper says about one empty `.attrs` file before the CLI runs. */
export function emptyAttrsAdvice(file: string): string {
  return (
    `${file} is empty: a pulumi run was killed while writing the state beside it, and commands that read that state ` +
    `fail with "failed to load checkpoint: EOF". It only holds the content type and checksum of ${path.basename(file, ".attrs")}; ` +
    `remove it (rm '${file}') and run the command again (docs/runbook.md, "A deployment was killed")`
  );
}

async function main(args: string[]): Promise<number> {
  const log = (l: string): void => {
    process.stderr.write(`[pulumi] ${l}\n`);
  };
  // The CLI runs where the caller stood, so `npm run pulumi` works in any project directory.
  const cwd = callerDir(process.env);
  const refused = [...commandLineValueProblems(args), ...stackFileProblems(projectDir(args, cwd), args)];
  // `config set <key>` without a value reads it from standard input when that is not a
  // terminal: read it here to measure it, and hand it on.
  const stdinKey = keyReadFromStdin(args);
  let input: Buffer | undefined;
  if (refused.length === 0 && stdinKey !== undefined && !process.stdin.isTTY) {
    const max = valueMax(stdinKey);
    // UTF-8 takes at most 4 bytes a character; one trailing line break is the CLI's to strip.
    input = await readInput(max * 4 + 2);
    const value = input?.toString("utf8").replace(/\r?\n$/, "");
    const problem = valueProblem(stdinKey, value ?? "x".repeat(max + 1));
    if (problem) refused.push(problem);
  }
  if (refused.length > 0) {
    for (const p of refused) log(p);
    return 1;
  }
  const tc = await ensurePulumi({ cwd: projectDir(args, cwd), log });
  ensureBackendDir(tc.env);
  const env = envForCommand(args, tc.env);
  // The line ensurePulumi logged names keywire's defaults; say which this command runs without.
  const dropped = ["PULUMI_BACKEND_URL", "PULUMI_HOME"].filter((k) => tc.env[k] !== undefined && env[k] === undefined);
  if (dropped.length > 0) log(`this login runs without keywire's ${dropped.join(" and ")}, so that later runs find the login it records`);
  const backendDir = fileBackendDir(env.PULUMI_BACKEND_URL, cwd);
  if (backendDir) for (const file of emptyAttrsFiles(backendDir)) log(emptyAttrsAdvice(file));
  const child = spawn(tc.pulumi, args, { cwd, env, stdio: [input ? "pipe" : "inherit", "inherit", "inherit"] });
  if (input) child.stdin?.end(input);
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  for (const sig of FROM_TERMINAL) process.on(sig, ignore);
  return new Promise<number>((resolve) => {
    child.on("error", (err: NodeJS.ErrnoException) => {
      // E2BIG: the arguments and environment together are more than Linux starts a process with.
      const why =
        err.code === "E2BIG" ? "its arguments or environment are too long for the system (E2BIG); give a long setting on standard input" : err.message;
      process.stderr.write(`[pulumi] could not start ${tc.pulumi}: ${why}\n`);
      resolve(1);
    });
    child.on("close", (code, signal) => {
      for (const sig of FORWARDED) process.off(sig, forward);
      for (const sig of FROM_TERMINAL) process.off(sig, ignore);
      // Shell convention for "killed by a signal": 128 + its number.
      resolve(code ?? (signal === "SIGINT" ? 130 : signal === "SIGTERM" ? 143 : 1));
    });
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const msg = err instanceof ToolchainError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`[pulumi] ${msg}\n`);
      process.exit(1);
    },
  );
}
