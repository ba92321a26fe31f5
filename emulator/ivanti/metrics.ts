/** Request counters: per status, per route, and the refusals by reason. */
import type { IvantiEmulatorMetrics, RefusalReason } from "./types";

function emptyMetrics(): IvantiEmulatorMetrics {
  return {
    total: 0,
    byStatus: {},
    byRoute: {},
    refusals: { missing_or_malformed: 0, unknown_key: 0, deactivated: 0, wrong_tenant: 0, ip_not_allowed: 0, role_forbidden: 0 },
  };
}

export class Metrics {
  private m = emptyMetrics();

  count(route: string, status: number): void {
    const m = this.m;
    m.total += 1;
    m.byStatus[String(status)] = (m.byStatus[String(status)] ?? 0) + 1;
    m.byRoute[route] = (m.byRoute[route] ?? 0) + 1;
  }

  refused(reason: RefusalReason): void {
    this.m.refusals[reason] += 1;
  }

  snapshot(): IvantiEmulatorMetrics {
    return structuredClone(this.m);
  }

  reset(): void {
    this.m = emptyMetrics();
  }
}
