/** The loopback-only admin API under `/__emulator/`: metrics, reset, faults, options. No auth. */
import type { Faults } from "./faults";
import type { Reply } from "./http/reply";
import type { Metrics } from "./metrics";
import { describeZodError, faultSchema, runtimeOptionsSchema, type ResolvedOptions } from "./options";
import type { EmulatorOptions, FaultSettings } from "./types";

/** The controls the admin API drives; the emulator provides them. */
export interface AdminTarget {
  readonly opts: ResolvedOptions;
  readonly faults: Pick<Faults, "get" | "set">;
  readonly metrics: Pick<Metrics, "snapshot" | "reset">;
  reset(): void;
  setOptions(o: Partial<EmulatorOptions>): void;
}

function bad(message: string): Reply {
  return { status: 400, body: { error: message } };
}

function parse(body: string): { value: unknown } | { reply: Reply } {
  try {
    return { value: body.trim() === "" ? {} : (JSON.parse(body) as unknown) };
  } catch {
    return { reply: bad("body is not valid JSON") };
  }
}

export function publicOptions(em: AdminTarget): Record<string, unknown> {
  // The admin password is a credential: never echoed.
  const { adminPassword: _omit, ...rest } = em.opts;
  void _omit;
  return rest;
}

export function handleAdmin(em: AdminTarget, method: string, path: string, body: string): Reply {
  const route = `${method} ${path.replace(/\/+$/, "")}`;
  switch (route) {
    case "GET /__emulator/metrics":
      return { status: 200, body: em.metrics.snapshot() };
    case "POST /__emulator/metrics/reset":
      em.metrics.reset();
      return { status: 204 };
    case "POST /__emulator/reset":
      em.reset();
      return { status: 204 };
    case "GET /__emulator/faults":
      return { status: 200, body: em.faults.get() };
    case "PUT /__emulator/faults": {
      const p = parse(body);
      if ("reply" in p) return p.reply;
      const r = faultSchema.safeParse(p.value);
      if (!r.success) return bad(describeZodError(r.error));
      em.faults.set(r.data as FaultSettings);
      return { status: 200, body: em.faults.get() };
    }
    case "GET /__emulator/options":
      return { status: 200, body: publicOptions(em) };
    case "PATCH /__emulator/options": {
      const p = parse(body);
      if ("reply" in p) return p.reply;
      const r = runtimeOptionsSchema.safeParse(p.value);
      if (!r.success) return bad(describeZodError(r.error));
      em.setOptions(r.data as Partial<EmulatorOptions>);
      return { status: 200, body: publicOptions(em) };
    }
    default:
      return { status: 404, body: { error: `no admin route ${route}` } };
  }
}
