/**
 * keywire's cache of the CLIs it provides: one directory per SDK version under the
 * tools dir (`pulumi-v<version>/bin`), a stamp saying which route filled it and from
 * which sources, and a lock so that one setup at a time fills it (jest workers may
 * race here).
 */
import * as fs from "fs";
import * as path from "path";
import { toolsDir } from "../../shared/paths";
import { ToolchainError, type Route } from "./route";
import { dynamicProviderFingerprint, hasGoRouteSources, languageHostFingerprint } from "./routes/goBuild";

export const STAMP_FORMAT = 1;
/** How long a setup waits for another one to finish: longer than the Go route's own
 * bounds (routes/goBuild.ts), so a setup building the CLI is waited out. */
const LOCK_WAIT_MS = 75 * 60_000;

export function cacheDir(version: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsDir(env), `pulumi-v${version}`);
}

export interface Stamp {
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

export function readStamp(dir: string): Stamp | undefined {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(dir, "stamp.json"), "utf8")) as Stamp;
    return stamp.format === STAMP_FORMAT ? stamp : undefined;
  } catch {
    return undefined;
  }
}

export function writeStamp(dir: string, stamp: Stamp): void {
  const tmp = path.join(dir, `stamp.json.${process.pid}`);
  fs.writeFileSync(tmp, JSON.stringify(stamp, null, 2) + "\n");
  fs.renameSync(tmp, path.join(dir, "stamp.json"));
}

const BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"] as const;

export function hasBinaries(binDir: string): boolean {
  return BINARIES.every((b) => fs.existsSync(path.join(binDir, b)));
}

/** What, if anything, must be redone for the cache to be current. */
interface CacheState {
  cli: boolean;
  languageHost: boolean;
  dynamicProvider: boolean;
}

export function staleParts(dir: string, version: string): CacheState {
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

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `fn` holding the lock of cache directory `dir`: one setup at a time per directory;
 * a lock whose process has ended is taken over. */
export async function withLock<T>(dir: string, log: (l: string) => void, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(dir, { recursive: true });
  const lockDir = path.join(dir, ".lock");
  const deadline = Date.now() + LOCK_WAIT_MS;
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
