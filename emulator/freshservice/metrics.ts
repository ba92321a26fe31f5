/** Request counters: per status, per route, and the refusals tests watch for (429, 401). */
import type { FreshserviceEmulatorMetrics } from "./types";

function emptyMetrics(): FreshserviceEmulatorMetrics {
  return { total: 0, byStatus: {}, byRoute: {}, rateLimited: 0, authFailures: 0 };
}

export class Metrics {
  private m = emptyMetrics();

  count(route: string, status: number): void {
    const m = this.m;
    m.total += 1;
    m.byStatus[String(status)] = (m.byStatus[String(status)] ?? 0) + 1;
    m.byRoute[route] = (m.byRoute[route] ?? 0) + 1;
    if (status === 429) m.rateLimited += 1;
    if (status === 401) m.authFailures += 1;
  }

  snapshot(): FreshserviceEmulatorMetrics {
    return structuredClone(this.m);
  }

  reset(): void {
    this.m = emptyMetrics();
  }
}
