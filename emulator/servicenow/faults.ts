/**
 * Fault injection: latency, a share of 5xx answers, the next N failures, drops, commit-then-fail,
 * late commits and answers cut off mid-body.
 */
import type { ServerResponse } from "node:http";
import { errorReply, JSON_TYPE, type Reply } from "./http/reply";
import type { FaultFilter, FaultSettings } from "./types";

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const ERROR_STATUSES = [500, 502, 503];
const STATUS_TEXT: Record<number, string> = {
  429: "Rate limit exceeded",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function matches(f: FaultFilter, method: string, table: string | undefined, defaultMethods?: Set<string>): boolean {
  if (f.methods && f.methods.length > 0) {
    if (!f.methods.some((m) => m.toUpperCase() === method)) return false;
  } else if (defaultMethods && !defaultMethods.has(method)) {
    return false;
  }
  if (f.table !== undefined && f.table !== table) return false;
  return true;
}

export class Faults {
  private s: FaultSettings = {};
  /**
   * errorRate's credit per kind of request (method and table): with one count for all, a
   * client retrying in step with another's requests could land on the failing turn every time.
   */
  private errorCredit = new Map<string, number>();
  private errorIndex = 0;
  /** Requests held by lateCommitNext: each timer, and how to tell its request it was cancelled. */
  private held = new Map<NodeJS.Timeout, () => void>();
  /** Late writes taken and not yet carried out or cancelled, and who waits for none to be left. */
  private lateWrites = 0;
  private settledWaiters: Array<() => void> = [];

  set(f: FaultSettings): void {
    this.s = structuredClone(f);
    this.errorCredit.clear();
    this.errorIndex = 0;
  }

  /** The current settings, with the counts still to be used. */
  get(): FaultSettings {
    return structuredClone(this.s);
  }

  delayMs(): number {
    const fixed = this.s.latencyMs ?? 0;
    const jitter = this.s.jitterMs ?? 0;
    return fixed + (jitter > 0 ? Math.random() * jitter : 0);
  }

  takeDrop(method: string, table: string | undefined): boolean {
    const d = this.s.dropNext;
    if (!d || d.count <= 0 || !matches(d, method, table)) return false;
    d.count--;
    return true;
  }

  takeFailure(method: string, table: string | undefined): Reply | undefined {
    const f = this.s.failNext;
    if (f && f.count > 0 && matches(f, method, table)) {
      f.count--;
      const headers: Record<string, string> = {};
      if (f.retryAfterSeconds !== undefined || f.status === 429) headers["Retry-After"] = String(f.retryAfterSeconds ?? 1);
      return errorReply(f.status, STATUS_TEXT[f.status] ?? "Request failed", "Injected fault", headers);
    }
    const rate = this.s.errorRate ?? 0;
    if (rate <= 0) return undefined;
    // Deterministic spread: a credit grows by the rate each request and pays for one failure per whole unit.
    const kind = `${method} ${table ?? ""}`;
    const credit = (this.errorCredit.get(kind) ?? 0) + rate;
    if (credit < 1 - 1e-9) {
      this.errorCredit.set(kind, credit);
      return undefined;
    }
    this.errorCredit.set(kind, credit - 1);
    const status = ERROR_STATUSES[this.errorIndex++ % ERROR_STATUSES.length];
    return errorReply(status, STATUS_TEXT[status], "Injected fault");
  }

  /** For writes: perform the write, then lose the answer this way. */
  takeCommitThenFail(method: string, table: string | undefined): "drop" | "500" | undefined {
    const c = this.s.commitThenFailNext;
    if (!c || c.count <= 0 || !matches(c, method, table, WRITE_METHODS)) return undefined;
    c.count--;
    return c.mode;
  }

  /** For writes: how long after its arrival the write should land (it is never answered). */
  takeLateCommit(method: string, table: string | undefined): number | undefined {
    const l = this.s.lateCommitNext;
    if (!l || l.count <= 0 || !matches(l, method, table, WRITE_METHODS)) return undefined;
    l.count--;
    this.lateWrites++;
    return l.delayMs;
  }

  /** A late write taken by takeLateCommit has landed, been refused, or been cancelled. */
  lateWriteDone(): void {
    this.lateWrites = Math.max(0, this.lateWrites - 1);
    if (this.lateWrites === 0) for (const wake of this.settledWaiters.splice(0)) wake();
  }

  /** Resolves once no late write is pending: what a test waits for before it judges the instance. */
  lateWritesSettled(): Promise<void> {
    return this.lateWrites === 0 ? Promise.resolve() : new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** For any answer with a body: whether to cut the connection partway through it. */
  takeResetMidBody(method: string, table: string | undefined): boolean {
    const r = this.s.resetMidBodyNext;
    if (!r || r.count <= 0 || !matches(r, method, table)) return false;
    r.count--;
    return true;
  }

  /** Waits ms; false when cancelled first (the emulator stopped or was reset), so the held write never lands. */
  hold(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.held.delete(timer);
          resolve(true);
        },
        Math.max(0, ms),
      );
      this.held.set(timer, () => resolve(false));
    });
  }

  cancelHeld(): void {
    for (const [timer, cancel] of this.held) {
      clearTimeout(timer);
      cancel();
    }
    this.held.clear();
  }
}

/**
 * Sends the status line, the headers (with the full Content-Length) and about half the body,
 * then closes the connection: the client sees a response begin and break off.
 */
export function writeCutOff(res: ServerResponse, reply: Reply): void {
  const bytes = Buffer.from(typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body), "utf8");
  res.writeHead(reply.status, { "Content-Type": JSON_TYPE, ...reply.headers, "Content-Length": bytes.length });
  const sent = Math.min(Math.max(1, Math.floor(bytes.length / 2)), bytes.length - 1);
  // Destroy only once the partial body has left, or the client might see no body at all.
  res.write(bytes.subarray(0, sent), () => res.destroy());
}
