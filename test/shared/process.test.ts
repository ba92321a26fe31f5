/**
 * The one process runner (scripts/shared/process.ts): a timeout stops the command's
 * whole process group, and the processes it is told to stop with it; SIGTERM first when
 * given a grace; captured output is capped; "inherit" hands the output on uncaptured;
 * a command that cannot start is a result, not a throw.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";

/** Long enough for sh to start its children on a busy machine; the commands below would otherwise run 60 s. */
const TIMEOUT_MS = 3_000;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-process-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Whether `pid` still runs: a zombie (ended, not yet reaped by whoever inherited it) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Waits (bounded) until `pid` has ended: a signal takes a moment to land. */
async function ended(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

test("a timeout kills the command and what it started, in its process group", async () => {
  const pidFile = path.join(dir, "child.pid");
  let spawned: number | undefined;
  const r = await runCommand("sh", ["-c", `sleep 60 & echo $! > "${pidFile}"; wait`], {
    timeoutMs: TIMEOUT_MS,
    onSpawn: (pid) => (spawned = pid),
  });
  expect(r.timedOut).toBe(true);
  expect(r.code).toBeNull();
  expect(r.signal).toBe("SIGKILL");
  expect(spawned).toBeGreaterThan(0);
  expect(await ended(Number(fs.readFileSync(pidFile, "utf8")))).toBe(true);
});

test("with a grace, a timeout sends SIGTERM first, so the command can end on its own", async () => {
  const r = await runCommand("sh", ["-c", `trap 'echo stopping; exit 5' TERM; sleep 60 & wait`], { timeoutMs: TIMEOUT_MS, killGraceMs: 30_000 });
  expect(r.timedOut).toBe(true);
  expect(r.code).toBe(5);
  expect(r.stdout).toBe("stopping\n");
});

test("processes outside the group named by alsoSignal are stopped with it", async () => {
  // A process group of its own, as the Pulumi engine gives each plugin.
  const other = await runCommand("sh", ["-c", `sleep 60 >/dev/null 2>&1 & echo $!`], { timeoutMs: 10_000 });
  const pid = Number(other.stdout.trim());
  try {
    expect(alive(pid)).toBe(true);
    const r = await runCommand("sleep", ["60"], { timeoutMs: TIMEOUT_MS, alsoSignal: () => [pid] });
    expect(r.timedOut).toBe(true);
    expect(await ended(pid)).toBe(true);
  } finally {
    if (alive(pid)) process.kill(pid, "SIGKILL");
  }
});

test("stdout past maxStdoutBytes is dropped and marked; input reaches stdin", async () => {
  const r = await runCommand("sh", ["-c", "cat; head -c 100000 /dev/zero"], { timeoutMs: 10_000, input: "hello", maxStdoutBytes: 1_000 });
  expect(r.code).toBe(0);
  expect(r.stdoutTruncated).toBe(true);
  expect(r.stdout.startsWith("hello")).toBe(true);
  expect(r.stdout.length).toBeLessThanOrEqual(1_000);
});

test('output "inherit" hands the output to this process instead of capturing it', async () => {
  // Run the runner in a child whose own stdout is captured: the grandchild's line must arrive there.
  const script = `require(${JSON.stringify(path.join(REPO_ROOT, "scripts", "shared", "process.ts"))})
    .runCommand("sh", ["-c", "echo passed on; exit 3"], { timeoutMs: 10000, output: "inherit" })
    .then((r) => { console.log(JSON.stringify({ code: r.code, captured: r.stdout })); });`;
  const r = await runCommand(path.join(REPO_ROOT, "node_modules", ".bin", "ts-node"), ["--transpile-only", "-e", script], {
    cwd: REPO_ROOT,
    timeoutMs: 60_000,
  });
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split("\n");
  expect(lines[0]).toBe("passed on");
  expect(JSON.parse(lines[1])).toEqual({ code: 3, captured: "" });
}, 90_000);

test("a command that cannot start is a result with no exit code, not a throw", async () => {
  const r = await runCommand(path.join(dir, "no-such-command"), [], { timeoutMs: 10_000 });
  expect(r.code).toBeNull();
  expect(r.timedOut).toBe(false);
  expect(r.stderr).toMatch(/ENOENT/);
});
