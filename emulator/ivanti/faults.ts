/** Failures injected by `failNext`: answered before auth, for any API request. */
import { ismError } from "./reply";

export interface Fault {
  count: number;
  status: number;
  retryAfterSeconds?: number;
}

const MAX_FAULT_COUNT = 10_000;
const MAX_PENDING = 100;

export class Faults {
  private pending: Fault[] = [];

  add(f: Fault): void {
    if (!(f.count >= 0 && f.count <= MAX_FAULT_COUNT) || !(f.status >= 400 && f.status <= 599)) throw new Error("failNext: count 0..10000, status 400..599");
    if (this.pending.length >= MAX_PENDING) throw new Error("too many pending faults");
    this.pending.push({ ...f });
  }

  /** The first pending fault, used once. */
  take(): Fault | undefined {
    const fault = this.pending.find((f) => f.count > 0);
    if (!fault) return undefined;
    fault.count -= 1;
    this.pending = this.pending.filter((f) => f.count > 0);
    return fault;
  }

  clear(): void {
    this.pending = [];
  }
}

/** The ISM error the platform sends for the injected status. */
export function faultBody(status: number): ReturnType<typeof ismError> {
  if (status === 401) return ismError("ISM_4001", "Invalid session key or session timed out", "Authentication required");
  if (status === 404) return ismError("ISM_4004", "Requested resource does not exist", "Invalid Path");
  if (status < 500) return ismError("ISM_4000", "Invalid Request Payload", "Injected failure");
  return ismError("ISM_5000", "Internal Server Error", "Injected failure");
}

export function faultHeaders(fault: Fault): Record<string, string> {
  return fault.retryAfterSeconds !== undefined ? { "Retry-After": String(fault.retryAfterSeconds) } : {};
}
