/**
 * `npm run -s test:go`: the Go tests of keywire's Go programs (`go test ./...` in each
 * tools/<name> that has tests: the language host, the SNS test server), part of `npm test`. Where no `go` is on PATH they are skipped
 * with a one-line notice, so the rest of `npm test` runs on machines without Go (the
 * host is only built on the Go route, docs/toolchain.md). KEYWIRE_REQUIRE_GO=1 turns
 * the skip into a failure, for CI, which has Go and must not skip silently.
 */
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../shared/paths";
import { runCommand, which } from "../shared/process";

export const LANGUAGE_HOST_DIR = path.join(REPO_ROOT, "tools", "language-host");
const TOOLS_DIR = path.join(REPO_ROOT, "tools");

/** Every Go module under tools/ with a test file, the language host first. */
export function goModulesWithTests(): string[] {
  const dirs = fs
    .readdirSync(TOOLS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => path.join(TOOLS_DIR, d.name))
    .filter((d) => fs.existsSync(path.join(d, "go.mod")) && fs.readdirSync(d).some((f) => f.endsWith("_test.go")));
  return [LANGUAGE_HOST_DIR, ...dirs.filter((d) => d !== LANGUAGE_HOST_DIR).sort()];
}
/** A cold module and build cache makes the first run compile the host's dependencies:
 * minutes on a busy 2-core machine. */
const GO_TEST_TIMEOUT_MS = 30 * 60_000;

export interface GoTestOptions {
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  timeoutMs?: number;
}

/** Runs the Go tests with the caller's stdout/stderr; resolves to the exit code. */
export function runGoTests(opts: GoTestOptions): Promise<number> {
  const go = which("go", opts.env);
  if (!go) {
    if (opts.env.KEYWIRE_REQUIRE_GO === "1") {
      opts.log("test:go: no `go` on PATH, and KEYWIRE_REQUIRE_GO=1 requires the Go tests of tools/ to run");
      return Promise.resolve(1);
    }
    opts.log("test:go skipped: no `go` on PATH (the language host's Go tests need Go 1.26.6 or newer)");
    return Promise.resolve(0);
  }
  const timeoutMs = opts.timeoutMs ?? GO_TEST_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    for (const dir of goModulesWithTests()) {
      const code = await goTestIn(go, dir, opts, Math.max(1, deadline - Date.now()), timeoutMs);
      if (code !== 0) return code;
    }
    return 0;
  })();
}

async function goTestIn(go: string, dir: string, opts: GoTestOptions, remainingMs: number, timeoutMs: number): Promise<number> {
  // Its output is the user's to read: it goes straight to this process's stdout and stderr.
  const r = await runCommand(go, ["test", "./..."], { cwd: dir, env: opts.env, timeoutMs: remainingMs, output: "inherit" });
  if (r.timedOut) opts.log(`test:go: go test ran longer than ${Math.round(timeoutMs / 60_000)} minutes; stopped it`);
  else if (r.code === null && r.signal === null) opts.log(`test:go: could not start ${go}: ${r.stderr.trim()}`);
  return r.code ?? 1;
}

if (require.main === module) {
  runGoTests({ env: process.env, log: (l) => process.stderr.write(`${l}\n`) }).then((code) => process.exit(code));
}
