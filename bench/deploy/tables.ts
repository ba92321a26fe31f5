/** What `npm run bench` prints: a row per run, and the medians beside the targets (shown, never asserted). */
import { markdownTable, median, medianWithRange } from "./measure";
import { OPERATIONS, type Contender, type Operation, type OperationResult } from "./operations";

export function table(results: OperationResult[]): string {
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
export function summaryTable(results: OperationResult[]): string {
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
