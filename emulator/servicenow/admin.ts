/**
 * The loopback-only admin API under `/__emulator/`: metrics, reset, faults, options, and an API
 * key's token for the person running the emulator (what the key's form shows). No auth: the
 * server answers it to loopback callers only.
 */
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
  tokenOf(apiKeySysId: string): string | undefined;
}

const TOKEN_ROUTE = /^GET \/__emulator\/token\/([0-9a-f]{32})$/;

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

function publicOptions(em: AdminTarget): Record<string, unknown> {
  // The admin password is a credential: never echoed.
  const { adminPassword: _omit, ...rest } = em.opts;
  void _omit;
  return rest;
}

export function handleAdmin(em: AdminTarget, method: string, path: string, body: string): Reply {
  const route = `${method} ${path.replace(/\/+$/, "")}`;
  const token = TOKEN_ROUTE.exec(route);
  if (token) {
    const value = em.tokenOf(token[1]);
    return value ? { status: 200, body: { sys_id: token[1], token: value } } : { status: 404, body: { error: `no api_key ${token[1]}` } };
  }
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
