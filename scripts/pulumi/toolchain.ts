/**
 * keywire's Pulumi toolchain: finds or provides a `pulumi` CLI at exactly the version
 * of the installed @pulumi/pulumi SDK, plus the environment it runs in.
 *
 * Routes, in order (docs/toolchain.md):
 *   1. a `pulumi` already on PATH at that version (an official install);
 *   2. the cache from an earlier run of this setup;
 *   3. the official installer, where its host answers;
 *   4. a build from the Go module proxy: the CLI from github.com/pulumi/pulumi/pkg/v3,
 *      keywire's own Node language host (tools/language-host) and keywire's own
 *      dynamic-provider plugin script.
 * Used by `npm run setup:pulumi`, the `npm run pulumi` wrapper and the end-to-end
 * tests, so all three run the same engine.
 */
import { spawn, type ChildProcess } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
const LANGUAGE_HOST_DIR = path.join(REPO_ROOT, "tools", "language-host");
const DYNAMIC_PROVIDER_SCRIPT = path.join(__dirname, "pulumi-resource-pulumi-nodejs");
const DEFAULT_INSTALLER_URL = "https://get.pulumi.com/";

const PKG_MODULE = "github.com/pulumi/pulumi/pkg/v3";
const SDK_MODULE = "github.com/pulumi/pulumi/sdk/v3";
const CLI_PACKAGE = `${PKG_MODULE}/cmd/pulumi`;
/** The CLI reports this variable as its version; upstream release builds set it the same way. */
const VERSION_SYMBOL = `${SDK_MODULE}/go/common/version.Version`;

/** Every child process is bounded; a cold build of the CLI takes 7–8 minutes on 2 idle
 * cores and up to three times that on a busy machine (docs/toolchain.md). */
const TIMEOUTS = {
  probe: 30_000,
  installerProbe: 5_000,
  installer: 10 * 60_000,
  modDownload: 10 * 60_000,
  modTidy: 20 * 60_000,
  cliBuild: 60 * 60_000,
  hostBuild: 15 * 60_000,
  lockWait: 75 * 60_000,
} as const;
const PROGRESS_EVERY_MS = 15_000;
const STAMP_FORMAT = 1;

export type Route = "path" | "installer" | "go";

export interface Toolchain {
  /** The SDK version, e.g. "3.259.0"; the CLI reports "v" + this. */
  version: string;
  route: Route;
  /** Directory holding pulumi, pulumi-language-nodejs and pulumi-resource-pulumi-nodejs. */
  binDir: string;
  /** Absolute path of the pulumi executable. */
  pulumi: string;
  /** The environment to run it with (see pulumiEnv). */
  env: NodeJS.ProcessEnv;
}

export interface EnsureOptions {
  /** Receives progress lines; defaults to stderr so stdout stays the CLI's own. */
  log?: (line: string) => void;
  /** Rebuild or reinstall even if the cache is current. */
  force?: boolean;
  /** Base environment (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Thrown when no route can provide the CLI; its message lists why each route failed. */
export class ToolchainError extends Error {
  override readonly name = "ToolchainError";
}

interface Stamp {
  format: number;
  version: string;
  route: Route;
  /** Fingerprints of keywire's own parts, so editing them triggers a rebuild of just those. */
  languageHost?: string;
  dynamicProvider?: string;
  goVersion?: string;
  buildSeconds?: number;
  builtAt: string;
}

// ---------------------------------------------------------------------------
// Locations and environment
// ---------------------------------------------------------------------------

/** The @pulumi/pulumi version installed in node_modules: the one version source. */
export function sdkVersion(): string {
  const pkgPath = require.resolve("@pulumi/pulumi/package.json", { paths: [REPO_ROOT] });
  const pkg: unknown = JSON.parse(fs.readFileSync(pkgPath, "utf8"));
  const version = (pkg as { version?: unknown }).version;
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+/.test(version)) {
    throw new ToolchainError(`cannot read the @pulumi/pulumi version from ${pkgPath}`);
  }
  return version;
}

export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KEYWIRE_TOOLS_DIR || path.join(os.homedir(), ".cache", "keywire", "tools");
}

export function cacheDir(version: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsDir(env), `pulumi-v${version}`);
}

/** keywire's own PULUMI_HOME (plugins, logins, workspace settings), shared by versions. */
export function defaultPulumiHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsDir(env), "pulumi-home");
}

/** The local file backend used when the caller names none: state stays with the checkout (.tools/ is ignored by git). */
export function defaultBackendDir(): string {
  return path.join(REPO_ROOT, ".tools", "pulumi-state");
}

/** The file backend needs its directory to exist; make the default one on first use. */
export function ensureBackendDir(env: NodeJS.ProcessEnv): void {
  if (env.PULUMI_BACKEND_URL === `file://${defaultBackendDir()}`) {
    fs.mkdirSync(defaultBackendDir(), { recursive: true });
  }
}

/** The project file the CLI reads for a run in `dir`: the nearest Pulumi.yaml (or .yml) upwards. */
function projectFile(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    for (const name of ["Pulumi.yaml", "Pulumi.yml"]) {
      if (fs.existsSync(path.join(d, name))) return path.join(d, name);
    }
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * `backend.url` of a Pulumi.yaml, in the block form Pulumi documents
 * (`backend:` then an indented `url: …`) or the flow form (`backend: { url: … }`).
 * A line-level read, not a YAML parser: keywire has no YAML dependency, and only
 * whether the project names a backend matters here.
 */
export function projectBackendUrl(yamlText: string): string | undefined {
  const unquote = (v: string): string => v.trim().replace(/^(["'])(.*)\1$/, "$2").trim();
  const flow = /^backend:[ \t]*\{([^}]*)\}/m.exec(yamlText);
  if (flow) {
    const url = /(?:^|,)\s*url:\s*([^,]+)/.exec(flow[1]);
    return url && unquote(url[1]) ? unquote(url[1]) : undefined;
  }
  const block = /^backend:[ \t]*(?:#.*)?\r?\n((?:(?:[ \t]+.*|[ \t]*)(?:\r?\n|$))*)/m.exec(yamlText);
  if (!block) return undefined;
  const url = /^[ \t]+url:[ \t]*(.*?)[ \t]*(?:[ \t]#.*)?$/m.exec(block[1]);
  return url && unquote(url[1]) ? unquote(url[1]) : undefined;
}

/**
 * The backend the caller chose, where PULUMI_BACKEND_URL does not name one: the
 * project's `backend.url`, else the current `pulumi login` recorded in the Pulumi
 * home (the CLI's own order). Undefined when neither: the CLI would then use Pulumi
 * Cloud, which keywire never picks for anyone.
 */
export function chosenBackend(pulumiHome: string, projectDir: string): string | undefined {
  const project = projectFile(projectDir);
  const fromProject = project ? projectBackendUrl(fs.readFileSync(project, "utf8")) : undefined;
  if (fromProject) return fromProject;
  try {
    const creds = JSON.parse(fs.readFileSync(path.join(pulumiHome, "credentials.json"), "utf8")) as { current?: unknown };
    return typeof creds.current === "string" && creds.current !== "" ? creds.current : undefined;
  } catch {
    return undefined; // no login yet (or a file the CLI will complain about itself)
  }
}

/**
 * The environment the CLI runs with. Offline-safe: no update check, no automatic plugin
 * download. The toolchain's bin dir and node_modules/.bin come first on PATH, so the
 * engine finds keywire's plugins and every plugin runs the project's Node 22. A
 * caller's PULUMI_HOME, PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE(_FILE) win.
 * The local file backend is the default only where the caller chose no backend
 * (chosenBackend, for a run in `projectDir`: npm's INIT_CWD for the wrapper): a
 * team's `pulumi login s3://…` or `backend.url` must not be overridden by it.
 */
export function pulumiEnv(binDir: string, base: NodeJS.ProcessEnv = process.env, projectDir = base.INIT_CWD || process.cwd()): NodeJS.ProcessEnv {
  const nodeBin = path.join(REPO_ROOT, "node_modules", ".bin");
  const rest = (base.PATH ?? "").split(path.delimiter).filter((p) => p !== "" && p !== binDir && p !== nodeBin);
  const home = base.PULUMI_HOME || defaultPulumiHome(base);
  const env: NodeJS.ProcessEnv = {
    ...base,
    PATH: [binDir, nodeBin, ...rest].join(path.delimiter),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_HOME: home,
  };
  if (!base.PULUMI_BACKEND_URL && !chosenBackend(home, projectDir)) {
    // The directory is made by the wrapper when it runs the CLI (ensureBackendDir).
    env.PULUMI_BACKEND_URL = `file://${defaultBackendDir()}`;
  }
  return env;
}

/**
 * The environment for one CLI command. `pulumi login <url>` records the caller's own
 * choice of backend: pulumiEnv's file default must not stand beside it (the CLI would
 * warn that PULUMI_BACKEND_URL conflicts with the login, and later commands follow
 * the login anyway).
 */
export function envForCommand(args: string[], env: NodeJS.ProcessEnv, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const loginTo = args[0] === "login" && args.slice(1).some((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a));
  if (!loginTo || base.PULUMI_BACKEND_URL || env.PULUMI_BACKEND_URL !== `file://${defaultBackendDir()}`) return env;
  const { PULUMI_BACKEND_URL: _default, ...rest } = env;
  void _default;
  return rest;
}

// ---------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Called for each complete stderr line (go prints its progress there). */
  onStderrLine?: (line: string) => void;
  /** Written to the command's stdin, which is then closed; without it stdin is closed at once. */
  input?: string;
}

/** Runs a command to completion with a hard time limit; never throws for a non-zero exit. */
export function runCommand(cmd: string, args: string[], opts: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      // detached: the command gets its own process group, so a timeout stops its
      // children too (go build runs compile/link as children).
      child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], detached: true });
    } catch (err) {
      resolve({ code: null, signal: null, stdout: "", stderr: String(err), timedOut: false });
      return;
    }
    if (opts.input !== undefined) sendInput(child, opts.input);
    let stdout = "";
    let stderr = "";
    let pending = "";
    let timedOut = false;
    child.stdout?.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on("data", (b: Buffer) => {
      const s = b.toString();
      stderr += s;
      if (opts.onStderrLine) {
        pending += s;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) opts.onStderrLine(line);
      }
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, opts.timeoutMs);
    // Its own process group does not see the terminal's Ctrl-C: stop it ourselves, then
    // let the signal do what it would have done to this process.
    const onSignal = (sig: NodeJS.Signals): void => {
      killGroup(child);
      stopForwarding();
      process.kill(process.pid, sig);
    };
    const stopForwarding = (): void => {
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
    };
    for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
    child.on("error", (err) => {
      clearTimeout(timer);
      stopForwarding();
      resolve({ code: null, signal: null, stdout, stderr: stderr + String(err), timedOut });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      stopForwarding();
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/**
 * Writes `input` to a child's piped stdin and closes it. A child that exits without
 * reading makes the write fail (EPIPE); its exit code tells what happened, so that
 * error is not raised again here.
 */
export function sendInput(child: ChildProcess, input: string): void {
  if (!child.stdin) return;
  child.stdin.on("error", () => undefined);
  child.stdin.end(input);
}

const STOP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
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

function describeFailure(what: string, r: CommandResult): string {
  if (r.timedOut) return `${what} timed out`;
  const tail = (r.stderr || r.stdout).trim().split("\n").slice(-8).join("\n    ");
  return `${what} failed (exit ${r.code ?? r.signal})${tail ? `:\n    ${tail}` : ""}`;
}

// ---------------------------------------------------------------------------
// Cache stamp and fingerprints
// ---------------------------------------------------------------------------

function fingerprintFiles(files: string[]): string {
  const h = createHash("sha256");
  for (const f of files) {
    h.update(path.basename(f)).update("\0").update(fs.readFileSync(f)).update("\0");
  }
  return h.digest("hex").slice(0, 16);
}

/** The language host's sources (not its tests): any edit to them rebuilds the host
 * (seconds on a warm Go cache). */
export function languageHostFingerprint(): string {
  const files = fs
    .readdirSync(LANGUAGE_HOST_DIR)
    .filter((f) => (f.endsWith(".go") && !f.endsWith("_test.go")) || f === "go.mod" || f === "go.sum")
    .sort()
    .map((f) => path.join(LANGUAGE_HOST_DIR, f));
  return fingerprintFiles(files);
}

export function dynamicProviderFingerprint(): string {
  return fingerprintFiles([DYNAMIC_PROVIDER_SCRIPT]);
}

function readStamp(dir: string): Stamp | undefined {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(dir, "stamp.json"), "utf8")) as Stamp;
    return stamp.format === STAMP_FORMAT ? stamp : undefined;
  } catch {
    return undefined;
  }
}

function writeStamp(dir: string, stamp: Stamp): void {
  const tmp = path.join(dir, `stamp.json.${process.pid}`);
  fs.writeFileSync(tmp, JSON.stringify(stamp, null, 2) + "\n");
  fs.renameSync(tmp, path.join(dir, "stamp.json"));
}

const BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"] as const;

function hasBinaries(binDir: string): boolean {
  return BINARIES.every((b) => fs.existsSync(path.join(binDir, b)));
}

/** What, if anything, must be redone for the cache to be current. */
interface CacheState {
  cli: boolean;
  languageHost: boolean;
  dynamicProvider: boolean;
}

function staleParts(dir: string, version: string): CacheState {
  const stamp = readStamp(dir);
  const binDir = path.join(dir, "bin");
  if (!stamp || stamp.version !== version || !hasBinaries(binDir)) {
    return { cli: true, languageHost: true, dynamicProvider: true };
  }
  if (stamp.route === "installer") {
    // The official install brings its own plugins; nothing of keywire's is in it.
    return { cli: false, languageHost: false, dynamicProvider: false };
  }
  return {
    cli: false,
    languageHost: stamp.languageHost !== languageHostFingerprint(),
    dynamicProvider: stamp.dynamicProvider !== dynamicProviderFingerprint(),
  };
}

// ---------------------------------------------------------------------------
// Lock: one setup at a time per cache directory (jest workers may race here)
// ---------------------------------------------------------------------------

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function withLock<T>(dir: string, log: (l: string) => void, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(dir, { recursive: true });
  const lockDir = path.join(dir, ".lock");
  const deadline = Date.now() + TIMEOUTS.lockWait;
  let lastNote = 0;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let holder = NaN;
    try {
      holder = Number(fs.readFileSync(path.join(lockDir, "pid"), "utf8"));
    } catch {
      // the holder is between mkdir and writing its pid; look again shortly
    }
    if (Number.isInteger(holder) && holder > 0 && !pidAlive(holder)) {
      log(`removing a stale setup lock left by process ${holder}`);
      fs.rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new ToolchainError(`another setup (pid ${holder}) has held ${lockDir} for too long; remove it if that process is gone`);
    }
    if (Date.now() - lastNote > 30_000) {
      log(`waiting for another setup to finish (pid ${Number.isNaN(holder) ? "?" : holder})`);
      lastNote = Date.now();
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Route 1: pulumi on PATH
// ---------------------------------------------------------------------------

async function pulumiOnPath(version: string, env: NodeJS.ProcessEnv, excluded: string): Promise<{ bin?: string; note: string }> {
  const searchEnv = { ...env, PATH: (env.PATH ?? "").split(path.delimiter).filter((p) => p !== excluded).join(path.delimiter) };
  const bin = which("pulumi", searchEnv);
  if (!bin) return { note: "no pulumi on PATH" };
  const r = await runCommand(bin, ["version"], { env: { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" }, timeoutMs: TIMEOUTS.probe });
  const found = r.stdout.trim();
  if (r.code !== 0) return { note: describeFailure(`${bin} version`, r) };
  if (found !== `v${version}`) return { note: `${bin} is ${found || "of unknown version"}, not v${version}` };
  if (!fs.existsSync(path.join(path.dirname(bin), "pulumi-language-nodejs"))) {
    return { note: `${bin} is v${version} but has no pulumi-language-nodejs beside it` };
  }
  return { bin, note: `using ${bin} (v${version})` };
}

// ---------------------------------------------------------------------------
// Route 3: the official installer
// ---------------------------------------------------------------------------

function httpsGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

async function installOfficial(version: string, dir: string, env: NodeJS.ProcessEnv, log: (l: string) => void): Promise<{ ok: boolean; note: string }> {
  const url = env.KEYWIRE_PULUMI_INSTALLER_URL || DEFAULT_INSTALLER_URL;
  let script: string;
  try {
    const res = await httpsGet(url, TIMEOUTS.installerProbe);
    if (res.status !== 200 || !res.body.startsWith("#!")) {
      return { ok: false, note: `official installer ${url} answered HTTP ${res.status}` };
    }
    script = res.body;
  } catch (err) {
    return { ok: false, note: `official installer ${url} unreachable (${(err as Error).message})` };
  }
  log(`installing the official pulumi v${version} into ${dir}`);
  const scriptPath = path.join(dir, "install.sh");
  fs.writeFileSync(scriptPath, script);
  const r = await runCommand("sh", [scriptPath, "--version", version, "--install-root", dir, "--no-edit-path"], {
    env,
    timeoutMs: TIMEOUTS.installer,
    onStderrLine: (l) => l.trim() && log(`  ${l.trim()}`),
  });
  fs.rmSync(scriptPath, { force: true });
  if (r.code !== 0) return { ok: false, note: describeFailure("the official installer", r) };
  if (!hasBinaries(path.join(dir, "bin"))) return { ok: false, note: "the official installer left no pulumi in bin/" };
  return { ok: true, note: "installed by the official installer" };
}

// ---------------------------------------------------------------------------
// Route 4: build from the Go module proxy
// ---------------------------------------------------------------------------

interface GoModInfo {
  goDirective: string;
  /** pkg's own `replace` lines for third-party modules (its local ../sdk replace is dropped). */
  replaces: string[];
}

function parseGoMod(text: string): GoModInfo {
  const goDirective = /^go\s+(\S+)/m.exec(text)?.[1] ?? "1.22";
  const replaces: string[] = [];
  const add = (line: string): void => {
    const l = line.replace(/\/\/.*$/, "").trim();
    if (!l.includes("=>")) return;
    const target = l.split("=>")[1].trim();
    // A local path (./ or ../) points into pulumi's own repository: the matching
    // require of the published module replaces it.
    if (target.startsWith(".") || target.startsWith("/")) return;
    replaces.push(l);
  };
  const block = /^replace\s*\(([\s\S]*?)^\)/gm;
  for (let m = block.exec(text); m; m = block.exec(text)) m[1].split("\n").forEach(add);
  for (const m of text.matchAll(/^replace\s+([^(\n].*)$/gm)) add(m[1]);
  return { goDirective, replaces };
}

async function goVersion(goBin: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await runCommand(goBin, ["version"], { env, timeoutMs: TIMEOUTS.probe });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** Prints a line every PROGRESS_EVERY_MS while a long step runs. */
function heartbeat(log: (l: string) => void, describe: () => string): () => void {
  const started = Date.now();
  const t = setInterval(() => log(`  ${describe()} (${formatDuration(Date.now() - started)} so far)`), PROGRESS_EVERY_MS);
  return () => clearInterval(t);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

async function buildCli(
  version: string,
  dir: string,
  goBin: string,
  env: NodeJS.ProcessEnv,
  log: (l: string) => void,
): Promise<{ ok: boolean; note: string; seconds?: number }> {
  const buildDir = path.join(dir, "build");
  fs.mkdirSync(buildDir, { recursive: true });
  const goEnv = env;
  const tag = `v${version}`;

  log(`fetching ${PKG_MODULE}@${tag} from the Go module proxy`);
  const dl = await runCommand(goBin, ["mod", "download", "-json", `${PKG_MODULE}@${tag}`], {
    cwd: buildDir,
    env: goEnv,
    timeoutMs: TIMEOUTS.modDownload,
  });
  let goModPath: string | undefined;
  try {
    const info = JSON.parse(dl.stdout) as { GoMod?: string; Error?: string };
    if (info.Error) return { ok: false, note: `the Go module proxy refused ${PKG_MODULE}@${tag}: ${info.Error}` };
    goModPath = info.GoMod;
  } catch {
    // fall through to the generic message below
  }
  if (dl.code !== 0 || !goModPath) return { ok: false, note: describeFailure(`go mod download ${PKG_MODULE}@${tag}`, dl) };

  const pkgMod = parseGoMod(fs.readFileSync(goModPath, "utf8"));
  fs.writeFileSync(
    path.join(buildDir, "go.mod"),
    [
      "// Generated by scripts/pulumi/toolchain.ts: builds the pulumi CLI at the SDK's version.",
      "module keywire.local/pulumi-cli-build",
      "",
      `go ${pkgMod.goDirective}`,
      "",
      `require (\n\t${PKG_MODULE} ${tag}\n\t${SDK_MODULE} ${tag}\n)`,
      "",
      ...pkgMod.replaces.map((r) => `replace ${r}`),
      "",
    ].join("\n"),
  );
  fs.writeFileSync(
    path.join(buildDir, "tools.go"),
    `//go:build tools\n\npackage tools\n\nimport _ "${CLI_PACKAGE}"\n`,
  );

  log("resolving the CLI's module graph (go mod tidy; downloads modules on a cold module cache)");
  let downloads = 0;
  const tidyStarted = Date.now();
  const stopTidy = heartbeat(log, () => `go mod tidy: ${downloads} modules downloaded`);
  const tidy = await runCommand(goBin, ["mod", "tidy"], {
    cwd: buildDir,
    env: goEnv,
    timeoutMs: TIMEOUTS.modTidy,
    onStderrLine: (l) => {
      if (l.startsWith("go: downloading")) downloads++;
    },
  });
  stopTidy();
  if (tidy.code !== 0) {
    const refused = /\b(403|404|410)\b|Forbidden|not found/i.test(tidy.stderr);
    return {
      ok: false,
      note: describeFailure(refused ? "go mod tidy (the Go module proxy refused a module)" : "go mod tidy", tidy),
    };
  }

  log(`module graph resolved in ${formatDuration(Date.now() - tidyStarted)} (${downloads} modules downloaded)`);

  const list = await runCommand(goBin, ["list", "-deps", CLI_PACKAGE], { cwd: buildDir, env: goEnv, timeoutMs: TIMEOUTS.modTidy });
  const total = list.code === 0 ? list.stdout.trim().split("\n").length : 0;

  const out = path.join(dir, "bin", "pulumi");
  const tmpOut = `${out}.tmp-${process.pid}`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  log(`building the pulumi CLI ${tag} (${total || "?"} packages): on a cold Go build cache about 13 CPU-minutes (7–8 minutes on 2 idle cores, longer on busy ones) and up to 2.2 GB of memory; seconds when warm`);
  let compiled = 0;
  const started = Date.now();
  const stopBuild = heartbeat(log, () => `go build: ${compiled}${total ? `/${total}` : ""} packages compiled`);
  const build = await runCommand(
    goBin,
    ["build", "-v", "-o", tmpOut, "-ldflags", `-s -w -X ${VERSION_SYMBOL}=${tag}`, CLI_PACKAGE],
    {
      cwd: buildDir,
      env: goEnv,
      timeoutMs: TIMEOUTS.cliBuild,
      // `go build -v` names each package as it compiles it: that is the progress.
      onStderrLine: (l) => {
        if (l && !l.startsWith("#") && !l.includes(" ")) compiled++;
      },
    },
  );
  stopBuild();
  const seconds = Math.round((Date.now() - started) / 1000);
  if (build.code !== 0) {
    fs.rmSync(tmpOut, { force: true });
    return { ok: false, note: describeFailure("go build of the pulumi CLI", build) };
  }
  fs.renameSync(tmpOut, out);
  log(`built the pulumi CLI in ${formatDuration(seconds * 1000)}`);
  return { ok: true, note: "built from the Go module proxy", seconds };
}

async function buildLanguageHost(version: string, dir: string, goBin: string, env: NodeJS.ProcessEnv, log: (l: string) => void): Promise<{ ok: boolean; note: string }> {
  const out = path.join(dir, "bin", "pulumi-language-nodejs");
  const tmpOut = `${out}.tmp-${process.pid}`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  log("building keywire's Node.js language host (tools/language-host)");
  const stop = heartbeat(log, () => "go build: language host");
  // -mod=readonly: the host's go.mod/go.sum are committed and must not change here.
  const r = await runCommand(goBin, ["build", "-mod=readonly", "-o", tmpOut, "-ldflags", `-s -w -X main.version=${version}`, "."], {
    cwd: LANGUAGE_HOST_DIR,
    env,
    timeoutMs: TIMEOUTS.hostBuild,
  });
  stop();
  if (r.code !== 0) {
    fs.rmSync(tmpOut, { force: true });
    return { ok: false, note: describeFailure("go build of tools/language-host", r) };
  }
  fs.renameSync(tmpOut, out);
  return { ok: true, note: "built" };
}

function installDynamicProvider(dir: string): void {
  const out = path.join(dir, "bin", "pulumi-resource-pulumi-nodejs");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.copyFileSync(DYNAMIC_PROVIDER_SCRIPT, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
}

// ---------------------------------------------------------------------------
// The entry point
// ---------------------------------------------------------------------------

function toolchainAt(version: string, route: Route, binDir: string, base: NodeJS.ProcessEnv): Toolchain {
  return { version, route, binDir, pulumi: path.join(binDir, "pulumi"), env: pulumiEnv(binDir, base) };
}

/**
 * Returns a ready toolchain, providing it first if needed. Idempotent: a current cache
 * costs a stamp read; concurrent callers wait for one another on a lock.
 */
export async function ensurePulumi(opts: EnsureOptions = {}): Promise<Toolchain> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[pulumi-setup] ${l}\n`));
  const base = opts.env ?? process.env;
  const version = sdkVersion();
  const dir = cacheDir(version, base);
  const binDir = path.join(dir, "bin");
  const notes: string[] = [];

  if (!opts.force) {
    const onPath = await pulumiOnPath(version, base, binDir);
    if (onPath.bin) return toolchainAt(version, "path", path.dirname(onPath.bin), base);
    notes.push(`PATH: ${onPath.note}`);

    const stale = staleParts(dir, version);
    if (!stale.cli && !stale.languageHost && !stale.dynamicProvider) {
      return toolchainAt(version, readStamp(dir)?.route ?? "go", binDir, base);
    }
  }

  return withLock(dir, log, async () => {
    // Another process may have finished the work while this one waited.
    const stale = opts.force ? { cli: true, languageHost: true, dynamicProvider: true } : staleParts(dir, version);
    if (!stale.cli && !stale.languageHost && !stale.dynamicProvider) {
      return toolchainAt(version, readStamp(dir)?.route ?? "go", binDir, base);
    }
    const previous = readStamp(dir);

    if (stale.cli) {
      log(`no cached pulumi v${version} in ${dir}`);
      const official = await installOfficial(version, dir, base, log);
      if (official.ok) {
        writeStamp(dir, { format: STAMP_FORMAT, version, route: "installer", builtAt: new Date().toISOString() });
        log(`pulumi v${version} ready in ${binDir} (official installer)`);
        return toolchainAt(version, "installer", binDir, base);
      }
      notes.push(`installer: ${official.note}`);
      log(`${official.note}; building from the Go module proxy instead`);
    }

    const goBin = which("go", base);
    const goVer = goBin ? await goVersion(goBin, base) : undefined;
    if (!goBin || !goVer) {
      notes.push("Go: no working `go` on PATH (install Go 1.25 or newer, or put an official pulumi on PATH)");
      throw noRoute(version, notes);
    }
    log(`using ${goVer}`);

    let buildSeconds = previous?.buildSeconds;
    if (stale.cli) {
      const cli = await buildCli(version, dir, goBin, base, log);
      if (!cli.ok) {
        notes.push(`Go: ${cli.note}`);
        throw noRoute(version, notes);
      }
      buildSeconds = cli.seconds;
    }
    if (stale.languageHost || stale.cli) {
      const host = await buildLanguageHost(version, dir, goBin, base, log);
      if (!host.ok) {
        notes.push(`Go: ${host.note}`);
        throw noRoute(version, notes);
      }
    }
    installDynamicProvider(dir);

    const check = await runCommand(path.join(binDir, "pulumi"), ["version"], {
      env: { ...base, PULUMI_SKIP_UPDATE_CHECK: "true" },
      timeoutMs: TIMEOUTS.probe,
    });
    if (check.stdout.trim() !== `v${version}`) {
      notes.push(`Go: the built CLI reports "${check.stdout.trim()}" instead of v${version}`);
      throw noRoute(version, notes);
    }
    writeStamp(dir, {
      format: STAMP_FORMAT,
      version,
      route: "go",
      languageHost: languageHostFingerprint(),
      dynamicProvider: dynamicProviderFingerprint(),
      goVersion: goVer,
      buildSeconds,
      builtAt: new Date().toISOString(),
    });
    log(`pulumi v${version} ready in ${binDir} (built with Go)`);
    return toolchainAt(version, "go", binDir, base);
  });
}

function noRoute(version: string, notes: string[]): ToolchainError {
  return new ToolchainError(
    [
      `Cannot provide the pulumi CLI v${version} (the version of the installed @pulumi/pulumi). Tried:`,
      ...notes.map((n) => `  - ${n}`),
      "See docs/toolchain.md for the routes and what each needs.",
    ].join("\n"),
  );
}
