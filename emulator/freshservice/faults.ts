/** Failures injected by `failNext`: answered before the rate limit and auth, like an outage in front of the account. */
import { codeBody, MESSAGES, validationBody } from "./reply";
import type { FailNext } from "./types";

const MAX_FAULT_COUNT = 10_000;
const MAX_PENDING = 100;

export class Faults {
  private pending: FailNext[] = [];

  add(f: FailNext): void {
    if (!(f.count >= 0 && f.count <= MAX_FAULT_COUNT) || !(f.status >= 400 && f.status <= 599)) throw new Error("failNext: count 0..10000, status 400..599");
    if (this.pending.length >= MAX_PENDING) throw new Error("too many pending faults");
    this.pending.push({ ...f });
  }

  /** The first pending fault whose prefix the path matches, used once. */
  take(path: string): FailNext | undefined {
    const fault = this.pending.find((f) => f.count > 0 && (!f.pathPrefix || path.startsWith(f.pathPrefix)));
    if (!fault) return undefined;
    fault.count -= 1;
    this.pending = this.pending.filter((f) => f.count > 0);
    return fault;
  }

  clear(): void {
    this.pending = [];
  }
}

/** Body for an injected failure, matching what the platform sends for that status. */
export function faultBody(status: number): unknown {
  if (status === 401) return codeBody("invalid_credentials");
  if (status === 403) return codeBody("access_denied");
  if (status === 404) return codeBody("not_found");
  if (status === 429) return codeBody("rate_limited", MESSAGES.rate_limited);
  if (status === 400) return validationBody([{ field: "body", message: "Injected validation failure", code: "invalid_value" }]);
  return codeBody("server_error");
}

/** An injected 429 carries the rate-limit headers of a used-up minute, as a real one does. */
export function faultHeaders(fault: FailNext, perMinute: number): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfterSeconds !== undefined) headers["Retry-After"] = String(fault.retryAfterSeconds);
  if (fault.status === 429) {
    headers["X-RateLimit-Total"] = String(perMinute);
    headers["X-RateLimit-Remaining"] = "0";
    headers["X-RateLimit-Used-CurrentRequest"] = "0";
  }
  return headers;
}
