/**
 * `npm run build` (and `prepare`): compiles the library into dist/, rewrites its
 * declarations so that none names zod's (scripts/package/declarations.ts), and
 * records the digest of the sources it compiled, taken before the compiler starts.
 * keywire's own checkout loads a provider from dist/ only where that digest is still
 * the sources' (resources/core/providerLoading/loadProvider.js); a failed or interrupted build leaves
 * no digest.
 */
import "../../config/requireNode22";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { formatDuration } from "../shared/duration";
import { runCommand } from "../shared/process";
import { rewriteDeclarations } from "./declarations";

const ROOT = path.resolve(__dirname, "..", "..");
const DIST = path.join(ROOT, "dist");
// Plain JavaScript shared with the provider process: the digest has one definition.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a JavaScript module found by path, typed here
const loader = require(path.join(ROOT, "resources", "core", "providerLoading", "loadProvider.js")) as {
  sourceDigest(root: string): string;
  buildMatchesSources(root: string): boolean;
  BUILD_DIGEST: string;
};
const STAMP = path.join(ROOT, loader.BUILD_DIGEST);
/**
 * How long the compiler may take: far past a build on a loaded machine (under a minute
 * on two shared cores), so only a compiler that hangs is stopped.
 */
export const TSC_TIMEOUT_MS = 10 * 60_000;

/**
 * The build's own steps, which the sources' digest (resources/ and the tsconfigs) does
 * not cover: dist/ built by other steps is not the build of today's checkout either.
 * Not packed, like the sources' digest.
 */
export const STEPS_DIGEST = "dist/build-steps.digest";
const STEPS = ["scripts/package/build.ts", "scripts/package/declarations.ts", "scripts/package/schema.d.ts"];

function stepsDigest(): string {
  const hash = createHash("sha256");
  for (const rel of STEPS)
    hash
      .update(`${rel}\0`)
      .update(fs.readFileSync(path.join(ROOT, rel)))
      .update("\0");
  return hash.digest("hex");
}

/** Whether dist/ was built from the sources as they are now, by the build as it is now (asked afresh, unlike the provider process). */
export function builtFromCurrentSources(): boolean {
  const steps = path.join(ROOT, STEPS_DIGEST);
  return loader.buildMatchesSources(ROOT) && fs.existsSync(steps) && fs.readFileSync(steps, "utf8").trim() === stepsDigest();
}

/** Compiles the library; throws with the compiler's exit status when it fails or runs past its time limit (its output goes to stderr). */
export async function buildLibrary(): Promise<void> {
  const digest = loader.sourceDigest(ROOT);
  const steps = stepsDigest();
  fs.rmSync(STAMP, { force: true });
  fs.rmSync(path.join(ROOT, STEPS_DIGEST), { force: true });
  const tsc = await runCommand(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json", "--listEmittedFiles"], {
    cwd: ROOT,
    timeoutMs: TSC_TIMEOUT_MS,
    maxStdoutBytes: 64 * 1024 * 1024,
    onStderr: (text) => process.stderr.write(text),
  });
  // The emitted files' list is the step's input; everything else tsc says goes to stderr as before.
  const emitted: string[] = [];
  for (const line of (tsc.stdout ?? "").split("\n")) {
    if (line.startsWith("TSFILE: ")) emitted.push(path.resolve(ROOT, line.slice("TSFILE: ".length).trim()));
    else if (line.trim() !== "") process.stderr.write(`${line}\n`);
  }
  if (tsc.timedOut) {
    throw new Error(
      `tsc -p tsconfig.build.json did not finish within ${formatDuration(TSC_TIMEOUT_MS)} and was stopped; dist/ is not marked as built from the current sources. Run \`npm run build\` again once the machine is less busy`,
    );
  }
  if (tsc.code !== 0) throw new Error(`tsc exited ${tsc.code ?? tsc.signal}; dist/ is not marked as built from the current sources`);
  rewriteDeclarations(
    DIST,
    emitted.filter((f) => f.endsWith(".d.ts")),
  );
  fs.writeFileSync(path.join(ROOT, STEPS_DIGEST), `${steps}\n`);
  fs.writeFileSync(STAMP, `${digest}\n`);
}

/** How long a pack waits for another process's build of this checkout. */
export const BUILD_LOCK_WAIT_MS = 5 * 60_000;
const LOCK_POLL_MS = 250;

/** Whether the process holding `lock` has ended (a lock left by a killed build). */
function holderEnded(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(lock, "pid"), "utf8").trim());
  } catch {
    return false; // just released, or its holder has not written its pid yet
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Runs `fn` holding this checkout's build lock (a directory in the temp dir, named by
 * the checkout's path): suites that pack at once would otherwise build into one dist/
 * together, or pack it while another rewrites it. A lock whose process has ended is
 * taken over.
 */
export async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = path.join(os.tmpdir(), `keywire-build-${createHash("sha256").update(ROOT).digest("hex").slice(0, 16)}.lock`);
  const deadline = Date.now() + BUILD_LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (holderEnded(lock)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another build of ${ROOT} held ${lock} for over ${BUILD_LOCK_WAIT_MS / 60_000} minutes`, { cause: err });
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

if (require.main === module) {
  buildLibrary().catch((err: unknown) => {
    process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
