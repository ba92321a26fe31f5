/**
 * `npm run -s pulumi -- <args>`: runs a pulumi CLI at least as new as the installed
 * @pulumi/pulumi: the team's own from PATH, else one keywire provides (toolchain.ts).
 * Says on stderr which one and in what environment, then hands over
 * stdin/stdout/stderr and exits with the CLI's own exit code, so
 * `--expect-no-changes` (7) and friends reach the caller unchanged.
 */
import "../tools/preflight";
import { spawn } from "child_process";
import * as path from "path";
import { callerDir, ensureBackendDir, ensurePulumi, envForCommand, ToolchainError } from "./toolchain";

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

async function main(args: string[]): Promise<number> {
  const log = (l: string): void => {
    process.stderr.write(`[pulumi] ${l}\n`);
  };
  // The CLI runs where the caller stood, so `npm run pulumi` works in any project directory.
  const cwd = callerDir(process.env);
  const tc = await ensurePulumi({ cwd: projectDir(args, cwd), log });
  ensureBackendDir(tc.env);
  const env = envForCommand(args, tc.env);
  // The line ensurePulumi logged names keywire's defaults; say which this command runs without.
  const dropped = ["PULUMI_BACKEND_URL", "PULUMI_HOME"].filter((k) => tc.env[k] !== undefined && env[k] === undefined);
  if (dropped.length > 0) log(`this login runs without keywire's ${dropped.join(" and ")}, so that later runs find the login it records`);
  const child = spawn(tc.pulumi, args, { cwd, env, stdio: "inherit" });
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  for (const sig of FROM_TERMINAL) process.on(sig, ignore);
  return new Promise<number>((resolve) => {
    child.on("error", (err) => {
      process.stderr.write(`[pulumi] could not start ${tc.pulumi}: ${err.message}\n`);
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
