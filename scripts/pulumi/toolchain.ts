/**
 * keywire's Pulumi toolchain: finds or provides a `pulumi` CLI at least as new as the
 * installed @pulumi/pulumi SDK, plus the environment it runs in.
 *
 * Routes, in order (docs/toolchain.md):
 *   1. a `pulumi` already on PATH at the SDK's version or newer: the team's own CLI,
 *      run with the team's own PULUMI_HOME, login, backend and plugin downloads;
 *   2. the cache from an earlier run of this setup (exactly the SDK's version);
 *   3. the official installer, where its host answers;
 *   4. a build from the Go module proxy: the CLI from github.com/pulumi/pulumi/pkg/v3,
 *      keywire's own Node language host (tools/language-host) and keywire's own
 *      dynamic-provider plugin script.
 * Routes 2–4 are CLIs keywire provided itself; only they run in keywire's private
 * environment (pulumiEnv). Used by `npm run setup:pulumi`, the `npm run pulumi`
 * wrapper and the end-to-end tests, so all three run the same engine.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { isCheckout } from "../../config/keywireRoot";
import { formatDuration } from "../shared/duration";
import { REPO_ROOT, toolsDir } from "../shared/paths";
import { describeFailure, runCommand, which, whichAll } from "../shared/process";

/** Route 4 builds keywire's own parts from these; only a checkout has them (package.json `files`). */
const LANGUAGE_HOST_DIR = path.join(REPO_ROOT, "tools", "language-host");
const DYNAMIC_PROVIDER_SCRIPT = path.join(REPO_ROOT, "scripts", "pulumi", "pulumi-resource-pulumi-nodejs");
/** The checkout's Node 22 (the `node` dev dependency). An installed package has none of its
 * own: the team's Node on PATH already runs keywire, so nothing is put ahead of it. */
const NODE_BIN: string | undefined = isCheckout(REPO_ROOT) ? path.join(REPO_ROOT, "node_modules", ".bin") : undefined;
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
/** pkg/v3's go.mod asks for this Go (v3.276.0: `go 1.26.6`). */
const MIN_GO = "1.26.6";
/** Measured, docs/toolchain.md: what a build from source costs on a cold Go cache. */
const BUILD_COST = "about 13 CPU-minutes (8–25 minutes on 2 cores, depending on load) and up to 2.2 GB of memory";
const STAMP_FORMAT = 1;

/** "path": the team's own CLI; "installer" and "go": a CLI keywire put into its cache. */
export type Route = "path" | "installer" | "go";

export interface Toolchain {
  /** The SDK version, e.g. "3.276.0". */
  version: string;
  /** What the CLI reports, e.g. "v3.276.0": the SDK's version, or newer on route "path". */
  cliVersion: string;
  route: Route;
  /** Directory holding pulumi and its bundled plugins. */
  binDir: string;
  /** Absolute path of the pulumi executable. */
  pulumi: string;
  /** The environment to run it with (see pulumiEnv). */
  env: NodeJS.ProcessEnv;
  /** One line naming the CLI, its version, the route and the environment it runs in. */
  summary: string;
}

export interface EnsureOptions {
  /** Receives progress lines; defaults to stderr so stdout stays the CLI's own. */
  log?: (line: string) => void;
  /** Rebuild or reinstall even if the cache is current. */
  force?: boolean;
  /** Base environment (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** The directory the CLI will run in, where its project (Pulumi.yaml) is looked up;
   * defaults to process.cwd(). */
  cwd?: string;
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

/**
 * The @pulumi/pulumi version installed in node_modules: the one version source. That of
 * the program in `projectDir` where it has its own (the SDK the CLI will run), else the
 * one keywire resolves.
 */
export function sdkVersion(projectDir?: string): string {
  const pkgPath = require.resolve("@pulumi/pulumi/package.json", { paths: projectDir === undefined ? [REPO_ROOT] : [projectDir, REPO_ROOT] });
  const pkg: unknown = JSON.parse(fs.readFileSync(pkgPath, "utf8"));
  const version = (pkg as { version?: unknown }).version;
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+/.test(version)) {
    throw new ToolchainError(`cannot read the @pulumi/pulumi version from ${pkgPath}`);
  }
  return version;
}

export function cacheDir(version: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsDir(env), `pulumi-v${version}`);
}

/** keywire's own PULUMI_HOME (plugins, workspace settings) for the CLIs it provides,
 * shared by versions. */
export function defaultPulumiHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsDir(env), "pulumi-home");
}

/** The local file backend a keywire-provided CLI uses when the caller has chosen none:
 * state stays with the checkout (.tools/ is ignored by git). An installed package is no
 * place for state (the next npm install replaces it): there it is the user's, beside
 * keywire's tools cache. */
export function defaultBackendDir(): string {
  return isCheckout(REPO_ROOT) ? path.join(REPO_ROOT, ".tools", "pulumi-state") : path.join(os.homedir(), ".cache", "keywire", "pulumi-state");
}

/** The file backend needs its directory to exist; make the default one on first use. */
export function ensureBackendDir(env: NodeJS.ProcessEnv): void {
  if (env.PULUMI_BACKEND_URL === `file://${defaultBackendDir()}`) {
    fs.mkdirSync(defaultBackendDir(), { recursive: true });
  }
}

/** What the team already chose, read from disk by readTeamSetup. */
export interface TeamSetup {
  /** `current` in the credentials.json the CLI reads with the caller's environment
   * (PULUMI_CREDENTIALS_PATH, else PULUMI_HOME, else ~/.pulumi): a `pulumi login`. */
  login?: string;
  /** Where that credentials.json is, for messages. */
  credentialsFile?: string;
  /** The project's `backend.url` (Pulumi.yaml), which the CLI prefers to a login. */
  projectBackend?: string;
}

export interface PulumiEnv {
  env: NodeJS.ProcessEnv;
  /** Says which PULUMI_HOME, backend and plugin policy the CLI gets. */
  summary: string;
}

/**
 * The environment the CLI runs with: a pure decision from the route, the caller's
 * environment and what the team has set up.
 *
 * In keywire's checkout every route gets node_modules/.bin first on PATH, so the
 * language host and the dynamic-provider plugin run the project's Node 22, not an older
 * system Node; an installed keywire leaves the team's PATH order as it is.
 *
 * Route "path" (the team's own CLI) gets nothing else: its PULUMI_HOME, login, backend,
 * update check and plugin downloads are the team's.
 *
 * Routes "installer" and "go" (keywire put the CLI into its cache, typically on a
 * machine that reaches no Pulumi host) get keywire's environment: no update check, no
 * automatic plugin download, keywire's own PULUMI_HOME, and a file backend in the
 * checkout. What the team chose still wins, because a different home or backend would
 * show an empty stack whose `up` creates everything a second time: the caller's
 * PULUMI_HOME; ~/.pulumi when it holds a login; and the backend named by
 * PULUMI_BACKEND_URL, Pulumi.yaml's backend.url, a login or PULUMI_ACCESS_TOKEN.
 */
export function pulumiEnv(route: Route, binDir: string, base: NodeJS.ProcessEnv, team: TeamSetup = {}): PulumiEnv {
  const nodeBin = NODE_BIN === undefined ? [] : [NODE_BIN];
  const callerPath = (base.PATH ?? "").split(path.delimiter).filter((p) => p !== "" && p !== NODE_BIN);
  if (route === "path") {
    // The CLI's own directory stays where the caller has it: it may hold other tools
    // (an older node in /usr/bin) that must not move ahead of the caller's choices.
    return {
      env: { ...base, PATH: [...nodeBin, ...callerPath].join(path.delimiter) },
      summary: "the team's own CLI: its PULUMI_HOME, login, backend and plugin downloads",
    };
  }

  const env: NodeJS.ProcessEnv = {
    ...base,
    // The cache holds only pulumi and its plugins: first, so the engine finds
    // keywire's plugins even if another pulumi install is on PATH.
    PATH: [binDir, ...nodeBin, ...callerPath.filter((p) => p !== binDir)].join(path.delimiter),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  let home: string;
  if (base.PULUMI_HOME) {
    home = `PULUMI_HOME ${base.PULUMI_HOME}`;
  } else if (team.login) {
    // Leave PULUMI_HOME unset: the CLI then reads ~/.pulumi, where the login is.
    delete env.PULUMI_HOME;
    home = "PULUMI_HOME ~/.pulumi (it holds your login)";
  } else {
    env.PULUMI_HOME = defaultPulumiHome(base);
    home = `keywire's PULUMI_HOME ${env.PULUMI_HOME}`;
  }
  let backend: string;
  if (base.PULUMI_BACKEND_URL) {
    backend = `backend ${base.PULUMI_BACKEND_URL} (PULUMI_BACKEND_URL)`;
  } else if (team.projectBackend) {
    backend = `backend ${team.projectBackend} (Pulumi.yaml backend.url)`;
  } else if (team.login) {
    backend = `backend ${team.login} (your pulumi login${team.credentialsFile ? ` in ${team.credentialsFile}` : ""})`;
  } else if (base.PULUMI_ACCESS_TOKEN) {
    backend = "backend Pulumi Cloud (PULUMI_ACCESS_TOKEN)";
  } else {
    // Without it the CLI would ask for a Pulumi Cloud login. The directory is made by
    // whoever runs the CLI (ensureBackendDir).
    env.PULUMI_BACKEND_URL = `file://${defaultBackendDir()}`;
    backend = `keywire's file backend ${env.PULUMI_BACKEND_URL}`;
  }
  return { env, summary: `keywire's environment: ${home}, ${backend}, no automatic plugin download` };
}

/** The credentials folder the CLI reads, given the caller's environment (as the SDK's
 * workspace.getCredsFilePath and pulumihome.Dir decide it). */
export function credentialsFile(base: NodeJS.ProcessEnv): string {
  const folder = base.PULUMI_CREDENTIALS_PATH || base.PULUMI_HOME || path.join(base.HOME || os.homedir(), ".pulumi");
  return path.join(folder, "credentials.json");
}

/** The project file the CLI would load when started in `dir`: the nearest Pulumi.yaml
 * (or Pulumi.yml) in `dir` or above it. */
export function findProjectFile(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    for (const name of ["Pulumi.yaml", "Pulumi.yml"]) {
      const f = path.join(d, name);
      if (fs.existsSync(f)) return f;
    }
    if (path.dirname(d) === d) return undefined;
  }
}

/** What projectBackendUrl returns for a `backend:` it cannot read: the CLI may well
 * find a url there, so keywire must not set a backend of its own. */
export const UNREAD_PROJECT_BACKEND = "Pulumi.yaml backend";

/**
 * The `backend.url` of a project file, in the block form Pulumi documents (`backend:`
 * then an indented `url: …`) or the flow form (`backend: { url: … }`); undefined when
 * the project names none, or an empty one, since the CLI then goes on to the login.
 * A line-level read, not a YAML parser (keywire's runtime has no YAML dependency):
 * a top-level `backend:` written in a form it does not follow (a tag, an alias, a
 * block scalar, a url on the line below, a mapping spread over lines) gives
 * UNREAD_PROJECT_BACKEND.
 */
export function projectBackendUrl(projectYaml: string): string | undefined {
  const lines = projectYaml.split(/\r?\n/);
  const at = lines.findIndex((l) => /^backend\s*:/.test(l));
  if (at < 0) return undefined;
  const uncomment = (v: string): string => v.replace(/(^|\s)#.*$/, "").trim();
  // The url's value: a quoted or plain scalar on its line. Anything else (a tag !, an
  // anchor &, an alias *, a block scalar | >, a collection, an unclosed quote) is unread.
  const value = (raw: string): string | undefined => {
    const quoted = /^\s*(["'])(.*?)\1\s*(?:#.*)?$/.exec(raw);
    const v = quoted ? quoted[2] : uncomment(raw);
    if (!quoted && /^[!&*|>{["']/.test(v)) return UNREAD_PROJECT_BACKEND;
    return v === "" ? undefined : v;
  };
  const rest = uncomment(lines[at].replace(/^backend\s*:/, ""));
  if (rest.startsWith("{")) {
    const flow = /^\{([^}]*)\}$/.exec(rest);
    if (!flow) return UNREAD_PROJECT_BACKEND;
    const url = /(?:^|,)\s*url\s*:([^,]*)/.exec(flow[1]);
    return url ? value(url[1]) : undefined;
  }
  if (rest !== "") return UNREAD_PROJECT_BACKEND;
  for (let i = at + 1; i < lines.length; i++) {
    if (/^\S/.test(lines[i])) break; // the next top-level key: the backend block ended
    const m = /^(\s+)url\s*:(.*)$/.exec(lines[i]);
    if (!m) continue;
    // `url:` alone with a deeper line below: the value is on that line.
    const next = lines[i + 1] ?? "";
    const continued = next.trim() !== "" && next.length - next.trimStart().length > m[1].length;
    if (uncomment(m[2]) === "" && continued) return UNREAD_PROJECT_BACKEND;
    return value(m[2]);
  }
  return undefined;
}

/** Reads the team's login and the project's backend for pulumiEnv. Unreadable or
 * malformed files count as absent: the CLI itself reports them when it runs. */
export function readTeamSetup(base: NodeJS.ProcessEnv, cwd: string): TeamSetup {
  const team: TeamSetup = {};
  const creds = credentialsFile(base);
  try {
    const current = (JSON.parse(fs.readFileSync(creds, "utf8")) as { current?: unknown }).current;
    if (typeof current === "string" && current !== "") {
      team.login = current;
      team.credentialsFile = creds;
    }
  } catch {
    // no credentials.json, or not JSON: no login
  }
  const project = findProjectFile(cwd);
  if (project) {
    try {
      const url = projectBackendUrl(fs.readFileSync(project, "utf8"));
      if (url) team.projectBackend = url;
    } catch {
      // unreadable: the CLI will say so
    }
  }
  return team;
}

/**
 * The environment for one CLI command. `pulumi login <url>` records the caller's own
 * choice of backend, so it runs without keywire's defaults: without the file backend
 * (the CLI would warn that PULUMI_BACKEND_URL conflicts with the login URL) and
 * without keywire's PULUMI_HOME, so the login lands in the credentials.json that
 * readTeamSetup reads, and later commands follow it. What the caller set is kept.
 */
export function envForCommand(args: string[], env: NodeJS.ProcessEnv, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const loginTo = args[0] === "login" && args.slice(1).some((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a));
  if (!loginTo) return env;
  const out = { ...env };
  if (!base.PULUMI_BACKEND_URL && out.PULUMI_BACKEND_URL === `file://${defaultBackendDir()}`) delete out.PULUMI_BACKEND_URL;
  if (!base.PULUMI_HOME && out.PULUMI_HOME === defaultPulumiHome(base)) delete out.PULUMI_HOME;
  return out;
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

/** Whether keywire's own parts of route 4 are here to build: in its checkout, not in an installed package. */
function hasGoRouteSources(): boolean {
  return fs.existsSync(LANGUAGE_HOST_DIR) && fs.existsSync(DYNAMIC_PROVIDER_SCRIPT);
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
  if (!hasGoRouteSources()) {
    // A cache a checkout built serves an installed keywire as it is: it has no sources
    // to compare with, nor to rebuild from.
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

interface Semver {
  major: number;
  minor: number;
  patch: number;
  /** "" for a release; "alpha.1" etc. for a pre-release, which sorts before it. */
  pre: string;
}

/** Reads "v3.276.0", "3.276.0" or "v3.277.0-alpha.5+dirty" (what `pulumi version` prints). */
export function parseVersion(text: string): Semver | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ?? "" };
}

/** Negative when a < b, 0 when equal, positive when a > b; pre-releases compare as
 * text, which is enough to place any of them before their release. */
export function compareVersions(a: Semver, b: Semver): number {
  return (
    a.major - b.major ||
    a.minor - b.minor ||
    a.patch - b.patch ||
    (a.pre === b.pre ? 0 : a.pre === "" ? 1 : b.pre === "" ? -1 : a.pre < b.pre ? -1 : 1)
  );
}

/**
 * Route 1: the first `pulumi` on PATH whose version is at least the SDK's, used as it
 * is. CLIs in keywire's own cache do not count: they are routes 2–4 and need keywire's
 * environment. Each one passed over is logged with the reason.
 */
async function pulumiOnPath(
  version: string,
  env: NodeJS.ProcessEnv,
  log: (l: string) => void,
): Promise<{ bin?: string; cliVersion?: string; note: string }> {
  const wanted = parseVersion(version);
  if (!wanted) throw new ToolchainError(`the @pulumi/pulumi version ${version} is not a version`);
  const ownCache = path.resolve(toolsDir(env)) + path.sep;
  const candidates = whichAll("pulumi", env).filter((bin) => !path.resolve(bin).startsWith(ownCache));
  if (candidates.length === 0) return { note: "no pulumi on PATH" };
  const notes: string[] = [];
  for (const bin of candidates) {
    const r = await runCommand(bin, ["version"], { env: { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" }, timeoutMs: TIMEOUTS.probe });
    const found = r.stdout.trim();
    const parsed = parseVersion(found);
    let note: string;
    if (r.code !== 0) note = describeFailure(`${bin} version`, r);
    else if (!parsed) note = `${bin} printed "${found.slice(0, 80)}", not a version`;
    else if (compareVersions(parsed, wanted) < 0) note = `${bin} is ${found}, older than the SDK's v${version}`;
    else return { bin, cliVersion: found, note: `using ${bin} (${found})` };
    log(`${note}: not using it`);
    notes.push(note);
  }
  return { note: notes.join("; ") };
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
  log(`building the pulumi CLI ${tag} (${total || "?"} packages); seconds when the Go build cache is warm`);
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

/** What the announcement line calls each route. */
const ROUTE_LABEL: Record<Route, string> = {
  path: "route: PATH",
  installer: "route: the official installer, kept in keywire's cache",
  go: "route: built from the Go module proxy, kept in keywire's cache",
};

interface Provided {
  route: Route;
  binDir: string;
  cliVersion: string;
}

/**
 * Returns a ready toolchain, providing it first if needed, and logs one line naming
 * the CLI, its version, the route and the environment. Idempotent: a current cache
 * costs a stamp read; concurrent callers wait for one another on a lock.
 */
export async function ensurePulumi(opts: EnsureOptions = {}): Promise<Toolchain> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[pulumi-setup] ${l}\n`));
  const base = opts.env ?? process.env;
  const version = sdkVersion(opts.cwd ?? process.cwd());
  const provided = await provide(version, base, log, opts.force === true);
  const pulumi = path.join(provided.binDir, "pulumi");
  // The team's files matter only where keywire would otherwise choose for it.
  const team = provided.route === "path" ? {} : readTeamSetup(base, opts.cwd ?? process.cwd());
  const decided = pulumiEnv(provided.route, provided.binDir, base, team);
  const summary = `using ${pulumi} ${provided.cliVersion} (${ROUTE_LABEL[provided.route]}; ${decided.summary})`;
  log(summary);
  return { version, cliVersion: provided.cliVersion, route: provided.route, binDir: provided.binDir, pulumi, env: decided.env, summary };
}

async function provide(version: string, base: NodeJS.ProcessEnv, log: (l: string) => void, force: boolean): Promise<Provided> {
  const dir = cacheDir(version, base);
  const binDir = path.join(dir, "bin");
  const tag = `v${version}`;
  const notes: string[] = [];
  const cached = (): Provided => ({ route: readStamp(dir)?.route ?? "go", binDir, cliVersion: tag });

  if (!force) {
    const onPath = await pulumiOnPath(version, base, log);
    if (onPath.bin && onPath.cliVersion) return { route: "path", binDir: path.dirname(onPath.bin), cliVersion: onPath.cliVersion };
    notes.push(`PATH: ${onPath.note}`);

    const stale = staleParts(dir, version);
    if (!stale.cli && !stale.languageHost && !stale.dynamicProvider) return cached();
  }

  return withLock(dir, log, async () => {
    // Another process may have finished the work while this one waited.
    const stale = force ? { cli: true, languageHost: true, dynamicProvider: true } : staleParts(dir, version);
    if (!stale.cli && !stale.languageHost && !stale.dynamicProvider) return cached();
    const previous = readStamp(dir);

    if (stale.cli) {
      log(`no cached pulumi ${tag} in ${dir}`);
      const official = await installOfficial(version, dir, base, log);
      if (official.ok) {
        writeStamp(dir, { format: STAMP_FORMAT, version, route: "installer", builtAt: new Date().toISOString() });
        log(`pulumi ${tag} ready in ${binDir} (official installer)`);
        return { route: "installer", binDir, cliVersion: tag };
      }
      notes.push(`installer: ${official.note}`);
      log(`${official.note}; building from the Go module proxy instead`);
    }

    if (!hasGoRouteSources()) {
      notes.push(`Go: not from an installed keywire (the build needs tools/language-host from keywire's repository); put a pulumi ${tag} or newer on PATH`);
      throw noRoute(version, notes);
    }
    const goBin = which("go", base);
    const goVer = goBin ? await goVersion(goBin, base) : undefined;
    if (!goBin || !goVer) {
      notes.push(`Go: no working \`go\` on PATH (install Go ${MIN_GO}+, or put a pulumi ${tag} or newer on PATH)`);
      throw noRoute(version, notes);
    }
    if (stale.cli) {
      log(
        `building pulumi ${tag} from source with ${goVer}, the route for machines that reach no Pulumi host: ` +
          `${BUILD_COST}, once (cached in ${dir}); a pulumi ${tag} or newer on PATH makes this unnecessary`,
      );
    } else {
      log(`using ${goVer}`);
    }

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
    if (check.stdout.trim() !== tag) {
      notes.push(`Go: the built CLI reports "${check.stdout.trim()}" instead of ${tag}`);
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
    log(`pulumi ${tag} ready in ${binDir} (built with Go)`);
    return { route: "go", binDir, cliVersion: tag };
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
