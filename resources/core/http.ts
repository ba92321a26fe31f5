/**
 * One HTTP exchange, as every keywire client makes it:
 * - one deadline for the whole exchange, body included (axios' own timeout is per
 *   socket phase);
 * - no redirects: they would carry the credentials elsewhere, and on these
 *   platforms mean a login page, a sleeping instance or a wrong URL;
 * - any status is an answer, for the caller to judge; the body stays text, at most
 *   `maxBytes`; a body cut short of its Content-Length is a reset connection;
 * - no proxy for a loopback host (the bundled emulators).
 * A failure comes back as the library's error, which carries request headers: the
 * caller rebuilds it through redact.ts and never shows it as it is.
 */
import type { AxiosStatic } from "axios";

export interface Exchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  data?: string;
  timeoutMs: number;
  maxBytes: number;
  loopback: boolean;
}

/** An answer (any status; header names lower-cased; the body as the server sent it), or what went wrong. */
export type ExchangeResult = { ok: true; status: number; headers: Record<string, string>; body: unknown } | { ok: false; error: unknown; timedOut: boolean };

export async function exchange(x: Exchange): Promise<ExchangeResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded at the first request, so a program that makes none (a preview, the drift report) never loads it
  const axios = (require("axios") as { default: AxiosStatic }).default;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, x.timeoutMs);
  try {
    const res = await axios.request<unknown>({
      method: x.method,
      url: x.url,
      headers: x.headers,
      data: x.data,
      responseType: "text",
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: x.maxBytes,
      maxBodyLength: x.maxBytes,
      signal: controller.signal,
      ...(x.loopback ? { proxy: false as const } : {}),
    });
    return { ok: true, status: res.status, headers: lowerHeaders(res.headers), body: res.data };
  } catch (error) {
    // axios reports an answer cut off mid-body as a bad response carrying the status
    // it had read: it is a connection that broke, not an answer.
    const e = error as { code?: unknown; message?: unknown };
    if (!timedOut && e.code === "ERR_BAD_RESPONSE" && /aborted/i.test(String(e.message))) {
      return { ok: false, error: Object.assign(new Error("the answer was cut off mid-body"), { code: "ECONNRESET" }), timedOut };
    }
    return { ok: false, error, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

function lowerHeaders(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof h !== "object" || h === null) return out;
  for (const [k, v] of Object.entries(h as Record<string, unknown>)) {
    if (typeof v === "string") out[k.toLowerCase()] = v;
    else if (typeof v === "number" || typeof v === "boolean") out[k.toLowerCase()] = String(v);
    else if (Array.isArray(v)) out[k.toLowerCase()] = v.join(", ");
  }
  return out;
}
