/**
 * A `pulumi up` whose CLI is killed with SIGKILL mid-run, as a CI timeout or a
 * cancelled job does it: only the CLI's pid, while the emulator holds the run's API-key
 * create. What stayed alive (found in /proc by an environment marker the run carries)
 * and which requests reached the emulator afterwards. For test/e2e/killedCli.test.ts
 * and test/e2e/killedRecovery.test.ts.
 */
import * as fs from "fs";
import { randomUUID } from "crypto";
import { ChildProcess, spawn } from "child_process";
import type { EmulatorMetrics, RunningEmulator } from "../../emulator/servicenow";
import { LOCAL_STACK, LocalStack } from "./localStack";
import type { PulumiToolchain } from "./pulumiCli";

/** Set in the run's environment, which the CLI passes to every process it starts: how this test finds them in /proc. */
export const RUN_MARKER_VAR = "KEYWIRE_E2E_KILLED_RUN";
/** How slowly the emulator answers: long enough that the run is mid-flight when the CLI is killed. */
export const LATENCY_MS = 1_500;
/** How long a run's processes may take to stop once the CLI (or the engine that started them) is gone. */
export const GONE_WITHIN_MS = 10_000;
/** A request already on the wire at the kill may still arrive this long after it. */
const GRACE_MS = 1_000;
/** Once the processes are gone, how long the emulator is watched for late requests: a request
 * waiting on a slow answer at the kill would have been answered, and followed up, by then. */
const QUIET_MS = 3 * LATENCY_MS;
/** How long the run may take to reach the API key's create. */
const KEY_CREATE_WITHIN_MS = 4 * 60_000;
const POLL_MS = 100;

export interface RunProcess {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  cmdline: string;
}

/** The live processes whose environment carries `marker` (zombies have none left, and are not running). */
export function processesOfRun(marker: string): RunProcess[] {
  const entry = `${RUN_MARKER_VAR}=${marker}`;
  const found: RunProcess[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = fs.readFileSync(`/proc/${name}/environ`, "latin1").split("\0");
      if (!env.includes(entry)) continue;
      // The fields after the command name, which may hold spaces and parentheses.
      const stat = fs.readFileSync(`/proc/${name}/stat`, "latin1");
      const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state === "Z" || state === "X") continue;
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, "latin1").split("\0").join(" ").trim();
      found.push({ pid: Number(name), ppid: Number(ppid), pgid: Number(pgid), state, cmdline: cmdline.slice(0, 200) });
    } catch {
      // Gone while being read, or not ours to read.
    }
  }
  return found;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `ready` every POLL_MS until it is true or `withinMs` has passed; whether it became true. */
export async function waitFor(ready: () => boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (ready()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/** The routes whose count grew from `before` to `after`, e.g. { "POST now/table/{table}": 1 }. */
function newRequests(before: EmulatorMetrics, after: EmulatorMetrics): Record<string, number> {
  const grown: Record<string, number> = {};
  for (const [route, n] of Object.entries(after.byRoute)) {
    const was = before.byRoute[route] ?? 0;
    if (n > was) grown[route] = n - was;
  }
  return grown;
}

/** The moment of the kill: the API key's create is on the wire. The provider call that
 * makes it goes on to read the key's token and to probe it, so a provider that outlives
 * the CLI shows up as requests after the kill. */
const KILL_AT_TABLE = "api_key";

function keyCreates(m: EmulatorMetrics): number {
  return m.byTable[KILL_AT_TABLE]?.POST ?? 0;
}

export interface KilledRun {
  /** The run's processes still alive GONE_WITHIN_MS after the kill (none, when all is well). */
  leftAlive: RunProcess[];
  /** The run's processes just before the kill, for the failure message. */
  before: RunProcess[];
  /** Requests the emulator received after the kill plus GRACE_MS. */
  lateRequests: Record<string, number>;
  /** What the CLI printed before it was killed. */
  output: string;
}

/**
 * `pulumi up` of `stack` with `env`, its CLI killed with SIGKILL once the emulator has
 * seen the run's POST of the API key (KILL_AT_TABLE); then what stayed alive and what reached the emulator.
 */
export async function upKilledAtKeyCreate(tc: PulumiToolchain, emu: RunningEmulator, stack: LocalStack, env: NodeJS.ProcessEnv): Promise<KilledRun> {
  const marker = randomUUID();
  const startCreates = keyCreates(emu.metrics());
  let output = "";
  // Detached: the CLI leads a process group of its own, as under a CI runner; only its pid is killed.
  const cli: ChildProcess = spawn(tc.bin, ["up", "--yes", "--skip-preview", "--stack", LOCAL_STACK, "--non-interactive"], {
    cwd: stack.project,
    env: { ...tc.env, ...stack.env, ...env, [RUN_MARKER_VAR]: marker },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  cli.stdout?.on("data", (b: Buffer) => (output += b.toString()));
  cli.stderr?.on("data", (b: Buffer) => (output += b.toString()));
  let exited = false;
  cli.on("exit", () => (exited = true));
  try {
    const wrote = await waitFor(() => exited || keyCreates(emu.metrics()) > startCreates, KEY_CREATE_WITHIN_MS);
    if (!wrote || exited) throw new Error(`the run never created its API key (exited: ${exited})\n${output.slice(-3000)}`);
    const before = processesOfRun(marker);
    process.kill(cli.pid!, "SIGKILL");
    await waitFor(() => exited, GONE_WITHIN_MS);
    await sleep(GRACE_MS);
    const atGrace = emu.metrics();
    await waitFor(() => processesOfRun(marker).length === 0, GONE_WITHIN_MS - GRACE_MS);
    const leftAlive = processesOfRun(marker);
    await sleep(QUIET_MS);
    return { leftAlive, before, lateRequests: newRequests(atGrace, emu.metrics()), output };
  } finally {
    // Whatever this run left behind is stopped here, by pid, so no later test meets it.
    if (!exited) cli.kill("SIGKILL");
    for (const p of processesOfRun(marker)) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
}

/** The run's processes and late requests, for a failure message. */
export function explain(run: KilledRun): string {
  const show = (ps: RunProcess[]): string => ps.map((p) => `  ${p.pid} (ppid ${p.ppid}, pgid ${p.pgid}, ${p.state}) ${p.cmdline}`).join("\n");
  return `before the kill:\n${show(run.before)}\nstill alive:\n${show(run.leftAlive)}\nrequests after the kill: ${JSON.stringify(run.lateRequests)}`;
}
