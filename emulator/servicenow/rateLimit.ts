/**
 * sys_rate_limit_rules: requests per user per wall-clock hour. Precedence: a rule for the
 * single user > a rule for one of the user's roles > a rule for all users; within the
 * winning kind the lowest limit applies. Counting is immediate (the platform commits its
 * per-node counts every 30 s; a test wants the exact request that crosses the line).
 */
import type { ApiCall } from "./auth/policy";
import { resourceMatches } from "./auth/policy";
import { errorReply, type Reply } from "./http/reply";
import type { GlideRecord } from "./types";

type Kind = "user" | "role" | "all";

function kindOf(rule: GlideRecord): Kind {
  const t = (rule.type ?? "")
    .trim()
    .toLowerCase()
    .replace(/[_\s]+/g, " ");
  if (t === "all users" || t === "all" || t === "everyone") return "all";
  if (t.includes("role")) return "role";
  if (t.includes("user")) return "user";
  if (rule.user) return "user";
  if (rule.role) return "role";
  return "all";
}

const HOUR_MS = 3_600_000;

export interface RateDecision {
  headers: Record<string, string>;
  refusal?: Reply;
}

/** What the limiter reads on every request, so edits to rules, roles and options apply at once. */
export interface RateLimitSources {
  /** The rows of sys_rate_limit_rules. */
  rules(): Iterable<GlideRecord>;
  /** The per-hour limit column, which an option can rename while running. */
  limitColumn(): string;
  /** The name of the sys_user_role row with this sys_id. */
  roleName(sysId: string): string | undefined;
  /** The API path a rule's `api` or `api_path` names, as policies resolve it. */
  apiPathOf(rule: GlideRecord): string;
  /** Wall-clock time in ms, which sets the hourly window. */
  now(): number;
}

export class RateLimiter {
  private counts = new Map<string, number>();
  private window = -1;

  constructor(private readonly sources: RateLimitSources) {}

  reset(): void {
    this.counts.clear();
  }

  private governingRule(userId: string, roles: Set<string>, call: ApiCall): { rule: GlideRecord; limit: number } | undefined {
    const src = this.sources;
    const column = src.limitColumn();
    const best: Record<Kind, { rule: GlideRecord; limit: number } | undefined> = { user: undefined, role: undefined, all: undefined };
    for (const rule of src.rules()) {
      if (rule.active !== "true") continue;
      const raw = rule[column];
      if (raw === undefined || raw === "" || !/^\d+$/.test(raw)) continue;
      const limit = Number(raw);
      if (rule.api || rule.api_path) {
        if (src.apiPathOf(rule) !== call.apiPath) continue;
      }
      if (rule.api_resource && !resourceMatches(rule.api_resource.split("/").filter(Boolean), call.resource)) continue;
      if (rule.http_method && rule.http_method.toUpperCase() !== call.method) continue;
      const kind = kindOf(rule);
      if (kind === "user" && rule.user !== userId) continue;
      if (kind === "role") {
        const role = rule.role ? src.roleName(rule.role) : undefined;
        if (role === undefined || !roles.has(role)) continue;
      }
      const cur = best[kind];
      if (!cur || limit < cur.limit) best[kind] = { rule, limit };
    }
    return best.user ?? best.role ?? best.all;
  }

  /** Counts the request and says whether it may go on, with the headers to send either way. */
  check(userId: string, roles: Set<string>, call: ApiCall, now = this.sources.now()): RateDecision {
    const gov = this.governingRule(userId, roles, call);
    if (!gov) return { headers: {} };
    const window = Math.floor(now / HOUR_MS);
    if (window !== this.window) {
      this.counts.clear();
      this.window = window;
    }
    const key = `${gov.rule.sys_id}|${userId}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    const resetAt = (window + 1) * HOUR_MS;
    const headers: Record<string, string> = {
      "X-RateLimit-Limit": String(gov.limit),
      "X-RateLimit-Reset": String(Math.floor(resetAt / 1000)),
      "X-RateLimit-Rule": gov.rule.sys_id,
    };
    if (n <= gov.limit) return { headers };
    headers["Retry-After"] = String(Math.max(1, Math.ceil((resetAt - now) / 1000)));
    return {
      headers,
      refusal: errorReply(
        429,
        "Rate limit exceeded",
        `Rate limit of ${gov.limit} requests per hour exceeded for rule ${gov.rule.name || gov.rule.sys_id}`,
        headers,
      ),
    };
  }
}
