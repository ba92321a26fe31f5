/**
 * The probe: one request authenticated only by a candidate token, and the strict
 * rule that says whether its answer proves the token.
 *
 * Proof is an answer only the instance can give to an authenticated caller: a 2xx
 * carrying ServiceNow's JSON `result`, or ServiceNow's JSON error envelope for an
 * authorization failure (the caller was known, just not allowed). A 401 is a
 * refusal. Anything else — an HTML page, a proxy's refusal, a 5xx, no answer — is
 * unknown: it proves nothing either way.
 */
import { isKeywireHttpError } from "../../core/errors";
import type { HttpResult } from "../client/tableClient";
import type { EngineContext } from "../engine/runtime";

export interface ProbeSettings {
  /** Path (and query) of a Table API GET the key's user may call. */
  path: string;
  /** How the probe sends the key; must match the inbound profile linked for that API. */
  via: "header" | "query";
}

/** A probe that reads one row's sys_id from a Table API table. */
export function tableProbe(table: string, via: ProbeSettings["via"]): ProbeSettings {
  return { path: `/api/now/table/${table}?sysparm_limit=1&sysparm_fields=sys_id`, via };
}

/** Reading one user row's sys_id: a request any authenticated user may make, or be refused by an ACL. */
export const DEFAULT_PROBE: ProbeSettings = tableProbe("sys_user", "header");

type ProbeOutcome = "proven" | "refused" | "unknown";

export interface ProbeVerdict {
  outcome: ProbeOutcome;
  /** What the probe saw, for people: "HTTP 200 with ServiceNow's JSON result", "an HTML page (HTTP 200)", … */
  seen: string;
}

/** Messages of 403s the platform gives only after it authenticated the caller (ACLs, roles, scopes). */
export const AUTHENTICATED_REFUSAL = /insufficient rights|insufficient scope|security constraints|\bacl\b|not authorized to/i;

/** The message of ServiceNow's JSON error envelope, if `data` is one. */
export function envelopeMessage(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (d.status !== "failure" || typeof d.error !== "object" || d.error === null) return undefined;
  const message = (d.error as Record<string, unknown>).message;
  return typeof message === "string" ? message : undefined;
}

/** Whether the answer is JSON that parsed to an object. */
export function isJson(res: HttpResult): boolean {
  return /\bjson\b/i.test(res.headers["content-type"] ?? "") && typeof res.data === "object" && res.data !== null;
}

/** Judges one answer to a probe. Pure. */
function judgeProbeAnswer(res: HttpResult): ProbeVerdict {
  const status = res.status;
  if (status === 401) return { outcome: "refused", seen: "HTTP 401: the instance did not accept the token" };
  if (status >= 200 && status < 300) {
    if (isJson(res) && Object.prototype.hasOwnProperty.call(res.data, "result")) {
      return { outcome: "proven", seen: `HTTP ${status} with ServiceNow's JSON result` };
    }
    const html = typeof res.data === "string" && /<html|<!doctype/i.test(res.data);
    return { outcome: "unknown", seen: `HTTP ${status} without ServiceNow's JSON result (${html ? "an HTML page" : "not the Table API's answer"})` };
  }
  if (status === 403) {
    const message = isJson(res) ? envelopeMessage(res.data) : undefined;
    if (message !== undefined && AUTHENTICATED_REFUSAL.test(message)) {
      return { outcome: "proven", seen: `HTTP 403 "${message.slice(0, 80)}": authenticated, not authorized for that request` };
    }
    return {
      outcome: "unknown",
      seen:
        message !== undefined
          ? `HTTP 403 "${message.slice(0, 80)}" (not an answer only an authenticated caller gets)`
          : "HTTP 403 without ServiceNow's error envelope (a proxy or firewall?)",
    };
  }
  return { outcome: "unknown", seen: `HTTP ${status}` };
}

/** Sends one probe authenticated only by `token` and judges the answer; never throws for an HTTP outcome. */
export async function probeToken(ctx: EngineContext, token: string, probe: ProbeSettings): Promise<ProbeVerdict> {
  const [path, rawQuery] = probe.path.split("?", 2);
  const query = new URLSearchParams(rawQuery ?? "");
  const headers: Record<string, string> = {};
  if (probe.via === "header") headers["x-sn-apikey"] = token;
  else query.set("x-sn-apikey", token);
  try {
    const res = await ctx.client.request("GET", path, {
      auth: "none",
      headers,
      query: Object.fromEntries(query.entries()),
      secrets: [token],
      // Every answer but a transient one is judged here; 429 and 5xx are retried first.
      acceptStatus: [300, 301, 302, 303, 307, 308, 400, 401, 403, 404, 405, 406, 407, 409, 410],
      operation: "probe api_key token",
    });
    return judgeProbeAnswer(res);
  } catch (err) {
    if (!isKeywireHttpError(err)) throw err;
    const seen =
      err.kind === "http"
        ? `HTTP ${err.status ?? "?"}`
        : err.kind === "timeout"
          ? "no answer in time"
          : `a broken connection${err.networkCode ? ` (${err.networkCode})` : ""}`;
    return { outcome: "unknown", seen };
  }
}
