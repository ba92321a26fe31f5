/**
 * keywire's Pulumi toolchain: finds or provides a `pulumi` CLI at least as new as the
 * installed @pulumi/pulumi SDK, plus the environment it runs in.
 *
 * Routes, in order (docs/toolchain.md):
 *   1. a `pulumi` already on PATH at the SDK's version or newer: the team's own CLI,
 *      run with the team's own PULUMI_HOME, login, backend and plugin downloads
 *      (routes/onPath.ts);
 *   2. the cache from an earlier run of this setup, exactly the SDK's version (cache.ts);
 *   3. the official installer, where its host answers (routes/installer.ts);
 *   4. a build from the Go module proxy: the CLI from github.com/pulumi/pulumi/pkg/v3,
 *      keywire's own Node language host (tools/language-host) and keywire's own
 *      dynamic-provider plugin script (routes/goBuild.ts).
 * Routes 2–4 are CLIs keywire provided itself; only they run in keywire's private
 * environment (environment.ts, pulumiEnv). Used by `npm run setup:pulumi`, the `npm run
 * pulumi` wrapper and the end-to-end tests, so all three run the same engine.
 */
import * as path from "path";
import { runCommand, which } from "../../shared/process";
import { cacheDir, readStamp, STAMP_FORMAT, staleParts, withLock, writeStamp } from "./cache";
import { pulumiEnv, readTeamSetup, sdkVersion } from "./environment";
import { PROBE_TIMEOUT_MS, ToolchainError, type Route } from "./route";
import {
  BUILD_COST,
  buildCli,
  buildLanguageHost,
  dynamicProviderFingerprint,
  goVersion,
  hasGoRouteSources,
  installDynamicProvider,
  languageHostFingerprint,
  MIN_GO,
} from "./routes/goBuild";
import { installOfficial } from "./routes/installer";
import { pulumiOnPath } from "./routes/onPath";

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
      timeoutMs: PROBE_TIMEOUT_MS,
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
