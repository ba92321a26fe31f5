/**
 * Route 1: a `pulumi` already on PATH at the SDK's version or newer, the team's own
 * CLI, used as it is with the team's own PULUMI_HOME, login, backend and plugin
 * downloads.
 */
import * as path from "path";
import { toolsDir } from "../../../shared/paths";
import { describeFailure, runCommand, whichAll } from "../../../shared/process";
import { PROBE_TIMEOUT_MS, ToolchainError } from "../route";

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
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || (a.pre === b.pre ? 0 : a.pre === "" ? 1 : b.pre === "" ? -1 : a.pre < b.pre ? -1 : 1);
}

/**
 * Route 1: the first `pulumi` on PATH whose version is at least the SDK's, used as it
 * is. CLIs in keywire's own cache do not count: they are routes 2–4 and need keywire's
 * environment. Each one passed over is logged with the reason.
 */
export async function pulumiOnPath(
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
    const r = await runCommand(bin, ["version"], { env: { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" }, timeoutMs: PROBE_TIMEOUT_MS });
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
