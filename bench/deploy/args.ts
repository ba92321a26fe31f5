/** `npm run bench`'s command line. */
import * as path from "path";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { CONTENDERS, OPERATIONS, type Contender, type Operation } from "./operations";

export const SCENARIOS = ["deploy", "drift"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Args {
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

export function parseArgs(argv: string[]): Args {
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
