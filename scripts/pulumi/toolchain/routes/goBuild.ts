/**
 * Route 4, for machines that reach no Pulumi host: a build from the Go module proxy of
 * the CLI (github.com/pulumi/pulumi/pkg/v3), keywire's own Node language host
 * (tools/language-host) and keywire's own dynamic-provider plugin script, into
 * keywire's cache. Only a checkout has the sources of keywire's parts.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { formatDuration } from "../../../shared/duration";
import { REPO_ROOT } from "../../../shared/paths";
import { describeFailure, runCommand } from "../../../shared/process";
import { PROBE_TIMEOUT_MS } from "../route";

/** Route 4 builds keywire's own parts from these; only a checkout has them (package.json `files`). */
const LANGUAGE_HOST_DIR = path.join(REPO_ROOT, "tools", "language-host");
const DYNAMIC_PROVIDER_SCRIPT = path.join(REPO_ROOT, "resources", "core", "providerLoading", "pulumi-resource-pulumi-nodejs");

const PKG_MODULE = "github.com/pulumi/pulumi/pkg/v3";
const SDK_MODULE = "github.com/pulumi/pulumi/sdk/v3";
const CLI_PACKAGE = `${PKG_MODULE}/cmd/pulumi`;
/** The CLI reports this variable as its version; upstream release builds set it the same way. */
const VERSION_SYMBOL = `${SDK_MODULE}/go/common/version.Version`;

/** Every child process is bounded; a cold build of the CLI takes 7–8 minutes on 2 idle
 * cores and up to three times that on a busy machine (docs/toolchain.md). */
const TIMEOUTS = {
  modDownload: 10 * 60_000,
  modTidy: 20 * 60_000,
  cliBuild: 60 * 60_000,
  hostBuild: 15 * 60_000,
} as const;
const PROGRESS_EVERY_MS = 15_000;
/** pkg/v3's go.mod asks for this Go (v3.276.0: `go 1.26.6`). */
export const MIN_GO = "1.26.6";
/** Measured, docs/toolchain.md: what a build from source costs on a cold Go cache. */
export const BUILD_COST = "about 13 CPU-minutes (8–25 minutes on 2 cores, depending on load) and up to 2.2 GB of memory";

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

/** Whether keywire's own parts of route 4 are here to build: in its checkout, not in an installed package. */
export function hasGoRouteSources(): boolean {
  return fs.existsSync(LANGUAGE_HOST_DIR) && fs.existsSync(DYNAMIC_PROVIDER_SCRIPT);
}

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

export async function goVersion(goBin: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await runCommand(goBin, ["version"], { env, timeoutMs: PROBE_TIMEOUT_MS });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** Prints a line every PROGRESS_EVERY_MS while a long step runs. */
function heartbeat(log: (l: string) => void, describe: () => string): () => void {
  const started = Date.now();
  const t = setInterval(() => log(`  ${describe()} (${formatDuration(Date.now() - started)} so far)`), PROGRESS_EVERY_MS);
  return () => clearInterval(t);
}

export async function buildCli(
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
      "// Generated by scripts/pulumi/toolchain/routes/goBuild.ts: builds the pulumi CLI at the SDK's version.",
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
  fs.writeFileSync(path.join(buildDir, "tools.go"), `//go:build tools\n\npackage tools\n\nimport _ "${CLI_PACKAGE}"\n`);

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
  const build = await runCommand(goBin, ["build", "-v", "-o", tmpOut, "-ldflags", `-s -w -X ${VERSION_SYMBOL}=${tag}`, CLI_PACKAGE], {
    cwd: buildDir,
    env: goEnv,
    timeoutMs: TIMEOUTS.cliBuild,
    // `go build -v` names each package as it compiles it: that is the progress.
    onStderrLine: (l) => {
      if (l && !l.startsWith("#") && !l.includes(" ")) compiled++;
    },
  });
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

export async function buildLanguageHost(
  version: string,
  dir: string,
  goBin: string,
  env: NodeJS.ProcessEnv,
  log: (l: string) => void,
): Promise<{ ok: boolean; note: string }> {
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

export function installDynamicProvider(dir: string): void {
  const out = path.join(dir, "bin", "pulumi-resource-pulumi-nodejs");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.copyFileSync(DYNAMIC_PROVIDER_SCRIPT, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
}
