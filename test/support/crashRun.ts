/**
 * A pulumi run killed with SIGKILL at a moment the instance defines, for the crash matrix
 * (test/e2e/crashMatrix*.test.ts): the run talks to the emulator through an InstanceGate,
 * which shuts the moment the instance has answered (committed) the awaited request; then
 * either everything of the run is killed at once — the CLI's process group and every
 * plugin, each of which the engine starts in a group of its own — as when a CI runner is
 * pre-empted, or the CLI alone, as a job timeout does (the rest must then stop by itself).
 */
import { randomUUID } from "crypto";
import { ChildProcess, spawn } from "child_process";
import { LOCAL_STACK, LocalStack } from "./localStack";
import type { PulumiToolchain } from "./pulumiCli";
import type { Exchange, InstanceGate, Moment } from "./instanceGate";
import { GONE_WITHIN_MS, RUN_MARKER_VAR, RunProcess, processesOfRun, sleep, waitFor } from "./killedRun";

/** How long a run may take to reach its moment. */
const MOMENT_WITHIN_MS = 4 * 60_000;

export type KillScope = "group" | "cli";

export interface CrashedRun {
  /** The exchange the run was killed after. */
  moment: Exchange;
  /** The run's processes just before the kill. */
  before: RunProcess[];
  /** The run's processes still alive GONE_WITHIN_MS after the kill (none, when all is well). */
  leftAlive: RunProcess[];
  /** What the CLI printed before it died. */
  output: string;
}

/**
 * `pulumi <args>` of `stack`, killed (`scope`) right after the instance answered the first
 * exchange for which `moment` is true. The gate stays shut until the kill; then its held
 * exchanges are dropped (whole run killed: nobody is left to receive them) or delivered
 * (CLI alone: the instance answers, as it would, whatever the orphans still ask).
 */
export async function crashAt(
  tc: PulumiToolchain,
  stack: LocalStack,
  gate: InstanceGate,
  args: string[],
  moment: Moment,
  scope: KillScope,
): Promise<CrashedRun> {
  const marker = randomUUID();
  let output = "";
  const caught = gate.arm(moment);
  // Detached: the CLI leads a process group of its own, as under a CI runner.
  const cli: ChildProcess = spawn(tc.bin, [...args, "--stack", LOCAL_STACK, "--non-interactive"], {
    cwd: stack.project,
    env: { ...tc.env, ...stack.env, [RUN_MARKER_VAR]: marker },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  cli.stdout?.on("data", (b: Buffer) => (output += b.toString()));
  cli.stderr?.on("data", (b: Buffer) => (output += b.toString()));
  let exited = false;
  cli.on("exit", () => (exited = true));
  let reached: Exchange | undefined;
  void caught.then((x) => (reached = x));
  const kill = (pid: number): void => {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  try {
    await waitFor(() => exited || reached !== undefined, MOMENT_WITHIN_MS);
    if (reached === undefined)
      throw new Error(`the run never reached its moment (exited: ${exited})\nexchanges: ${gate.log.slice(-40).join(", ")}\n${output.slice(-3000)}`);
    const before = processesOfRun(marker);
    if (!before.some((p) => p.pid === cli.pid)) throw new Error(`the run's processes cannot be found by ${RUN_MARKER_VAR}`);
    if (scope === "group") {
      kill(-cli.pid!);
      for (const p of before) kill(p.pid);
      gate.open("drop");
    } else {
      kill(cli.pid!);
      gate.open("deliver");
    }
    await waitFor(() => exited && processesOfRun(marker).length === 0, GONE_WITHIN_MS);
    const leftAlive = processesOfRun(marker);
    // A request a dying provider had on the wire is answered by now.
    await sleep(500);
    return { moment: reached, before, leftAlive, output };
  } finally {
    gate.open("drop");
    // Whatever this run left behind is stopped here, by pid, so no later step meets it.
    if (!exited) kill(cli.pid!);
    for (const p of processesOfRun(marker)) kill(p.pid);
  }
}
