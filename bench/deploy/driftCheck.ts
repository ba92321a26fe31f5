/**
 * `npm run bench`'s drift check: what the daily `keywire drift` costs on a demo-sized
 * stack (ServiceNowApiKeyAuth's chain: one key, its profile, links, policies, user,
 * grants, rate limit and checks), beside the bare engine's `preview --refresh` of the
 * same graph.
 *
 * Per round, on a fresh emulator (same latency as the deployments) and fresh stacks:
 *
 * 1. `up` of bench/deploy/demo, keywire's chain from the installed package;
 * 2. the graph of that stack, from its state: each resource's type, name, parent,
 *    dependencies and inputs, and what its read costs: one request for a record, and
 *    for the checks (Preflight, ApiKeyVerification, …) the ServiceNow requests a
 *    `pulumi refresh --target` of that resource alone makes;
 * 3. `up` of bench/deploy/mirror with that graph twice: waiting out those requests at
 *    the same latency (**bare**), and answering at once (**instant**: the engine alone);
 * 4. timed: `keywire drift` (the installed command: it reads the stack's secrets with
 *    `pulumi config --show-secrets`, runs `pulumi preview --refresh --expect-no-changes
 *    --json`, and builds the report; timingPreload.js times each part inside it), then
 *    the bare mirror's `preview --refresh`, then keywire's `preview --refresh` alone
 *    (its ServiceNow requests counted), then the instant mirror's.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startServiceNowEmulator, RunningEmulator } from "../../emulator/servicenow";
import { ConnectionProxy, MemoryReport, log, markdownTable, median, medianWithRange, round2, Run, runPulumi, settle, startProxy } from "./measure";
import { ADMIN_PASSWORD, STACK } from "./contenders";

/** The drift check's bound: keywire drift against the bare engine's preview --refresh of the same graph (shown, never asserted). */
const DRIFT_TARGET = 1.2;

export interface DriftSettings {
  latencyMs: number;
  jitterMs: number;
  connectLatencyMs: number;
  timeoutMs: number;
  settleLoad: number | undefined;
  parallel: number | undefined;
}

interface Timed {
  wallMs: number;
  exitCode: number | null;
  memory: MemoryReport;
  loadAverage: number;
}

/** Where the `keywire drift` command's time went (timingPreload.js in the command's process). */
export interface DriftParts {
  /** From the command's start to its first child command: Node, keywire's modules, argument checks. */
  startMs: number;
  /** Each command it ran, in order (`pulumi version`, `pulumi config`, `pulumi preview`), with its duration. */
  children: Array<{ command: string; ms: number }>;
  /** From the last command's end to the process's exit: the report built, redacted, written. */
  reportMs: number;
}

export interface DriftRound {
  round: number;
  /** Resources in keywire's stack (the stack itself and the default provider included), and the custom ones among them. */
  resources: number;
  customResources: number;
  /** What one read costs, in ServiceNow requests, per resource type (records 1; the checks as measured). */
  readTrips: Record<string, number>;
  /** ServiceNow requests made by keywire's `preview --refresh` alone. */
  previewCalls: number;
  /** `keywire drift --stack bench` as CI runs it: exit 0, no drift. */
  drift: Timed;
  driftParts: DriftParts;
  /** keywire's `pulumi preview --refresh --expect-no-changes --json` alone. */
  preview: Timed;
  /** The bare engine's `preview --refresh --expect-no-changes` of the same graph. */
  bare: Timed;
  /** The same with providers that answer at once. */
  instant: Timed;
  error?: string;
}

interface Stage {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timingFile: string;
}

/** A stack of its own for `program` (demo or mirror) in `dir`, with its modules linked. */
async function prepareStage(
  dir: string,
  program: "demo" | "mirror",
  modules: string,
  baseEnv: NodeJS.ProcessEnv,
  bin: string,
  config: Array<string[]>,
): Promise<Stage> {
  const cwd = path.join(dir, "program");
  fs.mkdirSync(cwd, { recursive: true });
  fs.mkdirSync(path.join(dir, "state"));
  fs.mkdirSync(path.join(dir, "home"));
  for (const f of ["index.js", "Pulumi.yaml"]) fs.copyFileSync(path.join(__dirname, program, f), path.join(cwd, f));
  fs.symlinkSync(modules, path.join(cwd, "node_modules"));
  const timingFile = path.join(dir, "timing.jsonl");
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
    PULUMI_HOME: path.join(dir, "home"),
    PULUMI_CONFIG_PASSPHRASE: "keywire-bench-passphrase",
    // As in the deployments: every Node process of every contender carries the same hook.
    KEYWIRE_BENCH_TIMING: timingFile,
    NODE_OPTIONS: [baseEnv.NODE_OPTIONS, `--require ${path.join(__dirname, "timingPreload.js")}`].filter(Boolean).join(" "),
  };
  for (const args of [["stack", "init"], ...config]) await mustRun(bin, [...args, "--stack", STACK, "--non-interactive"], cwd, env, 2 * 60_000);
  return { cwd, env, timingFile };
}

async function mustRun(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  const r = await runPulumi(bin, args, cwd, env, timeoutMs);
  if (r.timedOut) throw new Error(`${path.basename(bin)} ${args.join(" ")} timed out`);
  if (r.code !== 0) throw new Error(`${path.basename(bin)} ${args.join(" ")} exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
  return r;
}

function timed(r: Run): Timed {
  return { wallMs: r.wallMs, exitCode: r.code, memory: r.memory, loadAverage: round2(os.loadavg()[0]) };
}

interface ExportedResource {
  urn: string;
  type: string;
  custom?: boolean;
  parent?: string;
  dependencies?: string[];
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/** A value of the exported state with each secret replaced by its length (the mirror makes a secret of that length). */
function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    // Pulumi's mark of a secret in an exported state.
    if (o["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270") {
      return { secretLength: typeof o.plaintext === "string" ? o.plaintext.length : 32 };
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, withoutSecrets(v)]));
  }
  return value;
}

/** The `keywire drift` command's parts, from the events timingPreload.js wrote in its process. */
function partsOf(timingFile: string, runStartedAt: number): DriftParts {
  const events = fs.existsSync(timingFile)
    ? fs
        .readFileSync(timingFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { role?: string; event?: string; t: number; startedAt?: number; ms?: number; command?: string })
        .filter((e) => e.role === "cli")
    : [];
  const children = events.filter((e) => e.event === "child").sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
  const exit = events.find((e) => e.event === "exit");
  const first = children[0]?.startedAt;
  const lastEnd = Math.max(0, ...children.map((c) => (c.startedAt ?? 0) + (c.ms ?? 0)));
  return {
    startMs: first === undefined ? 0 : first - runStartedAt,
    children: children.map((c) => ({ command: c.command ?? "?", ms: Math.round(c.ms ?? 0) })),
    reportMs: exit && children.length > 0 ? Math.max(0, Math.round(exit.t - lastEnd)) : 0,
  };
}

/** The summed time of the drift command's children whose command starts with `prefix` (`pulumi preview`). */
function childMs(parts: DriftParts, prefix: string): number {
  return parts.children.filter((c) => c.command.startsWith(prefix)).reduce((sum, c) => sum + c.ms, 0);
}

/** Whether a resource is a ServiceNow record of keywire's record engine (its read is one GET). */
function isRecord(r: ExportedResource): boolean {
  return typeof r.outputs?.sysId === "string" && typeof r.outputs?.columns === "object";
}

/**
 * One round: fresh emulator and stacks, the graph and its read costs from keywire's
 * stack, then the timed checks. Every process it starts is ended before it returns.
 */
export async function benchDrift(round: number, settings: DriftSettings, bin: string, baseEnv: NodeJS.ProcessEnv, keywireModules: string): Promise<DriftRound> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-bench-drift-"));
  let emu: RunningEmulator | undefined;
  let proxy: ConnectionProxy | undefined;
  const parallel = settings.parallel ? ["--parallel", String(settings.parallel)] : [];
  const pulumi = (stage: Stage, args: string[]) => mustRun(bin, [...args, "--stack", STACK, "--non-interactive"], stage.cwd, stage.env, settings.timeoutMs);
  try {
    emu = await startServiceNowEmulator({
      adminPassword: ADMIN_PASSWORD,
      tokenReadback: "input_display_value",
      faults: { latencyMs: settings.latencyMs, jitterMs: settings.jitterMs },
    });
    proxy = await startProxy(emu.url, settings.connectLatencyMs);
    const keywire = await prepareStage(path.join(root, "keywire"), "demo", keywireModules, baseEnv, bin, [
      ["config", "set", "servicenow:instanceUrl", proxy.url],
      ["config", "set", "servicenow:username", "admin"],
      ["config", "set", "--secret", "servicenow:password", ADMIN_PASSWORD],
    ]);
    log(`drift round ${round}: keywire: up of the demo-sized stack …`);
    await pulumi(keywire, ["up", "--yes", "--skip-preview", ...parallel]);

    const state = JSON.parse((await pulumi(keywire, ["stack", "export", "--show-secrets"])).stdout) as { deployment: { resources?: ExportedResource[] } };
    const all = state.deployment.resources ?? [];
    const stackUrn = all.find((r) => r.type === "pulumi:pulumi:Stack")?.urn;
    const readTrips: Record<string, number> = {};
    const graph: Array<Record<string, unknown>> = [];
    for (const r of all) {
      if (r.type === "pulumi:pulumi:Stack" || r.type.startsWith("pulumi:providers:")) continue;
      const typeName = r.type.split(":").pop() ?? r.type;
      let trips = 0;
      if (r.custom) {
        if (isRecord(r)) trips = 1;
        else {
          // What this resource's read costs: a refresh of it alone, counted at the instance.
          emu.resetMetrics();
          await pulumi(keywire, ["refresh", "--yes", "--skip-preview", "--target", r.urn]);
          trips = emu.metrics().total;
        }
        readTrips[typeName] = trips;
      }
      graph.push({
        urn: r.urn,
        kind: r.custom ? "custom" : "component",
        type: r.type,
        typeName,
        name: r.urn.split("::").pop(),
        parent: r.parent === stackUrn ? undefined : r.parent,
        dependencies: r.dependencies ?? [],
        inputs: withoutSecrets(Object.fromEntries(Object.entries(r.inputs ?? {}).filter(([k]) => k !== "__provider"))),
        readTrips: trips,
      });
    }
    const graphFile = path.join(root, "graph.json");
    fs.writeFileSync(graphFile, JSON.stringify({ resources: graph }, null, 2));
    const mirrors: Stage[] = [];
    for (const [name, latency] of [
      ["bare", settings.latencyMs],
      ["instant", 0],
    ] as const) {
      const stage = await prepareStage(path.join(root, name), "mirror", keywireModules, baseEnv, bin, [
        ["config", "set", "bench:graph", graphFile],
        ["config", "set", "bench:latencyMs", String(latency)],
      ]);
      log(`drift round ${round}: ${name}: up of the same graph …`);
      await pulumi(stage, ["up", "--yes", "--skip-preview", ...parallel]);
      mirrors.push(stage);
    }
    const [bare, instant] = mirrors;

    const previewArgs = ["preview", "--refresh", "--expect-no-changes", "--json", "--stack", STACK, "--non-interactive", ...parallel];
    const cli = path.join(keywireModules, "keywire", "dist", "cli", "scripts", "cli", "keywire.js");
    const report = path.join(root, "drift.json");
    const run = async (label: string, file: string, args: string[], stage: Stage): Promise<Run> => {
      if (settings.settleLoad !== undefined) await settle(settings.settleLoad);
      log(`drift round ${round}: ${label} …`);
      const r = await runPulumi(file, args, stage.cwd, stage.env, settings.timeoutMs);
      log(`drift round ${round}: ${label}: ${(r.wallMs / 1000).toFixed(2)} s, exit ${r.code}`);
      return r;
    };
    fs.rmSync(keywire.timingFile, { force: true });
    const drift = await run("keywire drift", process.execPath, [cli, "drift", "--stack", STACK, "--cwd", keywire.cwd, "--json", report], keywire);
    const driftParts = partsOf(keywire.timingFile, drift.startedAt);
    const bareRun = await run("bare: preview --refresh", bin, previewArgs, bare);
    emu.resetMetrics();
    const preview = await run("keywire: preview --refresh", bin, previewArgs, keywire);
    const previewCalls = emu.metrics().total;
    const instantRun = await run("instant: preview --refresh", bin, previewArgs, instant);

    const problems: string[] = [];
    if (drift.code !== 0) problems.push(`keywire drift exited ${drift.code} (0 is no drift): ${(drift.stdout + drift.stderr).slice(-1500)}`);
    for (const [label, r] of [
      ["keywire preview --refresh", preview],
      ["bare preview --refresh", bareRun],
      ["instant preview --refresh", instantRun],
    ] as const) {
      if (r.code !== 0) problems.push(`${label} exited ${r.code}: ${r.stderr.slice(-1500)}`);
    }
    const custom = all.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).length;
    return {
      round,
      resources: all.length,
      customResources: custom,
      readTrips,
      previewCalls,
      drift: timed(drift),
      driftParts,
      preview: timed(preview),
      bare: timed(bareRun),
      instant: timed(instantRun),
      ...(problems.length > 0 ? { error: problems.join("\n") } : {}),
    };
  } finally {
    await proxy?.stop();
    await emu?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const s = (ms: number) => (ms / 1000).toFixed(2);

/** One row per round: the drift check and its parts beside the bare and the instant engine. */
export function driftTable(rounds: DriftRound[]): string {
  const head = [
    "round",
    "resources",
    "keywire drift s",
    "of it: start s",
    "pulumi config s",
    "other commands s",
    "pulumi preview --refresh s",
    "report s",
    "bare preview --refresh s",
    "÷ bare",
    "keywire preview --refresh alone s",
    "instant s",
    "calls",
    "peak MB (largest process)",
    "load",
  ];
  const rows = rounds.map((d) => {
    const preview = childMs(d.driftParts, "pulumi preview");
    const config = childMs(d.driftParts, "pulumi config");
    const other = d.driftParts.children.reduce((sum, c) => sum + c.ms, 0) - preview - config;
    return [
      String(d.round) + (d.error ? " (FAILED)" : ""),
      `${d.resources} (${d.customResources} custom)`,
      s(d.drift.wallMs),
      s(d.driftParts.startMs),
      s(config),
      s(other),
      s(preview),
      s(d.driftParts.reportMs),
      s(d.bare.wallMs),
      (d.drift.wallMs / d.bare.wallMs).toFixed(2),
      s(d.preview.wallMs),
      s(d.instant.wallMs),
      String(d.previewCalls),
      `${d.drift.memory.peakTotalMb.toFixed(0)} (${d.drift.memory.maxProcessMb.toFixed(0)})`,
      `${Math.min(d.drift.loadAverage, d.bare.loadAverage).toFixed(1)}–${Math.max(d.drift.loadAverage, d.bare.loadAverage).toFixed(1)}`,
    ];
  });
  return markdownTable(head, rows, 1);
}

/**
 * The medians: the drift check against the bare engine's preview --refresh (the
 * target), and keywire's own share of it (drift − bare) broken out, from inside the
 * same drift run: its preview beyond the bare one (keywire's providers and program),
 * reading the stack's secrets (`pulumi config`), the other commands it runs (`pulumi
 * version`), and its own start and report.
 */
export function driftSummary(rounds: DriftRound[]): string {
  const ok = rounds.filter((d) => d.error === undefined);
  if (ok.length === 0) return "no round succeeded";
  const m = (f: (d: DriftRound) => number) => median(ok.map(f));
  const ratio = ok.map((d) => d.drift.wallMs / d.bare.wallMs);
  const verdict = median(ratio) <= DRIFT_TARGET ? "met" : `not met: ${median(ratio).toFixed(2)} > ${DRIFT_TARGET.toFixed(2)}`;
  const head = [
    "rounds",
    "keywire drift s",
    "bare preview --refresh s",
    "÷ bare",
    "target",
    "",
    "keywire's share s",
    "preview beyond bare s",
    "pulumi config s",
    "other commands s",
    "start and report s",
    "instant preview --refresh s",
  ];
  const row = [
    String(ok.length),
    s(m((d) => d.drift.wallMs)),
    s(m((d) => d.bare.wallMs)),
    medianWithRange(ratio),
    `≤ ${DRIFT_TARGET.toFixed(2)} × bare`,
    verdict,
    s(m((d) => d.drift.wallMs - d.bare.wallMs)),
    s(m((d) => childMs(d.driftParts, "pulumi preview") - d.bare.wallMs)),
    s(m((d) => childMs(d.driftParts, "pulumi config"))),
    s(m((d) => d.driftParts.children.reduce((sum, c) => sum + c.ms, 0) - childMs(d.driftParts, "pulumi preview") - childMs(d.driftParts, "pulumi config"))),
    s(m((d) => d.driftParts.startMs + d.driftParts.reportMs)),
    s(m((d) => d.instant.wallMs)),
  ];
  return markdownTable(head, [row], 1);
}
