/**
 * Running child processes: the one way keywire's scripts, benchmark and tests start a
 * command and wait for it (the Pulumi CLI, go, npm, ts-node), and find one on PATH.
 */
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  stdoutTruncated?: boolean;
}

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Called for each complete stderr line (go prints its progress there). */
  onStderrLine?: (line: string) => void;
  /** Called with each stderr chunk as it arrives (to pass progress on). */
  onStderr?: (text: string) => void;
  /** Written to the command's stdin, which is then closed; without it stdin is closed at once. */
  input?: string;
  /**
   * On timeout, SIGTERM first and SIGKILL this long after (the engine cancels
   * gracefully on SIGTERM); without it, SIGKILL at once.
   */
  killGraceMs?: number;
  /** stdout kept at most (the rest is dropped and `stdoutTruncated` set). */
  maxStdoutBytes?: number;
  /**
   * "inherit": the command writes to this process's stdout and stderr (a tool whose
   * output is the user's to read, such as go test); the result's stdout and stderr are
   * then empty. Default "capture".
   */
  output?: "capture" | "inherit";
  /** Called once the command has started, with its pid (also its process group's id). */
  onSpawn?: (pid: number) => void;
  /**
   * Processes outside the command's group that are stopped with it (on a timeout or a
   * stop signal): the Pulumi engine starts each plugin in a process group of its own.
   */
  alsoSignal?: () => number[];
}

/**
 * The one way keywire runs a child process (the Pulumi CLI, go, npm, ts-node, the
 * wrapper): to completion or a hard time limit, in its own process group so a timeout
 * also stops what it started; never throws for a non-zero exit.
 */
export function runCommand(cmd: string, args: string[], opts: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      // detached: the command gets its own process group, so a timeout stops its
      // children too (go build runs compile/link as children).
      const out = opts.output === "inherit" ? "inherit" : "pipe";
      child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: [opts.input === undefined ? "ignore" : "pipe", out, out], detached: true });
    } catch (err) {
      resolve({ code: null, signal: null, stdout: "", stderr: String(err), timedOut: false });
      return;
    }
    if (opts.input !== undefined) sendInput(child, opts.input);
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const stop = (sig: NodeJS.Signals): void => {
      signalGroup(child, sig);
      for (const pid of opts.alsoSignal?.() ?? []) signalProcess(pid, sig);
    };
    let stdout = "";
    let stdoutBytes = 0;
    let stdoutTruncated = false;
    let stderr = "";
    let pending = "";
    let timedOut = false;
    child.stdout?.on("data", (b: Buffer) => {
      stdoutBytes += b.length;
      if (opts.maxStdoutBytes !== undefined && stdoutBytes > opts.maxStdoutBytes) stdoutTruncated = true;
      else stdout += b.toString();
    });
    child.stderr?.on("data", (b: Buffer) => {
      const s = b.toString();
      stderr += s;
      opts.onStderr?.(s);
      if (opts.onStderrLine) {
        pending += s;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) opts.onStderrLine(line);
      }
    });
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (opts.killGraceMs === undefined) return stop("SIGKILL");
      stop("SIGTERM");
      killTimer = setTimeout(() => stop("SIGKILL"), opts.killGraceMs);
    }, opts.timeoutMs);
    // Its own process group does not see the terminal's Ctrl-C: stop it ourselves, then
    // let the signal do what it would have done to this process.
    const onSignal = (sig: NodeJS.Signals): void => {
      stop("SIGKILL");
      stopForwarding();
      process.kill(process.pid, sig);
    };
    const stopForwarding = (): void => {
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
    };
    for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
    const done = (): void => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      stopForwarding();
    };
    child.on("error", (err) => {
      done();
      resolve({ code: null, signal: null, stdout, stderr: stderr + String(err), timedOut });
    });
    child.on("close", (code, signal) => {
      done();
      resolve({ code, signal, stdout, stderr, timedOut, ...(stdoutTruncated ? { stdoutTruncated } : {}) });
    });
  });
}

/**
 * Writes `input` to a child's piped stdin and closes it. A child that exits without
 * reading makes the write fail (EPIPE); its exit code tells what happened, so that
 * error is not raised again here.
 */
function sendInput(child: ChildProcess, input: string): void {
  if (!child.stdin) return;
  child.stdin.on("error", () => undefined);
  child.stdin.end(input);
}

const STOP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    child.kill(sig);
  }
}

/** Signals one process that may have ended already. */
function signalProcess(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** PATH lookup without a shell: the first executable `name` in `env.PATH`. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** One line (and the output's last lines) saying how a command failed, for messages that list what was tried. */
export function describeFailure(what: string, r: CommandResult): string {
  if (r.timedOut) return `${what} timed out`;
  const tail = (r.stderr || r.stdout).trim().split("\n").slice(-8).join("\n    ");
  return `${what} failed (exit ${r.code ?? r.signal})${tail ? `:\n    ${tail}` : ""}`;
}

/** Every executable `name` on PATH, in PATH order, each file once. */
export function whichAll(name: string, env: NodeJS.ProcessEnv): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (!fs.statSync(candidate).isFile()) continue;
      const real = fs.realpathSync(candidate);
      if (seen.has(real)) continue;
      seen.add(real);
      found.push(candidate);
    } catch {
      // not here; keep looking
    }
  }
  return found;
}
