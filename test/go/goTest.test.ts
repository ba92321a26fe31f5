/**
 * `npm run -s test:go` (part of `npm test`): the language host's Go tests run where
 * `go` is on PATH, and are skipped with a one-line notice where it is not.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand, which } from "../../scripts/shared/process";
import { LANGUAGE_HOST_DIR, goModulesWithTests, runGoTests } from "../../scripts/go/goTest";

const NOTICE = "test:go skipped: no `go` on PATH (the language host's Go tests need Go 1.26.6 or newer)";
const RUN_TIMEOUT_MS = 2 * 60_000;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-gotest-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** This machine's PATH without any directory that holds a `go`. */
function pathWithoutGo(): string {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((d) => d && !fs.existsSync(path.join(d, "go")))
    .join(path.delimiter);
}

/** A `go` that records where and with what it ran, then exits 3. */
function fakeGo(): { binDir: string; record: string } {
  const binDir = path.join(dir, "bin");
  fs.mkdirSync(binDir);
  const record = path.join(dir, "go-called");
  fs.writeFileSync(path.join(binDir, "go"), `#!/bin/sh\necho "$PWD|$*" > "${record}"\nexit 3\n`, { mode: 0o755 });
  return { binDir, record };
}

test("without go on PATH the tests are skipped with one notice and success", async () => {
  const lines: string[] = [];
  const code = await runGoTests({ env: { PATH: path.join(dir, "empty") }, log: (l) => lines.push(l) });
  expect(code).toBe(0);
  expect(lines).toEqual([NOTICE]);
});

test("KEYWIRE_REQUIRE_GO=1 makes a missing go a failure", async () => {
  const lines: string[] = [];
  const code = await runGoTests({ env: { PATH: path.join(dir, "empty"), KEYWIRE_REQUIRE_GO: "1" }, log: (l) => lines.push(l) });
  expect(code).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^test:go: no `go` on PATH, and KEYWIRE_REQUIRE_GO=1 requires/);
});

test("with go on PATH it runs `go test ./...` in tools/language-host first and stops at its failing exit code", async () => {
  const { binDir, record } = fakeGo();
  const lines: string[] = [];
  const code = await runGoTests({ env: { PATH: binDir }, log: (l) => lines.push(l) });
  expect(code).toBe(3);
  expect(fs.readFileSync(record, "utf8").trim()).toBe(`${LANGUAGE_HOST_DIR}|test ./...`);
  expect(lines).toEqual([]);
});

test("every Go program under tools/ with tests has them run, the SNS test server's included", async () => {
  expect(goModulesWithTests()).toEqual([LANGUAGE_HOST_DIR, path.join(path.dirname(LANGUAGE_HOST_DIR), "sns-test-server")]);
  const binDir = path.join(dir, "bin-all");
  fs.mkdirSync(binDir);
  const record = path.join(dir, "go-all");
  fs.writeFileSync(
    path.join(binDir, "go"),
    `#!/bin/sh
echo "$PWD|$*" >> "${record}"
exit 0
`,
    { mode: 0o755 },
  );
  expect(await runGoTests({ env: { PATH: binDir }, log: () => undefined })).toBe(0);
  expect(fs.readFileSync(record, "utf8").trim().split("\n")).toEqual(goModulesWithTests().map((d) => `${d}|test ./...`));
});

test("a go test that runs too long is stopped and fails", async () => {
  const binDir = path.join(dir, "bin");
  fs.mkdirSync(binDir);
  fs.writeFileSync(path.join(binDir, "go"), "#!/bin/sh\nexec sleep 30\n", { mode: 0o755 });
  const lines: string[] = [];
  const code = await runGoTests({ env: { PATH: `${binDir}:/bin:/usr/bin` }, log: (l) => lines.push(l), timeoutMs: 300 });
  expect(code).toBe(1);
  expect(lines[0]).toMatch(/^test:go: go test ran longer than/);
});

test(
  "`npm run -s test:go` on a PATH without go prints the notice and exits 0",
  async () => {
    const npm = which("npm");
    expect(npm).toBeDefined();
    // CI sets KEYWIRE_REQUIRE_GO=1 for the suite itself; this run is about the notice.
    const { KEYWIRE_REQUIRE_GO: _required, ...env } = process.env;
    const r = await runCommand(npm as string, ["run", "-s", "test:go"], {
      cwd: REPO_ROOT,
      env: { ...env, PATH: pathWithoutGo() },
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expect(r.stderr.trim()).toBe(NOTICE);
    expect(r.code).toBe(0);
  },
  RUN_TIMEOUT_MS,
);
