/**
 * The package's command line, compiled: `keywire` (package.json `bin`) is
 * dist/cli/scripts/cli/keywire.js. tsc compiles scripts/cli/keywire.ts and everything it
 * imports, plus the Pulumi CLI wrapper that stackAccess.ts starts as a process of its
 * own, keeping the checkout's layout under dist/cli/ so that their relative imports
 * hold. The library in dist/ is not touched.
 *
 * Part of `npm run build` (and so of `prepare`, which an install from git runs). It
 * records the digest of what it compiled, like the library's build, so that packing can
 * tell a current build from a stale one; the digest is not packed.
 */
import "../../config/requireNode22";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { packageRoot } from "../../config/keywireRoot";
import { formatDuration } from "../shared/duration";
import { runCommand } from "../shared/process";
import { TSC_TIMEOUT_MS } from "./build";

const ROOT = packageRoot(__dirname);
const TSCONFIG = path.join("scripts", "package", "tsconfig.cli.json");
export const CLI_DIR = path.join(ROOT, "dist", "cli");
/** The compiled entry, as package.json `bin` names it. */
export const CLI_ENTRY = path.join(CLI_DIR, "scripts", "cli", "keywire.js");
const STAMP = path.join(CLI_DIR, "sources.digest");
/** Every directory the command line's modules come from, and the compiler settings. */
const SOURCE_DIRS = ["scripts", "emulator", "resources", "config"];
const SETTINGS = ["tsconfig.json", TSCONFIG];

/** A digest of the sources the command line is compiled from, as they are now. */
export function cliSourceDigest(): string {
  const hash = createHash("sha256");
  const add = (rel: string): void => {
    hash
      .update(`${rel}\0`)
      .update(fs.readFileSync(path.join(ROOT, rel)))
      .update("\0");
  };
  const walk = (rel: string): void => {
    const entries = fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = path.join(rel, e.name);
      if (e.isDirectory()) walk(child);
      else if (/\.(ts|js|json)$/.test(e.name)) add(child);
    }
  };
  SETTINGS.forEach(add);
  SOURCE_DIRS.forEach(walk);
  return hash.digest("hex");
}

/** Whether dist/cli was compiled from the sources as they are now. */
export function cliBuiltFromCurrentSources(): boolean {
  return fs.existsSync(STAMP) && fs.existsSync(CLI_ENTRY) && fs.readFileSync(STAMP, "utf8").trim() === cliSourceDigest();
}

/**
 * Lets `npx keywire` in keywire's own checkout find the command as it does in a team's
 * program, where npm links package.json `bin` into node_modules/.bin: npm does not link
 * a package's own bin into its own node_modules. The workflows call `npx keywire …` in
 * both. Skipped where there is no node_modules/.bin (nothing installed).
 */
export function linkCheckoutBin(): void {
  const binDir = path.join(ROOT, "node_modules", ".bin");
  if (!fs.existsSync(binDir)) return;
  const link = path.join(binDir, "keywire");
  const tmp = `${link}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(path.relative(binDir, CLI_ENTRY), tmp);
  fs.renameSync(tmp, link);
}

/** Compiles the command line into dist/cli; throws with the compiler's exit status when it fails or runs past its time limit (its output goes to stderr). */
export async function buildCli(): Promise<void> {
  const digest = cliSourceDigest();
  fs.rmSync(STAMP, { force: true });
  const tsc = await runCommand(process.execPath, [require.resolve("typescript/bin/tsc", { paths: [ROOT] }), "-p", TSCONFIG], {
    cwd: ROOT,
    timeoutMs: TSC_TIMEOUT_MS,
    onStderr: (text) => process.stderr.write(text),
  });
  // All of the compiler's output goes to stderr, its diagnostics (on stdout) included: stdout stays the caller's.
  process.stderr.write(tsc.stdout);
  if (tsc.timedOut) {
    throw new Error(
      `tsc -p ${TSCONFIG} did not finish within ${formatDuration(TSC_TIMEOUT_MS)} and was stopped; dist/cli is not marked as built from the current sources. Run \`npm run build\` again once the machine is less busy`,
    );
  }
  if (tsc.code !== 0) throw new Error(`tsc exited ${tsc.code ?? tsc.signal}; dist/cli is not marked as built from the current sources`);
  // npm makes a package's bin executable when it installs it; the checkout's link needs it too.
  fs.chmodSync(CLI_ENTRY, 0o755);
  linkCheckoutBin();
  fs.writeFileSync(STAMP, `${digest}\n`);
}

if (require.main === module) {
  buildCli().catch((err: unknown) => {
    process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
