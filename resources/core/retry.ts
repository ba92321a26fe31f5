/**
 * A generic retry policy: exponential backoff with full jitter, server-requested delays
 * (`Retry-After`, `X-RateLimit-Reset`, never below a floor), bounded by a number of
 * attempts AND a total time budget. Sleep, clock and randomness are injectable so tests never wait for real.
 *
 * Writes that are not idempotent get special care: when their outcome is unknown (the
 * connection dropped or timed out after the request went out, or a gateway answered
 * 502/504) they are retried only after the caller's `wasCommitted()` check has shown the
 * write did not land; when it did, the check's result is returned instead.
 */
import { isKeywireHttpError } from "./errors";

export interface RetryPolicy {
  /** Attempts in total, the first included (1 = no retry). */
  maxAttempts: number;
  /** Wall-clock budget for all attempts and waits together, in ms. */
  totalBudgetMs: number;
  /** Backoff cap for the first retry; doubles each retry. */
  baseDelayMs: number;
  /** Upper bound of one backoff delay (server-requested delays are bounded by the budget instead). */
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  /** Epoch milliseconds. */
  now: () => number;
  /** Uniform in [0, 1). */
  random: () => number;
}

/**
 * The shortest wait a server's `Retry-After` can ask for: a server answering "0"
 * to a burst would otherwise be hammered as fast as the client can send.
 */
export const SERVER_DELAY_FLOOR_MS = 250;

/** Hard limits so no configuration can make a loop unbounded. */
const MAX_ATTEMPTS_LIMIT = 20;
const MAX_BUDGET_LIMIT_MS = 60 * 60 * 1000;

const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 5,
  totalBudgetMs: 120_000,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  random: () => Math.random(),
});

/** Fill in defaults and clamp to sane bounds. */
export function resolveRetryPolicy(p: Partial<RetryPolicy> = {}): RetryPolicy {
  const merged: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...stripUndefined(p) };
  const clamp = (v: number, lo: number, hi: number, dflt: number) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.floor(v))) : dflt);
  merged.maxAttempts = clamp(merged.maxAttempts, 1, MAX_ATTEMPTS_LIMIT, DEFAULT_RETRY_POLICY.maxAttempts);
  merged.totalBudgetMs = clamp(merged.totalBudgetMs, 0, MAX_BUDGET_LIMIT_MS, DEFAULT_RETRY_POLICY.totalBudgetMs);
  merged.baseDelayMs = clamp(merged.baseDelayMs, 0, MAX_BUDGET_LIMIT_MS, DEFAULT_RETRY_POLICY.baseDelayMs);
  merged.maxDelayMs = clamp(merged.maxDelayMs, merged.baseDelayMs, MAX_BUDGET_LIMIT_MS, DEFAULT_RETRY_POLICY.maxDelayMs);
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Full jitter: uniform in [0, min(maxDelay, base * 2^(retry-1))]. `retry` starts at 1. */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs" | "random">): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, Math.min(retry - 1, 30)));
  return Math.floor(policy.random() * cap);
}

/** `Retry-After`: delta seconds or an HTTP date. Returns ms from `nowMs`, never negative. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** `X-RateLimit-Reset`: Unix time in seconds. Returns ms from `nowMs`, never negative. */
export function parseRateLimitReset(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  return Math.max(0, Math.round(Number(value) * 1000 - nowMs));
}

/** The delay a server asked for: `Retry-After` first, else `X-RateLimit-Reset`. Header names lower-case. */
export function serverRequestedDelay(headers: Record<string, string | undefined>, nowMs: number): number | undefined {
  return parseRetryAfter(headers["retry-after"], nowMs) ?? parseRateLimitReset(headers["x-ratelimit-reset"], nowMs);
}

/**
 * What to do after a failed attempt:
 * - `fatal`: give up now.
 * - `retry`: the request did not take effect (or is idempotent); try again.
 * - `unknown-outcome`: a write may have landed; retry only if idempotent or
 *   `wasCommitted()` says it did not.
 */
export type RetryVerdict = { kind: "fatal" } | { kind: "retry"; serverDelayMs?: number } | { kind: "unknown-outcome"; serverDelayMs?: number };

/** Network error codes that prove the request never reached the server. */
const NOT_SENT_CODES: readonly string[] = ["ECONNREFUSED", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "ENETDOWN"];
/** Network error codes after which the request may or may not have been processed. */
const MAYBE_SENT_CODES: readonly string[] = [
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNABORTED",
  "ESOCKETTIMEDOUT",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "UND_ERR_SOCKET",
];

export interface FailureFacts {
  status?: number;
  kind: "http" | "network" | "timeout" | "other";
  networkCode?: string;
  /** Delay asked by the server, already parsed (see `serverRequestedDelay`). */
  serverDelayMs?: number;
}

/**
 * Classify one failed HTTP exchange.
 * 429 and 503 are refusals before any work, so even a POST may be retried; 502 and 504
 * come from a gateway that may have forwarded the request, so a write's outcome is unknown.
 * 500 and other 4xx are not retried: they are usually deterministic.
 */
export function classifyHttpFailure(f: FailureFacts): RetryVerdict {
  const serverDelay = f.serverDelayMs !== undefined ? { serverDelayMs: f.serverDelayMs } : {};
  if (f.kind === "http") {
    if (f.status === 429 || f.status === 503) return { kind: "retry", ...serverDelay };
    if (f.status === 502 || f.status === 504) return { kind: "unknown-outcome", ...serverDelay };
    return { kind: "fatal" };
  }
  if (f.kind === "timeout") return { kind: "unknown-outcome" };
  if (f.kind === "network") {
    if (f.networkCode && NOT_SENT_CODES.includes(f.networkCode)) return { kind: "retry" };
    // Socket hang-ups and resets without a recognizable code are treated as maybe-sent too.
    if (!f.networkCode || MAYBE_SENT_CODES.includes(f.networkCode)) return { kind: "unknown-outcome" };
  }
  return { kind: "fatal" };
}

/**
 * The retry verdict for anything an attempt threw: keywire HTTP errors by their
 * facts, everything else (a bug, a usage error) fatal.
 */
export function classifyKeywireError(err: unknown): RetryVerdict {
  if (!isKeywireHttpError(err)) return { kind: "fatal" };
  return classifyHttpFailure({
    kind: err.kind,
    ...(err.status !== undefined ? { status: err.status } : {}),
    ...(err.networkCode !== undefined ? { networkCode: err.networkCode } : {}),
    ...(err.retryAfterMs !== undefined ? { serverDelayMs: err.retryAfterMs } : {}),
  });
}

export type GiveUpReason =
  /** The failure is not retryable. */
  | "fatal"
  /** `maxAttempts` reached. */
  | "attempts"
  /** The next wait would overrun the total budget. */
  | "budget"
  /** A non-idempotent write's outcome is unknown and no `wasCommitted` check was given. */
  | "unknown-outcome"
  /** The `wasCommitted` check itself failed, so the outcome stays unknown. */
  | "commit-check-failed";

export interface GiveUpInfo {
  reason: GiveUpReason;
  attempts: number;
  elapsedMs: number;
  /** The wait that would have been needed (for `budget`). */
  nextDelayMs?: number;
  /** The verdict of the last failure. */
  verdict: RetryVerdict;
  /** Error thrown by `wasCommitted` (for `commit-check-failed`). */
  checkError?: unknown;
}

export interface AttemptContext {
  /** 1-based. */
  attempt: number;
  /** Budget left when this attempt starts, in ms (use it to shorten request timeouts). */
  remainingMs: number;
}

export interface RetryOptions<T> {
  policy?: Partial<RetryPolicy>;
  classify: (err: unknown) => RetryVerdict;
  /** Idempotent requests are retried even when their outcome is unknown. */
  idempotent: boolean;
  /**
   * For non-idempotent writes: after an unknown outcome, tells whether the write landed.
   * Returns the committed result (returned to the caller instead of writing again), or
   * `undefined` when nothing was committed (then the write is retried).
   */
  wasCommitted?: () => Promise<T | undefined>;
  /** Builds the error thrown when giving up; default: the last error. */
  giveUp?: (lastError: unknown, info: GiveUpInfo) => unknown;
  /** Observer called before each wait. */
  onRetry?: (e: { attempt: number; delayMs: number; verdict: RetryVerdict }) => void;
}

/** Run `attemptFn` until it succeeds or the policy says stop. */
export async function withRetry<T>(attemptFn: (ctx: AttemptContext) => Promise<T>, options: RetryOptions<T>): Promise<T> {
  const policy = resolveRetryPolicy(options.policy);
  const start = policy.now();
  const fail = (err: unknown, info: Omit<GiveUpInfo, "elapsedMs">): unknown =>
    options.giveUp ? options.giveUp(err, { ...info, elapsedMs: policy.now() - start }) : err;

  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    try {
      return await attemptFn({ attempt, remainingMs: Math.max(0, start + policy.totalBudgetMs - policy.now()) });
    } catch (err) {
      const verdict = options.classify(err);
      if (verdict.kind === "fatal") throw fail(err, { reason: "fatal", attempts: attempt, verdict });
      const needsCheck = verdict.kind === "unknown-outcome" && !options.idempotent;
      if (needsCheck && !options.wasCommitted) throw fail(err, { reason: "unknown-outcome", attempts: attempt, verdict });
      if (attempt >= policy.maxAttempts && !needsCheck) throw fail(err, { reason: "attempts", attempts: attempt, verdict });

      const delay = verdict.serverDelayMs !== undefined ? Math.max(SERVER_DELAY_FLOOR_MS, verdict.serverDelayMs) : backoffDelay(attempt, policy);
      const elapsed = policy.now() - start;
      // A write that may have landed is checked even when no retry follows, so the caller
      // learns the truth instead of an "unknown" error; the wait before the check is skipped then.
      const canRetry = attempt < policy.maxAttempts && elapsed + delay <= policy.totalBudgetMs;
      if (!canRetry && !needsCheck) {
        throw fail(err, { reason: "budget", attempts: attempt, verdict, nextDelayMs: delay });
      }
      if (canRetry) {
        options.onRetry?.({ attempt, delayMs: delay, verdict });
        // Waiting before the check also gives a slow server time to finish a write in flight.
        await policy.sleep(delay);
      }
      if (needsCheck) {
        let committed: T | undefined;
        try {
          committed = await options.wasCommitted!();
        } catch (checkError) {
          throw fail(err, { reason: "commit-check-failed", attempts: attempt, verdict, checkError });
        }
        if (committed !== undefined) return committed;
        if (!canRetry) {
          const reason: GiveUpReason = attempt >= policy.maxAttempts ? "attempts" : "budget";
          throw fail(err, { reason, attempts: attempt, verdict, nextDelayMs: delay });
        }
      }
    }
  }
  // Unreachable: the last attempt always returns or throws above.
  throw new Error("retry loop ended without a result");
}
