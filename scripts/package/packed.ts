/**
 * keywire as a team gets it: `npm pack` of the checkout, installed with `npm install`
 * into a program of its own. Used by the package's end-to-end test and by the
 * benchmark, so both run exactly what a team installs.
 *
 * The program's other dependencies resolve through the checkout's lockfile, so npm
 * takes each tarball from the cache the checkout's own install filled (offline where
 * it can).
 */
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../shared/paths";
import { runCommand } from "../shared/process";
import { buildLibrary, builtFromCurrentSources, withBuildLock } from "./build";
import { buildCli, cliBuiltFromCurrentSources } from "./buildCli";

/** npm install may resolve from the registry where the cache lacks a tarball: minutes, not hours. */
export const NPM_TIMEOUT_MS = 4 * 60_000;

export interface PackedKeywire {
  /** The tarball's path. */
  tarball: string;
  /** The files it holds, relative to the package root. */
  files: string[];
}

async function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const res = await runCommand("npm", args, { cwd, env, timeoutMs: NPM_TIMEOUT_MS });
  if (res.code !== 0) {
    throw new Error(`npm ${args.join(" ")} in ${cwd} exited ${res.code}${res.timedOut ? " (timed out)" : ""}\n${res.stderr.slice(-3000)}`);
  }
  return res.stdout;
}

/**
 * Packs the checkout into `dest`. The build in dist/ is packed as it is where it was
 * built from the current sources (npm ci and npm test build): packing must not rewrite
 * dist/ under the provider processes of other suites running from this checkout.
 * Build and pack hold the build lock, so suites packing at once build dist/ once. The
 * command line (dist/cli) is rebuilt the same way, where its own sources changed.
 */
export async function packKeywire(dest: string, env: NodeJS.ProcessEnv): Promise<PackedKeywire> {
  return withBuildLock(async () => {
    if (!builtFromCurrentSources()) await buildLibrary();
    if (!cliBuiltFromCurrentSources()) await buildCli();
    const out = await npm(["pack", "--json", "--ignore-scripts", "--pack-destination", dest], REPO_ROOT, env);
    const [info] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
    return { tarball: path.join(dest, info.filename), files: info.files.map((f) => f.path) };
  });
}

/** Installs `tarball` into the program at `project` (which holds its own package.json). */
export async function installPacked(project: string, tarball: string, env: NodeJS.ProcessEnv): Promise<void> {
  fs.copyFileSync(path.join(REPO_ROOT, "package-lock.json"), path.join(project, "package-lock.json"));
  await npm(["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], project, env);
}
