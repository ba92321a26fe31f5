/**
 * What the benchmark measures: the operations, the contenders that run them, the fewest
 * ServiceNow calls and the wall-time floor of each operation, and one operation's
 * result.
 */
import type { EmulatorMetrics } from "../../emulator/servicenow";
import type { MemoryReport } from "./measure";
import type { TimingReport } from "./timing";

export const OPERATIONS = ["up", "preview", "preview --refresh", "refresh", "destroy"] as const;
export type Operation = (typeof OPERATIONS)[number];
/**
 * keywire's program (bench/deploy/program) and the bare engine's (bench/deploy/bare):
 * the same resources and dependencies, with no-op providers that wait out the same
 * minimal round trips instead of making them (`bare`), or that answer at once
 * (`instant`: what the engine alone costs for the graph).
 */
export const CONTENDERS = ["keywire", "bare", "instant"] as const;
export type Contender = (typeof CONTENDERS)[number];

/** Resources in the stack: a user, the adopted policy, and per key a profile, a link and the key. */
export function resourceCount(n: number): number {
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
export function minimumCalls(op: Operation, n: number): number {
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
export function floorMs(op: Operation, n: number, latencyMs: number, parallel: number): number {
  return levels(op, n).reduce((sum, l) => sum + Math.ceil(l.count / parallel) * l.roundTrips * latencyMs, 0);
}

export interface OperationResult {
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
