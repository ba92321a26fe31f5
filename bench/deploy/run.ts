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
 *   npm run bench -- --n 10,50,200,1000 --latency-ms 50 [--parallel 8] [--repeat 3] [--drift-rounds 3] [--json file]
 */
import "../../scripts/tools/preflight";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startServiceNowEmulator, RunningEmulator, EmulatorMetrics } from "../../emulator/servicenow";
import { ensurePulumi } from "../../scripts/pulumi/toolchain/ensurePulumi";
import { sdkVersion } from "../../scripts/pulumi/toolchain/environment";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { installPacked, packKeywire } from "../../scripts/package/packed";
import { ConnectionProxy, MemoryReport, lastLines, log, markdownTable, median, medianWithRange, round1, round2, runPulumi, settle, startProxy } from "./measure";
import { DriftRound, benchDrift, driftSummary, driftTable } from "./driftCheck";

const ADMIN_PASSWORD = "bench-Adm1n-pw";
const STACK = "bench";
const OPERATIONS = ["up", "preview", "preview --refresh", "refresh", "destroy"] as const;
type Operation = (typeof OPERATIONS)[number];
/**
 * keywire's program (bench/deploy/program) and the bare engine's (bench/deploy/bare):
 * the same resources and dependencies, with no-op providers that wait out the same
 * minimal round trips instead of making them (`bare`), or that answer at once
 * (`instant`: what the engine alone costs for the graph).
 */
const CONTENDERS = ["keywire", "bare", "instant"] as const;
type Contender = (typeof CONTENDERS)[number];
const SCENARIOS = ["deploy", "drift"] as const;
type Scenario = (typeof SCENARIOS)[number];

// ---------------------------------------------------------------- arguments

interface Args {
  n: number[];
  latencyMs: number;
  jitterMs: number;
  /** Extra latency charged once per new TCP connection (default: one round trip = latencyMs). */
  connectLatencyMs: number;
  /** Engine parallelism; undefined = the CLI's default. */
  parallel: number | undefined;
  json: string;
  timeoutMs: number;
  ops: Operation[];
  /** Diagnosis only: run the engine with PULUMI_SKIP_CHECKPOINTS=true (no state written between steps). */
  skipCheckpoints: boolean;
  /** The programs to run: keywire's, the bare engine's with the same graph, the instant one. */
  contenders: Contender[];
  /** Diagnosis: a directory to keep each run's timing events (timingPreload.js's JSON lines) and the state after `up` in. */
  keep: string | undefined;
  /** Rounds per N (one number for all, or one per N), each on fresh stacks; the summary gives medians (the machine's other work varies). */
  repeat: number[];
  /** Before each operation, wait (up to 5 minutes) until the 1-minute load average is at most this. */
  settleLoad: number | undefined;
  /** What runs: the N-key deployments, the demo-sized drift check, or both. */
  scenarios: Scenario[];
  /** Rounds of the drift check, each on fresh stacks. */
  driftRounds: number;
}

function usage(message?: string): never {
  if (message) process.stderr.write(`bench: ${message}\n`);
  process.stderr.write(
    "usage: npm run bench -- [--n 10,50,200,1000] [--latency-ms 50] [--jitter-ms 0] [--connect-latency-ms <latency>]\n" +
      "                        [--parallel <engine parallelism>] [--json .bench/deploy.json] [--timeout-min 90]\n" +
      "                        [--ops up,preview,preview-refresh,refresh,destroy] [--skip-checkpoints]\n" +
      "                        [--contenders keywire,bare,instant] [--repeat 1|<per N: 3,3,3,1>] [--settle-load <load>] [--keep <dir>]\n" +
      "                        [--scenarios deploy,drift] [--drift-rounds 3]\n",
  );
  process.exit(2);
}

/** `--repeat 3` for every N, or `--repeat 3,3,3,1` one per N (fewer rounds where a round takes long). */
function repeatPerN(value: string | undefined, n: number[]): number[] {
  const parts = (value ?? "1").split(",").map((x) => Number(x.trim()));
  if (parts.some((x) => !Number.isInteger(x) || x < 1 || x > 20)) usage("--repeat takes whole numbers from 1 to 20");
  if (parts.length === 1) return n.map(() => parts[0]);
  if (parts.length !== n.length) usage("--repeat takes one number, or one per N given by --n");
  return parts;
}

function parseArgs(argv: string[]): Args {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") usage();
    if (!a.startsWith("--")) usage(`unexpected argument ${a}`);
    if (a === "--skip-checkpoints") {
      values.set("skip-checkpoints", "true");
      continue;
    }
    const eq = a.indexOf("=");
    if (eq > 0) values.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      values.set(a.slice(2), argv[++i]);
    }
  }
  const known = [
    "n",
    "latency-ms",
    "jitter-ms",
    "connect-latency-ms",
    "parallel",
    "json",
    "timeout-min",
    "ops",
    "skip-checkpoints",
    "contenders",
    "keep",
    "repeat",
    "settle-load",
    "scenarios",
    "drift-rounds",
  ];
  for (const k of values.keys()) if (!known.includes(k)) usage(`unknown option --${k}`);
  const num = (k: string, def: number | undefined, min: number, max: number): number | undefined => {
    const v = values.get(k);
    if (v === undefined) return def;
    const x = Number(v);
    if (!Number.isFinite(x) || x < min || x > max) usage(`--${k} must be a number from ${min} to ${max}`);
    return x;
  };
  const n = (values.get("n") ?? "10,50,200,1000").split(",").map((s) => Number(s.trim()));
  if (n.some((x) => !Number.isInteger(x) || x < 1 || x > 2000)) usage("--n takes integers from 1 to 2000, comma-separated");
  const latencyMs = num("latency-ms", 50, 0, 10_000)!;
  const opNames: Record<string, Operation> = { up: "up", preview: "preview", "preview-refresh": "preview --refresh", refresh: "refresh", destroy: "destroy" };
  const ops = (values.get("ops") ?? "up,preview,preview-refresh,refresh,destroy").split(",").map((s) => {
    const op = opNames[s.trim()];
    if (!op) usage(`--ops takes up, preview, preview-refresh, refresh, destroy`);
    return op;
  });
  if (ops.some((o) => o !== "up") && !ops.includes("up")) usage("--ops needs up before anything else");
  const parallel = num("parallel", undefined, 1, 1000);
  const contenders = (values.get("contenders") ?? CONTENDERS.join(",")).split(",").map((s) => s.trim());
  if (contenders.length === 0 || contenders.some((c) => !(CONTENDERS as readonly string[]).includes(c))) usage("--contenders takes keywire, bare, instant");
  const scenarios = (values.get("scenarios") ?? SCENARIOS.join(",")).split(",").map((s) => s.trim());
  if (scenarios.length === 0 || scenarios.some((c) => !(SCENARIOS as readonly string[]).includes(c))) usage("--scenarios takes deploy, drift");
  const keep = values.get("keep");
  return {
    n,
    latencyMs,
    jitterMs: num("jitter-ms", 0, 0, 10_000)!,
    connectLatencyMs: num("connect-latency-ms", latencyMs, 0, 10_000)!,
    parallel: parallel === undefined ? undefined : Math.floor(parallel),
    json: path.resolve(REPO_ROOT, values.get("json") ?? path.join(".bench", "deploy.json")),
    timeoutMs: num("timeout-min", 90, 1, 240)! * 60_000,
    ops: OPERATIONS.filter((o) => ops.includes(o)),
    skipCheckpoints: values.get("skip-checkpoints") === "true",
    contenders: CONTENDERS.filter((c) => contenders.includes(c)),
    keep: keep === undefined ? undefined : path.resolve(REPO_ROOT, keep),
    repeat: repeatPerN(values.get("repeat"), n),
    settleLoad: num("settle-load", undefined, 0.1, 1000),
    scenarios: SCENARIOS.filter((c) => scenarios.includes(c)),
    driftRounds: Math.floor(num("drift-rounds", 3, 1, 20)!),
  };
}

// ---------------------------------------------------------------- the minimum and the floor

/** Resources in the stack: a user, the adopted policy, and per key a profile, a link and the key. */
function resourceCount(n: number): number {
  return 2 + 3 * n;
}

/**
 * The fewest ServiceNow calls each operation can make: a create is 1 POST plus,
 * for a key, what its token needs (the probe, 1 GET); adopting the policy is
 * 1 GET; and once per run, 3 GETs no program can skip: the sys_id of the user the
 * keys name by user_name, the sys_ids of the shipped key-location rows, and the
 * inactive keys (a create never makes a second key where one is parked). A plain
 * preview makes none; a refresh reads each resource once; a destroy deletes (or,
 * for the adopted policy, restores) each once.
 */
function minimumCalls(op: Operation, n: number): number {
  switch (op) {
    case "up":
      return 2 + n * (1 + 1 + 2) + 3;
    case "preview":
      return 0;
    case "preview --refresh":
    case "refresh":
    case "destroy":
      return resourceCount(n);
  }
}

/**
 * Dependency levels of each operation: how many resources can run at a level,
 * and how many round trips one of them needs at the minimum, one after another.
 */
function levels(op: Operation, n: number): Array<{ count: number; roundTrips: number }> {
  switch (op) {
    case "up":
      // user, policy and the profiles; then the links; then the keys (POST, then the probe).
      return [
        { count: n + 2, roundTrips: 1 },
        { count: n, roundTrips: 1 },
        { count: n, roundTrips: 2 },
      ];
    case "preview":
      return [];
    case "preview --refresh":
    case "refresh":
      return [{ count: resourceCount(n), roundTrips: 1 }];
    case "destroy":
      // the keys; then the links and the user; then the profiles and the policy.
      return [
        { count: n, roundTrips: 1 },
        { count: n + 1, roundTrips: 1 },
        { count: n + 1, roundTrips: 1 },
      ];
  }
}

/**
 * The wall-time floor: depth × latency × ⌈N / parallelism⌉, summed over the
 * dependency levels (each level's resources share the engine's parallel slots).
 */
function floorMs(op: Operation, n: number, latencyMs: number, parallel: number): number {
  return levels(op, n).reduce((sum, l) => sum + Math.ceil(l.count / parallel) * l.roundTrips * latencyMs, 0);
}

// ---------------------------------------------------------------- timing events from timingPreload.js

interface TimingEvent {
  pid: number;
  role: "provider" | "program";
  t: number;
  event: "start" | "deserialize" | "handler" | "method" | "serialize" | "exit";
  startedAt?: number;
  hookAt?: number;
  ms?: number;
  bytes?: number;
  type?: string;
  method?: string;
  ok?: boolean;
}

interface TimingReport {
  providerProcesses: number;
  /** From the plugin process's start to its first deserialization (Node, SDK, gRPC, engine handshake), ms. */
  providerStartupMs: number;
  deserializations: number;
  deserializeMs: number;
  /**
   * Time until the provider code is ready in the plugin: the deserializations, their
   * handlers and the `configure` calls, in which a referenced provider loads its
   * module from the installed package, ms, summed over provider processes.
   */
  codeLoadMs: number;
  /** Size of each distinct `__provider` text, KB. */
  providerTextKb: number[];
  /** Closure serializations in the program, their summed time and the span from first start to last end. */
  serializations: number;
  serializeMs: number;
  serializeSpanMs: number;
  /** From the program's start to its exit, ms. */
  programMs: number;
  /** Provider method calls and the time spent in them, per method. */
  methods: Record<string, { calls: number; totalMs: number; maxMs: number; failed: number }>;
  /**
   * Provider calls in flight, per method: the mean over the span from the first
   * call's start to the last one's end (their summed time ÷ that span), and the
   * most at once. A create, read or delete holds one of the engine's parallel slots
   * (and the slot is held a little longer, for the engine's bookkeeping), so for
   * the operation's own method this is a lower bound on the slots in use.
   */
  inFlight: Record<string, { mean: number; max: number; spanMs: number }>;
  /** When things happened, in ms after `pulumi` was started. */
  timeline: {
    programStart?: number;
    firstSerializeStart?: number;
    lastSerializeEnd?: number;
    programExit?: number;
    providerStart?: number;
    firstProviderCall?: number;
    lastProviderCallEnd?: number;
  };
}

function readTiming(file: string, runStartedAt: number): TimingReport {
  const events: TimingEvent[] = fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as TimingEvent)
    : [];
  const starts = new Map<number, number>();
  for (const e of events) if (e.event === "start") starts.set(e.pid, e.startedAt ?? e.t);
  const providerPids = new Set(events.filter((e) => e.role === "provider").map((e) => e.pid));
  let startup = 0;
  for (const pid of providerPids) {
    const first = events.find((e) => e.pid === pid && e.event === "deserialize");
    const start = starts.get(pid);
    if (first && start !== undefined) startup = Math.max(startup, first.t - (first.ms ?? 0) - start);
  }
  const des = events.filter((e) => e.event === "deserialize");
  const ser = events.filter((e) => e.event === "serialize");
  const methods: TimingReport["methods"] = {};
  for (const e of events.filter((x) => x.event === "method")) {
    const k = e.method ?? "?";
    const m = (methods[k] ??= { calls: 0, totalMs: 0, maxMs: 0, failed: 0 });
    m.calls++;
    m.totalMs += e.ms ?? 0;
    m.maxMs = Math.max(m.maxMs, e.ms ?? 0);
    if (e.ok === false) m.failed++;
  }
  const inFlight: TimingReport["inFlight"] = {};
  for (const k of Object.keys(methods)) {
    const spans = events
      .filter((e) => e.event === "method" && e.method === k)
      .map((e) => ({ start: e.startedAt ?? e.t, end: (e.startedAt ?? e.t) + (e.ms ?? 0) }));
    const first = Math.min(...spans.map((x) => x.start));
    const last = Math.max(...spans.map((x) => x.end));
    const points = spans.flatMap((x) => [
      { at: x.start, d: 1 },
      { at: x.end, d: -1 },
    ]);
    // Ends before starts at the same instant: back-to-back calls are not concurrent.
    points.sort((a, b) => a.at - b.at || a.d - b.d);
    let now = 0;
    let max = 0;
    for (const p of points) max = Math.max(max, (now += p.d));
    const spanMs = Math.max(1, last - first);
    inFlight[k] = { mean: round2(methods[k].totalMs / spanMs), max, spanMs: Math.round(spanMs) };
  }
  for (const m of Object.values(methods)) {
    m.totalMs = Math.round(m.totalMs);
    m.maxMs = Math.round(m.maxMs);
  }
  const programStart = events.find((e) => e.role === "program" && e.event === "start");
  const programExit = events.find((e) => e.role === "program" && e.event === "exit");
  const serStart = Math.min(...ser.map((e) => e.startedAt ?? e.t));
  const serEnd = Math.max(...ser.map((e) => e.t));
  const at = (t: number | undefined) => (t === undefined || !Number.isFinite(t) ? undefined : t - runStartedAt);
  const providerStarts = events.filter((e) => e.role === "provider" && e.event === "start").map((e) => e.startedAt ?? e.t);
  const calls = events.filter((e) => e.event === "method" && e.method !== "configure");
  const timeline: TimingReport["timeline"] = {
    programStart: at(programStart ? (programStart.startedAt ?? programStart.t) : undefined),
    firstSerializeStart: ser.length ? at(serStart) : undefined,
    lastSerializeEnd: ser.length ? at(serEnd) : undefined,
    programExit: at(programExit?.t),
    providerStart: providerStarts.length ? at(Math.min(...providerStarts)) : undefined,
    firstProviderCall: calls.length ? at(Math.min(...calls.map((e) => e.startedAt ?? e.t))) : undefined,
    lastProviderCallEnd: calls.length ? at(Math.max(...calls.map((e) => e.t))) : undefined,
  };
  return {
    providerProcesses: providerPids.size,
    providerStartupMs: Math.round(startup),
    deserializations: des.length,
    deserializeMs: Math.round(des.reduce((s, e) => s + (e.ms ?? 0), 0)),
    codeLoadMs: Math.round(
      [...des, ...events.filter((e) => e.event === "handler")].reduce((s, e) => s + (e.ms ?? 0), 0) + (methods.configure?.totalMs ?? 0),
    ),
    providerTextKb: [...new Set(des.map((e) => e.bytes ?? 0))].map((b) => round1(b / 1024)),
    serializations: ser.length,
    serializeMs: Math.round(ser.reduce((s, e) => s + (e.ms ?? 0), 0)),
    serializeSpanMs: ser.length ? serEnd - serStart : 0,
    programMs: programStart && programExit ? programExit.t - (programStart.startedAt ?? programStart.t) : 0,
    methods,
    inFlight,
    timeline,
  };
}

// ---------------------------------------------------------------- one N

interface OperationResult {
  /** Whose program ran: keywire's, or the bare or instant engine's with the same graph. */
  contender: Contender;
  /** Which round (--repeat), from 1. */
  round: number;
  n: number;
  operation: Operation;
  exitCode: number | null;
  ok: boolean;
  resources: number;
  calls: number;
  callsPerResource: number;
  minimumPerResource: number;
  callsByTable: EmulatorMetrics["byTable"];
  callsByRoute: EmulatorMetrics["byRoute"];
  connections: number;
  wallMs: number;
  floorMs: number;
  wallOverFloor: number | null;
  /** keywire's wall time ÷ the bare engine's, same N and operation (keywire's rows, when both ran). */
  overBare?: number;
  /** keywire's wall time ÷ the instant engine's, same N and operation (keywire's rows, when both ran). */
  overInstant?: number;
  timing: TimingReport;
  memory: MemoryReport;
  stateKb?: number;
  /**
   * CPU time of the benchmark's own process during the operation, seconds: the
   * emulator and the proxy (keywire's rows; a real instance is elsewhere) and the
   * sampling of /proc (both).
   */
  benchCpuS: number;
  /** The machine's 1-minute load average when the operation ended (other work skews the times). */
  loadAverage: number;
  error?: string;
}


/** Each contender's program in the checkout: its files, and where its dependencies come from. */
const PROGRAM_DIRS: Record<Contender, { dir: string; files: string[] }> = {
  keywire: { dir: "program", files: ["index.js", "Pulumi.yaml", "package.json"] },
  bare: { dir: "bare", files: ["index.js", "Pulumi.yaml"] },
  instant: { dir: "bare", files: ["index.js", "Pulumi.yaml"] },
};

/**
 * A fresh copy of a contender's program in `dir`. keywire's program gets the
 * node_modules the packed package was installed into (installKeywire), so its
 * program and provider process load what a team installs; the bare engine's needs
 * only the SDK, from the checkout.
 */
function prepareProgram(dir: string, contender: Contender, keywireModules: string | undefined): string {
  const { dir: name, files } = PROGRAM_DIRS[contender];
  const program = path.join(dir, "program");
  fs.mkdirSync(program, { recursive: true });
  for (const f of files) fs.copyFileSync(path.join(__dirname, name, f), path.join(program, f));
  const modules = contender === "keywire" ? keywireModules : path.join(REPO_ROOT, "node_modules");
  if (!modules) throw new Error("bench: keywire's program needs the installed package");
  fs.symlinkSync(modules, path.join(program, "node_modules"));
  return program;
}

/** Packs the checkout and installs the tarball beside a copy of keywire's program: the node_modules every keywire stage links. */
async function installKeywire(root: string, env: NodeJS.ProcessEnv): Promise<string> {
  const install = path.join(root, "keywire-package");
  fs.mkdirSync(install);
  const { tarball } = await packKeywire(root, env);
  fs.copyFileSync(path.join(__dirname, PROGRAM_DIRS.keywire.dir, "package.json"), path.join(install, "package.json"));
  await installPacked(install, tarball, env);
  return path.join(install, "node_modules");
}

/** The stack's checkpoint file in a file backend, if there is exactly one. */
function checkpointFile(stateDir: string): string | undefined {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name !== "history" && e.name !== "backups") walk(p);
      else if (e.isFile() && e.name === `${STACK}.json`) found.push(p);
    }
  };
  if (fs.existsSync(stateDir)) walk(stateDir);
  return found.length === 1 ? found[0] : undefined;
}

function checkpointKb(stateDir: string): number | undefined {
  const file = checkpointFile(stateDir);
  return file === undefined ? undefined : Math.round(fs.statSync(file).size / 1024);
}

/** One contender's stack: its own directory, backend, Pulumi home and timing file. */
interface Stage {
  contender: Contender;
  cwd: string;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  timingFile: string;
  /** Set when its `up` failed: the rest of its operations are skipped. */
  stopped?: boolean;
}

async function prepareStage(
  contender: Contender,
  dir: string,
  n: number,
  args: Args,
  bin: string,
  baseEnv: NodeJS.ProcessEnv,
  instanceUrl: string | undefined,
  keywireModules: string | undefined,
): Promise<Stage> {
  const stateDir = path.join(dir, "state");
  fs.mkdirSync(stateDir);
  fs.mkdirSync(path.join(dir, "home"));
  const timingFile = path.join(dir, "timing.jsonl");
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_HOME: path.join(dir, "home"),
    PULUMI_CONFIG_PASSPHRASE: "keywire-bench-passphrase",
    KEYWIRE_BENCH_TIMING: timingFile,
    NODE_OPTIONS: [baseEnv.NODE_OPTIONS, `--require ${path.join(__dirname, "timingPreload.js")}`].filter(Boolean).join(" "),
    ...(args.skipCheckpoints ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {}),
  };
  const cwd = prepareProgram(dir, contender, keywireModules);
  const setup = async (a: string[]) => {
    const r = await runPulumi(bin, [...a, "--stack", STACK, "--non-interactive"], cwd, env, 2 * 60_000);
    if (r.code !== 0) throw new Error(`${contender}: pulumi ${a.join(" ")} exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
  };
  await setup(["stack", "init"]);
  if (contender === "keywire") {
    await setup(["config", "set", "servicenow:instanceUrl", instanceUrl!]);
    await setup(["config", "set", "servicenow:username", "admin"]);
    await setup(["config", "set", "--secret", "servicenow:password", ADMIN_PASSWORD]);
  } else {
    // The instant engine's providers wait for nothing: what is left is the engine's own work.
    await setup(["config", "set", "bench:latencyMs", String(contender === "instant" ? 0 : args.latencyMs)]);
  }
  await setup(["config", "set", "bench:n", String(n)]);
  return { contender, cwd, env, stateDir, timingFile };
}

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
        log(`N=${n}: ${c}: ${op}: ${(r.wallMs / 1000).toFixed(1)} s, ${r.calls} calls, load ${r.loadAverage}${error ? ` — FAILED: ${error.slice(0, 2000)}` : ""}`);
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



// ---------------------------------------------------------------- output

function table(results: OperationResult[]): string {
  const head = [
    "N",
    "operation",
    "program",
    "calls/res",
    "min/res",
    "conns",
    "wall s",
    "floor s",
    "wall/floor",
    "÷ bare",
    "÷ instant",
    "in flight",
    "provider start ms",
    "code load ms",
    "ser span ms",
    "cpu s eng/prog/prov/bench",
    "peak MB total",
    "engine",
    "program",
    "provider",
    "largest process",
    "state MB",
    "load",
  ];
  const rounds = new Set(results.map((r) => r.round)).size;
  const rows = results.map((r) => [
    String(r.n),
    r.operation + (r.ok ? "" : " (FAILED)"),
    r.contender + (rounds > 1 ? ` #${r.round}` : ""),
    r.contender === "keywire" ? r.callsPerResource.toFixed(2) : "-",
    r.minimumPerResource.toFixed(2),
    String(r.connections),
    (r.wallMs / 1000).toFixed(1),
    (r.floorMs / 1000).toFixed(2),
    r.wallOverFloor === null ? "-" : r.wallOverFloor.toFixed(2),
    r.overBare === undefined ? "" : r.overBare.toFixed(2),
    r.overInstant === undefined ? "" : r.overInstant.toFixed(2),
    inFlightCell(r),
    String(r.timing.providerStartupMs),
    String(r.timing.codeLoadMs),
    String(r.timing.serializeSpanMs),
    [r.memory.cpuByRoleS.engine, r.memory.cpuByRoleS.program, r.memory.cpuByRoleS.provider, r.benchCpuS].map((x) => (x ?? 0).toFixed(1)).join("/"),
    r.memory.peakTotalMb.toFixed(0),
    (r.memory.peakByRoleMb.engine ?? 0).toFixed(0),
    (r.memory.peakByRoleMb.program ?? 0).toFixed(0),
    (r.memory.peakByRoleMb.provider ?? 0).toFixed(0),
    r.memory.maxProcessMb.toFixed(0),
    r.stateKb === undefined ? "" : (r.stateKb / 1024).toFixed(1),
    r.loadAverage.toFixed(1),
  ]);
  return markdownTable(head, rows, 3);
}

/**
 * The targets the summary shows (never asserted): keywire within 1.0 × the bare engine
 * and 1.25 × the instant one at N = 200 for every operation, and at N = 1,000 for `up`
 * and `preview --refresh`, with no process of keywire's run above 1 GiB there.
 */
interface Target {
  overBare?: number;
  overInstant?: number;
  maxProcessMb?: number;
}

function targetOf(n: number, op: Operation): Target | undefined {
  if (n === 200) return { overBare: 1.0, overInstant: 1.25 };
  if (n === 1000) return op === "up" || op === "preview --refresh" ? { overBare: 1.0, overInstant: 1.25, maxProcessMb: 1024 } : { maxProcessMb: 1024 };
  return undefined;
}

/** `met`, or what missed: `÷ bare 1.08 > 1.00`. */
function targetCell(target: Target | undefined, overBare: number[], overInstant: number[], maxProcessMb: number): string {
  if (!target) return "-";
  const missed: string[] = [];
  const check = (label: string, xs: number[], limit: number | undefined) => {
    if (limit === undefined) return;
    if (xs.length === 0) missed.push(`${label} not measured`);
    else if (median(xs) > limit) missed.push(`${label} ${median(xs).toFixed(2)} > ${limit.toFixed(2)}`);
  };
  check("÷ bare", overBare, target.overBare);
  check("÷ instant", overInstant, target.overInstant);
  if (target.maxProcessMb !== undefined && maxProcessMb > target.maxProcessMb) missed.push(`a process at ${maxProcessMb.toFixed(0)} MB`);
  return missed.length === 0 ? "met" : `not met: ${missed.join(", ")}`;
}

function targetText(target: Target | undefined): string {
  if (!target) return "-";
  const parts: string[] = [];
  if (target.overBare !== undefined) parts.push(`≤ ${target.overBare.toFixed(2)} × bare`);
  if (target.overInstant !== undefined) parts.push(`≤ ${target.overInstant.toFixed(2)} × instant`);
  if (target.maxProcessMb !== undefined) parts.push("no process > 1 GiB");
  return parts.join(", ");
}

/**
 * Per N and operation, over the rounds that succeeded: median wall times, keywire ÷
 * bare and ÷ instant (median, with their range), keywire's peak memory (program,
 * provider plugin, largest process of the run), the load's range, and the target.
 */
function summaryTable(results: OperationResult[]): string {
  const head = [
    "N",
    "operation",
    "rounds",
    "keywire s",
    "bare s",
    "instant s",
    "÷ bare",
    "÷ instant",
    "keywire peak MB program/provider",
    "largest process MB",
    "load",
    "target",
    "",
  ];
  const rows: string[][] = [];
  for (const n of [...new Set(results.map((r) => r.n))]) {
    for (const op of OPERATIONS) {
      const of = (c: Contender) => results.filter((r) => r.n === n && r.operation === op && r.contender === c && r.ok);
      const mine = of("keywire");
      const bare = of("bare");
      const instant = of("instant");
      if (mine.length + bare.length + instant.length === 0) continue;
      const overBare = mine.map((r) => r.overBare).filter((x): x is number => x !== undefined);
      const overInstant = mine.map((r) => r.overInstant).filter((x): x is number => x !== undefined);
      const wall = (rs: OperationResult[]) => (rs.length ? (median(rs.map((r) => r.wallMs)) / 1000).toFixed(1) : "-");
      const peak = (role: "program" | "provider") => Math.max(0, ...mine.map((r) => r.memory.peakByRoleMb[role] ?? 0));
      const largest = Math.max(0, ...mine.map((r) => r.memory.maxProcessMb));
      const loads = [...mine, ...bare, ...instant].map((r) => r.loadAverage);
      const target = targetOf(n, op);
      rows.push([
        String(n),
        op,
        String(Math.max(mine.length, bare.length, instant.length)),
        wall(mine),
        wall(bare),
        wall(instant),
        medianWithRange(overBare),
        medianWithRange(overInstant),
        mine.length ? `${peak("program").toFixed(0)} / ${peak("provider").toFixed(0)}` : "-",
        mine.length ? largest.toFixed(0) : "-",
        loads.length ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : "-",
        targetText(target),
        mine.length ? targetCell(target, overBare, overInstant, largest) : "-",
      ]);
    }
  }
  return markdownTable(head, rows, 2);
}

/** The provider method that does an operation's work, one engine slot per call. */
const SLOT_METHOD: Record<Operation, string> = { up: "create", preview: "check", "preview --refresh": "read", refresh: "read", destroy: "delete" };

/** Mean and most calls of the operation's own method in flight at once ("mean/max"). */
function inFlightCell(r: OperationResult): string {
  const f = r.timing.inFlight[SLOT_METHOD[r.operation]];
  return f ? `${f.mean.toFixed(1)}/${f.max}` : "-";
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
      const settings = { latencyMs: args.latencyMs, jitterMs: args.jitterMs, connectLatencyMs: args.connectLatencyMs, timeoutMs: args.timeoutMs, settleLoad: args.settleLoad, parallel: args.parallel };
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
