/**
 * Per-minute, per-account rate limiting as Freshservice describes it: fixed one-minute
 * windows; every call counts (failed ones too); list-agents calls also count against
 * their own lower ceiling.
 */
import type { RateLimits } from "./types";

const WINDOW_MS = 60_000;

export type RateDecision = { allowed: true; headers: Record<string, string> } | { allowed: false; headers: Record<string, string>; retryAfterSeconds: number };

export class RateLimiter {
  private window = -1;
  private used = 0;
  private listAgentsUsed = 0;

  constructor(
    public limits: RateLimits,
    private readonly clock: () => number,
  ) {}

  reset(): void {
    this.window = -1;
    this.used = 0;
    this.listAgentsUsed = 0;
  }

  /** Records one call (when allowed) and says whether it may go on. */
  take(isListAgents: boolean): RateDecision {
    const now = this.clock();
    const w = Math.floor(now / WINDOW_MS);
    if (w !== this.window) {
      this.window = w;
      this.used = 0;
      this.listAgentsUsed = 0;
    }
    const total = this.limits.perMinute;
    const retryAfterSeconds = Math.max(1, Math.ceil(((w + 1) * WINDOW_MS - now) / 1000));
    const over = this.used >= total || (isListAgents && this.listAgentsUsed >= this.limits.listAgentsPerMinute);
    if (over) {
      return {
        allowed: false,
        retryAfterSeconds,
        headers: {
          "X-RateLimit-Total": String(total),
          "X-RateLimit-Remaining": String(Math.max(0, total - this.used)),
          "X-RateLimit-Used-CurrentRequest": "0",
          "Retry-After": String(retryAfterSeconds),
        },
      };
    }
    this.used += 1;
    if (isListAgents) this.listAgentsUsed += 1;
    return {
      allowed: true,
      headers: {
        "X-RateLimit-Total": String(total),
        "X-RateLimit-Remaining": String(Math.max(0, total - this.used)),
        "X-RateLimit-Used-CurrentRequest": "1",
      },
    };
  }
}
