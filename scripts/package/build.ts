/**
 * `npm run build` (and `prepare`): compiles the library into dist/ and records the
 * digest of the sources it compiled, taken before the compiler starts. keywire's own
 * checkout loads a provider from dist/ only where that digest is still the sources'
 * (resources/core/loadProvider.js); a failed or interrupted build leaves no digest.
 */
import "../tools/preflight";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
// Plain JavaScript shared with the provider process: the digest has one definition.
const loader = require(path.join(ROOT, "resources", "core", "loadProvider.js")) as {
  sourceDigest(root: string): string;
  buildMatchesSources(root: string): boolean;
  BUILD_DIGEST: string;
};
const STAMP = path.join(ROOT, loader.BUILD_DIGEST);

/** Whether dist/ was built from the sources as they are now (asked afresh, unlike the provider process). */
export function builtFromCurrentSources(): boolean {
  return loader.buildMatchesSources(ROOT);
}

/** Compiles the library; throws with the compiler's exit status when it fails (its output goes to stderr). */
export function buildLibrary(): void {
  const digest = loader.sourceDigest(ROOT);
  fs.rmSync(STAMP, { force: true });
  const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
  if (tsc.status !== 0) throw new Error(`tsc exited ${tsc.status ?? tsc.signal}; dist/ is not marked as built from the current sources`);
  fs.writeFileSync(STAMP, `${digest}\n`);
}

if (require.main === module) {
  try {
    buildLibrary();
  } catch (err) {
    process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
