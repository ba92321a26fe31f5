/**
 * actionlint (github.com/rhysd/actionlint), the linter for GitHub Actions workflows,
 * pinned and built once from the Go module proxy into keywire's tool cache
 * (`${KEYWIRE_TOOLS_DIR:-~/.cache/keywire/tools}`, beside the Pulumi CLI), then reused:
 *
 *   npm run -s lint:workflows [-- <actionlint arguments>]
 *
 * Used by test/ops/actionlint.test.ts. Without Go there is nothing to build with: the
 * caller is told so (ensureActionlint's `missing`) instead of failing with "command
 * not found", and the test falls back to its structural checks.
 */
import "../../config/requireNode22";
import * as fs from "fs";
import * as path from "path";
import { formatDuration } from "../shared/duration";
import { REPO_ROOT, toolsDir } from "../shared/paths";
import { runCommand, which } from "../shared/process";

export const ACTIONLINT_VERSION = "1.7.12";
const PACKAGE = "github.com/rhysd/actionlint/cmd/actionlint";
/** A cold module and build cache takes a minute or two on 2 idle cores; a busy machine several times that. */
const BUILD_TIMEOUT_MS = 15 * 60_000;
const PROBE_TIMEOUT_MS = 30_000;
/** Linting a repository's workflows takes seconds; this bounds a hung run. */
const LINT_TIMEOUT_MS = 5 * 60_000;

export type Actionlint =
  | { ok: true; path: string; built: boolean }
  /** `missing`: no Go to build with (a fallback is fine); `failed`: Go is there but the build failed (a real error). */
  | { ok: false; kind: "missing" | "failed"; reason: string };

export function actionlintDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsDir(env), `actionlint-v${ACTIONLINT_VERSION}`);
}

/** Whether `bin` runs and is the pinned version (`actionlint -version` prints it on its first line). */
async function isPinned(bin: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!fs.existsSync(bin)) return false;
  const r = await runCommand(bin, ["-version"], { env, timeoutMs: PROBE_TIMEOUT_MS });
  return r.code === 0 && r.stdout.split("\n")[0].trim().replace(/^v/, "") === ACTIONLINT_VERSION;
}

export interface EnsureActionlintOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress lines (the build can take minutes); defaults to stderr. */
  log?: (line: string) => void;
}

/** The cached actionlint, built first if needed. Never throws for a missing Go or a failed build: it says which. */
export async function ensureActionlint(opts: EnsureActionlintOptions = {}): Promise<Actionlint> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stderr.write(`[actionlint] ${l}\n`));
  const dir = actionlintDir(env);
  const bin = path.join(dir, "actionlint");
  if (await isPinned(bin, env)) return { ok: true, path: bin, built: false };

  const go = which("go", env);
  if (!go) return { ok: false, kind: "missing", reason: "no `go` on PATH to build actionlint with (install Go 1.24 or newer)" };

  // Built into a directory of its own, then renamed into place: a run that is stopped
  // half-way, or two runs at once, never leave a partial binary where the next looks.
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const staging = fs.mkdtempSync(`${dir}.build-`);
  try {
    log(`building actionlint v${ACTIONLINT_VERSION} from the Go module proxy into ${dir}`);
    const started = Date.now();
    const r = await runCommand(go, ["install", `${PACKAGE}@v${ACTIONLINT_VERSION}`], {
      cwd: staging,
      // GOBIN is where `go install` puts the binary; `pkg@version` ignores any go.mod around.
      env: { ...env, GOBIN: staging },
      timeoutMs: BUILD_TIMEOUT_MS,
    });
    if (r.code !== 0) {
      const why = r.timedOut ? `did not finish within ${formatDuration(BUILD_TIMEOUT_MS)}` : r.stderr.trim().split("\n").slice(-5).join("\n");
      return { ok: false, kind: "failed", reason: `go install ${PACKAGE}@v${ACTIONLINT_VERSION} failed: ${why}` };
    }
    fs.mkdirSync(dir, { recursive: true });
    fs.renameSync(path.join(staging, "actionlint"), bin);
    log(`actionlint v${ACTIONLINT_VERSION} ready after ${formatDuration(Date.now() - started)}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  if (!(await isPinned(bin, env))) return { ok: false, kind: "failed", reason: `${bin} does not report version ${ACTIONLINT_VERSION}` };
  return { ok: true, path: bin, built: true };
}

async function main(args: string[]): Promise<number> {
  const tool = await ensureActionlint();
  if (!tool.ok) {
    process.stderr.write(`[actionlint] ${tool.reason}\n`);
    // 127, the shell's "command not found", for a missing Go; 1 for a failed build.
    return tool.kind === "missing" ? 127 : 1;
  }
  // npm runs scripts from the package root: actionlint finds .github/workflows there.
  const r = await runCommand(tool.path, args, { cwd: REPO_ROOT, env: process.env, timeoutMs: LINT_TIMEOUT_MS, output: "inherit" });
  if (r.timedOut) process.stderr.write(`[actionlint] stopped after ${formatDuration(LINT_TIMEOUT_MS)}\n`);
  return r.code ?? 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`[actionlint] ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
