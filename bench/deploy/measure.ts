/**
 * What the benchmark's scenarios share: running a `pulumi` (or any) command with a time
 * limit (through scripts/shared/process.ts) while sampling its process tree's memory
 * and CPU from /proc, a loopback proxy that charges and counts new connections, and
 * small number helpers.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import { runCommand } from "../../scripts/shared/process";

const SAMPLE_EVERY_MS = 200;
/** The longest --settle-load waits before an operation runs anyway. */
const SETTLE_MAX_MS = 5 * 60_000;
/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;
const KILL_GRACE_MS = 5_000;

// ---------------------------------------------------------------- a latency proxy that counts connections

export interface ConnectionProxy {
  url: string;
  connections(): number;
  reset(): void;
  stop(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of the emulator. The emulator charges its latency
 * per request; a real instance also charges at least one round trip for every new
 * connection (TCP, plus TLS on https). The proxy holds the first bytes of each new
 * connection for `connectLatencyMs` and counts connections.
 */
export async function startProxy(target: string, connectLatencyMs: number): Promise<ConnectionProxy> {
  const t = new URL(target);
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    count++;
    sockets.add(client);
    const upstream = net.connect(Number(t.port), t.hostname);
    sockets.add(upstream);
    const held: Buffer[] = [];
    let open = connectLatencyMs <= 0;
    const flush = () => {
      open = true;
      for (const b of held.splice(0)) upstream.write(b);
    };
    if (!open) setTimeout(flush, connectLatencyMs);
    client.on("data", (b: Buffer) => (open ? upstream.write(b) : held.push(b)));
    upstream.on("data", (b: Buffer) => client.write(b));
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", close);
    upstream.on("close", close);
    client.on("error", close);
    upstream.on("error", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => count,
    reset: () => (count = 0),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------- memory of the pulumi process group

export type ProcessRole = "engine" | "program" | "provider" | "languageHost" | "other";

export interface MemoryReport {
  /** Largest sum of RSS over the whole process group at one sample, MB. */
  peakTotalMb: number;
  /** Per role: the largest high-water mark (VmHWM) of one process of that role, MB. */
  peakByRoleMb: Partial<Record<ProcessRole, number>>;
  /** The largest high-water mark of any one process of the tree, MB. */
  maxProcessMb: number;
  /**
   * Per role: CPU time (user + system) of its processes as last sampled, seconds.
   * On a machine of 2 cores every CPU-second one process spends is one the engine
   * cannot; a process's last ≤ 200 ms after the final sample are not counted.
   */
  cpuByRoleS: Partial<Record<ProcessRole, number>>;
  samples: number;
}

export function roleOf(pid: number): ProcessRole {
  let cmd: string;
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "other";
  }
  if (/dynamic-provider/.test(cmd)) return "provider";
  if (/cmd[\\/]run/.test(cmd)) return "program";
  if (/pulumi-language-nodejs/.test(cmd)) return "languageHost";
  if (/(^|\/)pulumi(\s|$)/.test(cmd)) return "engine";
  return "other";
}

/** The process `root` and all its descendants (the engine puts its plugins in process groups of their own). */
export function processTree(root: number): Array<{ pid: number; rssPages: number; cpuTicks: number }> {
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return [];
  }
  const all: Array<{ pid: number; ppid: number; rssPages: number; cpuTicks: number }> = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      // Fields after "(comm) ": state ppid pgrp …; utime and stime are fields 14 and 15 of the line, rss 24.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      all.push({ pid: Number(e), ppid: Number(rest[1]), rssPages: Number(rest[21]), cpuTicks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      // The process ended while the list was read.
    }
  }
  const inTree = new Set<number>([root]);
  // Bounded: each pass adds at least one process or stops.
  for (let grew = true, pass = 0; grew && pass < 64; pass++) {
    grew = false;
    for (const p of all) {
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => inTree.has(p.pid));
}

/** Samples RSS and VmHWM of `root` and its descendants until stopped. */
export function startMemorySampler(root: number): { stop(): MemoryReport; pids(): number[] } {
  const pageKb = 4; // Linux x86-64 and arm64 default page size, in KiB
  const hwmKb = new Map<number, { role: ProcessRole; kb: number }>();
  const cpuTicks = new Map<number, { role: ProcessRole; ticks: number }>();
  let peakTotalKb = 0;
  let samples = 0;
  let last: number[] = [];
  const sample = () => {
    let total = 0;
    const tree = processTree(root);
    last = tree.map((p) => p.pid);
    for (const { pid, rssPages, cpuTicks: ticks } of tree) {
      total += rssPages * pageKb;
      // Asked at every sample: a plugin seen between fork and exec still shows its parent's command line.
      const role = roleOf(pid);
      const seen = cpuTicks.get(pid);
      cpuTicks.set(pid, { role: role === "other" ? (seen?.role ?? role) : role, ticks: Math.max(seen?.ticks ?? 0, ticks) });
      try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        const m = /VmHWM:\s+(\d+)\s+kB/.exec(status);
        if (m) {
          const known = hwmKb.get(pid);
          hwmKb.set(pid, { role: cpuTicks.get(pid)!.role, kb: Math.max(known?.kb ?? 0, Number(m[1])) });
        }
      } catch {
        // The process ended between the two reads.
      }
    }
    peakTotalKb = Math.max(peakTotalKb, total);
    samples++;
  };
  sample();
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  return {
    pids: () => last,
    stop: () => {
      clearInterval(timer);
      const byRole: Partial<Record<ProcessRole, number>> = {};
      for (const { role, kb } of hwmKb.values()) byRole[role] = Math.max(byRole[role] ?? 0, round1(kb / 1024));
      const cpu: Partial<Record<ProcessRole, number>> = {};
      for (const { role, ticks } of cpuTicks.values()) cpu[role] = (cpu[role] ?? 0) + ticks / CLOCK_TICKS;
      for (const role of Object.keys(cpu) as ProcessRole[]) cpu[role] = round2(cpu[role]!);
      const maxProcessMb = round1(Math.max(0, ...[...hwmKb.values()].map((h) => h.kb)) / 1024);
      return { peakTotalMb: round1(peakTotalKb / 1024), peakByRoleMb: byRole, maxProcessMb, cpuByRoleS: cpu, samples };
    },
  };
}

// ---------------------------------------------------------------- running pulumi

export interface Run {
  startedAt: number;
  code: number | null;
  wallMs: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  memory: MemoryReport;
}

/**
 * Runs `pulumi <args>` (or any command) to completion or `timeoutMs`, sampling its process
 * tree. On a timeout the engine gets SIGTERM and KILL_GRACE_MS to cancel, and its plugins
 * (each in a process group of its own) are stopped with it.
 */
export async function runPulumi(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  const started = Date.now();
  let root: number | undefined;
  let sampler: ReturnType<typeof startMemorySampler> | undefined;
  const r = await runCommand(bin, args, {
    cwd,
    env,
    timeoutMs,
    killGraceMs: KILL_GRACE_MS,
    onSpawn: (pid) => {
      root = pid;
      sampler = startMemorySampler(pid);
    },
    // The plugins as last sampled.
    alsoSignal: () => (sampler?.pids() ?? []).filter((p) => p !== root),
  });
  const wallMs = Date.now() - started;
  // A plugin the engine left behind would skew the next run: end it (by pid, role checked).
  for (const pid of sampler?.pids() ?? []) {
    if (pid === root || roleOf(pid) === "other") continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  const memory = sampler?.stop() ?? { peakTotalMb: 0, peakByRoleMb: {}, maxProcessMb: 0, cpuByRoleS: {}, samples: 0 };
  return { startedAt: started, code: r.code, wallMs, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut, memory };
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * Waits until the machine's 1-minute load average is at most `load` (other work on a
 * shared machine), at most SETTLE_MAX_MS; each operation's pair then starts alike.
 */
export async function settle(load: number): Promise<void> {
  const until = Date.now() + SETTLE_MAX_MS;
  if (os.loadavg()[0] <= load) return;
  log(`waiting for the load average (${os.loadavg()[0].toFixed(2)}) to fall to ${load} …`);
  while (os.loadavg()[0] > load && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5_000));
  if (os.loadavg()[0] > load) log(`load average still ${os.loadavg()[0].toFixed(2)} after ${SETTLE_MAX_MS / 60_000} min: running anyway`);
}

export function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join("\n");
}

export function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A Markdown table: the first `left` columns left-aligned, the rest right-aligned (numbers). */
export function markdownTable(head: string[], rows: string[][], left: number): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  const rule = "|" + widths.map((w, i) => (i < left ? "-".repeat(w + 1) + "-" : "-".repeat(w + 1) + ":")).join("|") + "|";
  return [line(head), rule, ...rows.map(line)].join("\n");
}

/** The median of `xs` with their range, as `1.02 (0.97–1.10)`; "-" when there are none. */
export function medianWithRange(xs: number[], digits = 2): string {
  if (xs.length === 0) return "-";
  const m = median(xs).toFixed(digits);
  return xs.length === 1 ? m : `${m} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}
