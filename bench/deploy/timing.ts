/**
 * What timingPreload.js recorded in the Node processes of one run (the program and the
 * dynamic-provider plugin), read into a report: provider start-up and code loading,
 * closure serialization, provider calls and how many were in flight at once.
 */
import * as fs from "fs";
import { round1, round2 } from "./measure";

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

export interface TimingReport {
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

export function readTiming(file: string, runStartedAt: number): TimingReport {
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
    codeLoadMs: Math.round([...des, ...events.filter((e) => e.event === "handler")].reduce((s, e) => s + (e.ms ?? 0), 0) + (methods.configure?.totalMs ?? 0)),
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
