/**
 * keywire's own small Go programs under tools/<name> (go.mod and go.sum committed),
 * built on first use into `${KEYWIRE_TOOLS_DIR:-~/.cache/keywire/tools}/<name>/` beside
 * the Pulumi toolchain and rebuilt only when their sources change, and the loopback
 * servers among them started and stopped.
 *
 * A server prints one line, `listening http://127.0.0.1:PORT`, once it accepts
 * connections, and stops when its standard input closes.
 */
import { spawn, type ChildProcess } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT, toolsDir } from "../shared/paths";
import { runCommand, which } from "../shared/process";

/** A cold module cache downloads the tool's dependencies; a warm one builds in seconds. */
export const GO_TOOL_BUILD_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
/** stderr kept for error messages: the tail of a server's log, whatever it runs for. */
const STDERR_KEPT = 64 * 1024;

export function goToolSourceDir(name: string): string {
  return path.join(REPO_ROOT, "tools", name);
}

/** What the binary is built from: its Go sources (tests aside), go.mod and go.sum. */
function sourceFiles(dir: string): string[] {
  const go = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".go") && !f.endsWith("_test.go"))
    .sort();
  return [...go, "go.mod", "go.sum"];
}

export function goToolFingerprint(name: string): string {
  const dir = goToolSourceDir(name);
  const h = createHash("sha256");
  for (const f of sourceFiles(dir)) {
    h.update(f)
      .update("\0")
      .update(fs.readFileSync(path.join(dir, f)))
      .update("\0");
  }
  return h.digest("hex").slice(0, 16);
}

/** The `go` directive of the tool's go.mod: the oldest Go that builds it. */
function goVersion(dir: string): string {
  const m = /^go\s+(\S+)\s*$/m.exec(fs.readFileSync(path.join(dir, "go.mod"), "utf8"));
  return m ? m[1] : "?";
}

const pendingBuilds = new Map<string, Promise<string>>();

/** tools/<name>'s executable, built first when the cache lacks this version of it. */
export function ensureGoTool(name: string): Promise<string> {
  let pending = pendingBuilds.get(name);
  if (!pending) {
    pending = build(name).catch((err: unknown) => {
      pendingBuilds.delete(name); // let a later call try again
      throw err;
    });
    pendingBuilds.set(name, pending);
  }
  return pending;
}

async function build(name: string): Promise<string> {
  const sourceDir = goToolSourceDir(name);
  const dir = path.join(toolsDir(), name);
  const bin = path.join(dir, `${name}-${goToolFingerprint(name)}`);
  if (fs.existsSync(bin)) return bin;
  const go = which("go");
  if (!go) throw new Error(`building tools/${name} needs \`go\` (${goVersion(sourceDir)} or newer) on PATH`);
  fs.mkdirSync(dir, { recursive: true });
  // Built under a name of its own and renamed: two jest workers building at once
  // each finish with a whole binary, and the last rename wins.
  const tmp = `${bin}.tmp-${process.pid}`;
  process.stderr.write(`[${name}] building tools/${name} into ${dir}\n`);
  // -mod=readonly: go.mod and go.sum are committed and must not change here.
  const r = await runCommand(go, ["build", "-mod=readonly", "-buildvcs=false", "-trimpath", "-o", tmp, "."], {
    cwd: sourceDir,
    env: process.env,
    timeoutMs: GO_TOOL_BUILD_TIMEOUT_MS,
  });
  if (r.code !== 0) {
    fs.rmSync(tmp, { force: true });
    const why = r.timedOut ? `timed out after ${GO_TOOL_BUILD_TIMEOUT_MS / 1000} s` : `exited ${r.code ?? r.signal}`;
    throw new Error(`go build of tools/${name} ${why}:\n${(r.stderr || r.stdout).trim().split("\n").slice(-10).join("\n")}`);
  }
  fs.renameSync(tmp, bin);
  // Older builds of the tool are of no further use.
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith(`${name}-`) && path.join(dir, f) !== bin && !f.includes(".tmp-")) fs.rmSync(path.join(dir, f), { force: true });
  }
  return bin;
}

export interface GoServer {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  child: ChildProcess;
  /** The last 64 KiB the server wrote on stderr. */
  stderr(): string;
  stop(): Promise<void>;
}

export interface GoServerOptions {
  /** Called with each stderr chunk as it arrives. */
  onStderr?: (text: string) => void;
}

/** Builds tools/<name> if need be and starts it with `args`; resolves once it listens. */
export async function startGoServer(name: string, args: string[], opts: GoServerOptions = {}): Promise<GoServer> {
  const bin = await ensureGoTool(name);
  // stdin stays an open pipe: the server stops when it closes, so a test runner that
  // dies without calling stop() takes the server with it.
  const child = spawn(bin, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    const text = b.toString();
    stderr = (stderr + text).slice(-STDERR_KEPT);
    opts.onStderr?.(text);
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /^listening (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited ${code} before listening: ${stderr}`));
    });
  });
  return { endpoint, child, stderr: () => stderr, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
