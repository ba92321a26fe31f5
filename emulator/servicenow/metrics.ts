/** Request counters, per method, per table and method, and per route. */
import type { EmulatorMetrics } from "./types";

export class Metrics {
  private m: EmulatorMetrics = { total: 0, byMethod: {}, byTable: {}, byRoute: {} };

  count(method: string, route: string, table?: string): void {
    const m = this.m;
    m.total++;
    m.byMethod[method] = (m.byMethod[method] ?? 0) + 1;
    m.byRoute[route] = (m.byRoute[route] ?? 0) + 1;
    if (table) {
      const t = (m.byTable[table] ??= {});
      t[method] = (t[method] ?? 0) + 1;
    }
  }

  snapshot(): EmulatorMetrics {
    return structuredClone(this.m);
  }

  reset(): void {
    this.m = { total: 0, byMethod: {}, byTable: {}, byRoute: {} };
  }
}
