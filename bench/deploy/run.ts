/**
 * `npm run bench`: keywire through the real Pulumi engine against the bundled
 * ServiceNow emulator with injected latency, beside the bare engine.
 *
 * It packs the checkout and installs the tarball beside bench/deploy/program, a plain
 * JavaScript program that uses the package as a team's program does. For each N it
 * deploys that program (one user, one policy, and N API keys with their inbound
 * profiles and policy links) into a fresh temporary stack, and two programs of the
 * same resources and dependencies with no-op providers into others:
 * bench/deploy/bare waiting out the same minimal round trips (**bare**), and the same
 * program answering at once (**instant**, the engine's own floor). Then it runs `up`,
 * `preview`, `preview --refresh`, `refresh` and `destroy`, each operation by every
 * contender in turn, and measures for each:
 *
 * - ServiceNow calls (from the emulator's metrics) per resource, against the minimum;
 * - wall time against the floor (see `floorMs`), and keywire's against the bare and
 *   the instant engine's (keywire ÷ bare, keywire ÷ instant);
 * - new TCP connections to the instance (through a loopback proxy that charges one
 *   round trip per new connection, as a real instance 50–200 ms away does);
 * - dynamic-provider start-up, the time until its code is ready (deserializing
 *   `__provider`, its handler and configure, where referenced modules load), the
 *   span of the program's closure serialization, and how many of the operation's
 *   provider calls were in flight at once (timingPreload.js, loaded only into these
 *   runs);
 * - peak resident memory and CPU time of the engine, the program and the provider
 *   plugin (sampled from /proc for the pulumi process tree), the largest process, the
 *   CPU time of this process (the emulator), the checkpoint's size after `up`, and the
 *   machine's load average (other work lengthens the times).
 *
 * Then the daily drift check of a demo-sized stack (driftCheck.ts): `keywire drift` on
 * ServiceNowApiKeyAuth's chain beside the bare engine's `preview --refresh` of the same
 * graph.
 *
 * It prints a table per run, the medians with the targets (shown, never asserted), and
 * writes JSON (default .bench/deploy.json). Every run is bounded in time; every process
 * it starts is ended before it returns.
 *
 * Its parts: the command line (args.ts); the operations, contenders, minimum calls and
 * floor (operations.ts); each contender's program and stack (contenders.ts); what
 * timingPreload.js recorded (timing.ts); the printed tables and targets (tables.ts);
 * running and sampling pulumi (measure.ts); the drift check (driftCheck.ts).
 *
 *   npm run bench -- --n 10,50,200,1000 --latency-ms 50 [--parallel 8] [--repeat 3] [--drift-rounds 3] [--json file]
 */
import "../../config/requireNode22";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startServiceNowEmulator, RunningEmulator, EmulatorMetrics } from "../../emulator/servicenow";
import { ensurePulumi } from "../../scripts/pulumi/toolchain/ensurePulumi";
import { sdkVersion } from "../../scripts/pulumi/toolchain/environment";
import { parseArgs, type Args } from "./args";
import { ADMIN_PASSWORD, STACK, checkpointFile, checkpointKb, installKeywire, prepareStage, type Stage } from "./contenders";
import { DriftRound, benchDrift, driftSummary, driftTable } from "./driftCheck";
import { ConnectionProxy, lastLines, log, round1, round2, runPulumi, settle, startProxy } from "./measure";
import { floorMs, minimumCalls, resourceCount, type Operation, type OperationResult } from "./operations";
import { summaryTable, table } from "./tables";
import { readTiming } from "./timing";

/**
 * For one N: each contender's stack, and each operation run by every contender in
 * turn (keywire, then the bare engine, then the instant one), so that all meet the
 * machine's load of the same moment.
 */
async function benchOne(
  n: number,
  round: number,
  args: Args,
  bin: string,
  baseEnv: NodeJS.ProcessEnv,
  parallel: number,
  keywireModules: string | undefined,
): Promise<OperationResult[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `keywire-bench-${n}-`));
  const results: OperationResult[] = [];
  let emu: RunningEmulator | undefined;
  let proxy: ConnectionProxy | undefined;
  try {
    if (args.contenders.includes("keywire")) {
      emu = await startServiceNowEmulator({
        adminPassword: ADMIN_PASSWORD,
        tokenReadback: "input_display_value",
        faults: { latencyMs: args.latencyMs, jitterMs: args.jitterMs },
      });
      proxy = await startProxy(emu.url, args.connectLatencyMs);
    }
    const stages: Stage[] = [];
    for (const c of args.contenders) {
      const dir = path.join(root, c);
      fs.mkdirSync(dir);
      stages.push(await prepareStage(c, dir, n, args, bin, baseEnv, proxy?.url, keywireModules));
    }

    for (const op of args.ops) {
      const opArgs: Record<Operation, string[]> = {
        up: ["up", "--yes", "--skip-preview"],
        preview: ["preview", "--expect-no-changes"],
        "preview --refresh": ["preview", "--refresh", "--expect-no-changes"],
        refresh: ["refresh", "--yes", "--skip-preview"],
        destroy: ["destroy", "--yes", "--skip-preview"],
      };
      const a = [...opArgs[op], "--stack", STACK, "--non-interactive", ...(args.parallel ? ["--parallel", String(args.parallel)] : [])];
      if (args.settleLoad !== undefined) await settle(args.settleLoad);
      for (const stage of stages) {
        if (stage.stopped) continue;
        const c = stage.contender;
        emu?.resetMetrics();
        proxy?.reset();
        fs.rmSync(stage.timingFile, { force: true });
        log(`N=${n} round ${round}: ${c}: pulumi ${opArgs[op].join(" ")} …`);
        const cpuBefore = process.cpuUsage();
        const run = await runPulumi(bin, a, stage.cwd, stage.env, args.timeoutMs);
        const cpuUsed = process.cpuUsage(cpuBefore);
        const metrics: EmulatorMetrics | undefined = c === "keywire" ? emu!.metrics() : undefined;
        const resources = resourceCount(n);
        const floor = floorMs(op, n, args.latencyMs, parallel);
        let error: string | undefined;
        if (run.timedOut) error = `timed out after ${Math.round(args.timeoutMs / 60_000)} min`;
        else if (run.code !== 0) error = `exit ${run.code}: ${lastLines(run.stdout + "\n" + run.stderr, 25)}`;
        else if (c === "keywire") error = verify(op, n, emu!);
        if (args.keep) {
          fs.mkdirSync(args.keep, { recursive: true });
          const name = `${c}-n${n}-${op.replace(/\W+/g, "-")}-${run.startedAt}`;
          if (fs.existsSync(stage.timingFile)) fs.copyFileSync(stage.timingFile, path.join(args.keep, `${name}.jsonl`));
          const state = op === "up" ? checkpointFile(stage.stateDir) : undefined;
          if (state) fs.copyFileSync(state, path.join(args.keep, `${name}.state.json`));
        }
        const calls = metrics?.total ?? 0;
        results.push({
          contender: c,
          round,
          n,
          operation: op,
          exitCode: run.code,
          ok: error === undefined,
          resources,
          calls,
          callsPerResource: round2(calls / resources),
          minimumPerResource: round2(minimumCalls(op, n) / resources),
          callsByTable: metrics?.byTable ?? {},
          callsByRoute: metrics?.byRoute ?? {},
          connections: proxy && c === "keywire" ? proxy.connections() : 0,
          wallMs: run.wallMs,
          floorMs: floor,
          wallOverFloor: floor > 0 ? round2(run.wallMs / floor) : null,
          timing: readTiming(stage.timingFile, run.startedAt),
          memory: run.memory,
          ...(op === "up" ? { stateKb: checkpointKb(stage.stateDir) } : {}),
          benchCpuS: round2((cpuUsed.user + cpuUsed.system) / 1e6),
          loadAverage: round2(os.loadavg()[0]),
          ...(error ? { error } : {}),
        });
        const r = results[results.length - 1];
        log(
          `N=${n}: ${c}: ${op}: ${(r.wallMs / 1000).toFixed(1)} s, ${r.calls} calls, load ${r.loadAverage}${error ? ` — FAILED: ${error.slice(0, 2000)}` : ""}`,
        );
        if (error && op === "up") stage.stopped = true;
      }
      const mine = results.find((r) => r.contender === "keywire" && r.operation === op);
      const bare = results.find((r) => r.contender === "bare" && r.operation === op);
      const instant = results.find((r) => r.contender === "instant" && r.operation === op);
      if (mine?.ok && bare?.ok && bare.wallMs > 0) mine.overBare = round2(mine.wallMs / bare.wallMs);
      if (mine?.ok && instant?.ok && instant.wallMs > 0) mine.overInstant = round2(mine.wallMs / instant.wallMs);
    }
  } finally {
    await proxy?.stop();
    await emu?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
  return results;
}

/** What the emulator holds after an operation must match it, or the numbers mean nothing. */
function verify(op: Operation, n: number, emu: RunningEmulator): string | undefined {
  const count = (table: string, name: RegExp) => emu.store.query(table, (r) => name.test(r.name ?? "")).length;
  const keys = count("api_key", /^keywire bench \d+$/);
  const profiles = count("http_key_auth", /^keywire bench \d+ /);
  if (op === "destroy") return keys + profiles === 0 ? undefined : `${keys} keys and ${profiles} profiles left after destroy`;
  if (keys !== n || profiles !== n) return `expected ${n} keys and profiles, found ${keys} and ${profiles}`;
  return undefined;
}

async function defaultParallelism(bin: string, env: NodeJS.ProcessEnv): Promise<number> {
  const run = await runPulumi(bin, ["up", "--help"], os.tmpdir(), env, 60_000);
  const m = /--parallel int32[^\n]*\(default (\d+)\)/.exec(run.stdout);
  return m ? Number(m[1]) : 8;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tc = await ensurePulumi({ log: (l) => log(`setup: ${l}`) });
  const parallel = args.parallel ?? (await defaultParallelism(tc.pulumi, tc.env));
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGb: round1(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map(round2),
    node: process.version,
    pulumi: sdkVersion(),
  };
  const packageRoot = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-bench-package-"));
  let keywireModules: string | undefined;
  if (args.contenders.includes("keywire")) {
    log("setup: npm pack, and npm install of the tarball beside keywire's program …");
    try {
      keywireModules = await installKeywire(packageRoot, tc.env);
    } catch (err) {
      fs.rmSync(packageRoot, { recursive: true, force: true });
      throw err;
    }
  }
  log(`pulumi ${machine.pulumi}, parallelism ${parallel}, latency ${args.latencyMs} ms per request (+${args.connectLatencyMs} ms per new connection)`);
  const results: OperationResult[] = [];
  const drift: DriftRound[] = [];
  const startedAt = new Date().toISOString();
  try {
    if (args.scenarios.includes("deploy")) {
      for (const [i, n] of args.n.entries()) {
        for (let round = 1; round <= args.repeat[i]; round++) {
          results.push(...(await benchOne(n, round, args, tc.pulumi, tc.env, parallel, keywireModules)));
          writeJson(args, machine, parallel, startedAt, results, drift);
        }
      }
    }
    if (args.scenarios.includes("drift")) {
      if (!keywireModules) throw new Error("bench: the drift check needs keywire among the contenders");
      const settings = {
        latencyMs: args.latencyMs,
        jitterMs: args.jitterMs,
        connectLatencyMs: args.connectLatencyMs,
        timeoutMs: args.timeoutMs,
        settleLoad: args.settleLoad,
        parallel: args.parallel,
      };
      for (let round = 1; round <= args.driftRounds; round++) {
        drift.push(await benchDrift(round, settings, tc.pulumi, tc.env, keywireModules));
        writeJson(args, machine, parallel, startedAt, results, drift);
      }
    }
  } finally {
    fs.rmSync(packageRoot, { recursive: true, force: true });
  }
  if (results.length > 0) {
    process.stdout.write(table(results) + "\n");
    process.stdout.write("\nMedians over the rounds, with the targets (shown, not asserted):\n\n" + summaryTable(results) + "\n");
  }
  if (drift.length > 0) {
    process.stdout.write("\nThe daily drift check of a demo-sized stack, per round:\n\n" + driftTable(drift) + "\n");
    process.stdout.write("\nMedians over the rounds, with the target (shown, not asserted):\n\n" + driftSummary(drift) + "\n");
  }
  writeJson(args, machine, parallel, startedAt, results, drift);
  process.stdout.write(`\nJSON: ${path.relative(process.cwd(), args.json) || args.json}\n`);
  if (results.some((r) => !r.ok) || drift.some((d) => d.error !== undefined)) process.exitCode = 1;
}

function writeJson(args: Args, machine: Record<string, unknown>, parallel: number, startedAt: string, results: OperationResult[], drift: DriftRound[]): void {
  fs.mkdirSync(path.dirname(args.json), { recursive: true });
  const settings = {
    n: args.n,
    latencyMs: args.latencyMs,
    jitterMs: args.jitterMs,
    connectLatencyMs: args.connectLatencyMs,
    parallel,
    ops: args.ops,
    skipCheckpoints: args.skipCheckpoints,
    contenders: args.contenders,
    repeat: args.repeat,
    settleLoad: args.settleLoad,
    scenarios: args.scenarios,
    driftRounds: args.driftRounds,
  };
  fs.writeFileSync(args.json, JSON.stringify({ startedAt, machine, settings, results, drift }, null, 2) + "\n");
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
