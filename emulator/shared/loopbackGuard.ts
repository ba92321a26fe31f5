/**
 * Refuses requests that reach an emulator on 127.0.0.1 but were not meant for it: a Host
 * header that is not a loopback name (a DNS-rebinding page whose own name now resolves to
 * 127.0.0.1), or an Origin header naming a non-loopback site (a page elsewhere posting to the
 * emulator, which a `text/plain` form or fetch can do without any CORS preflight). Tools
 * such as curl, Node clients and the Pulumi providers send a loopback Host and no Origin.
 */
import type { IncomingHttpHeaders, ServerResponse } from "node:http";

export interface ForeignRequest {
  /** 421 Misdirected Request for a foreign Host, 403 for a foreign Origin. */
  status: 421 | 403;
  message: string;
  detail: string;
}

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const LOOPBACK_NAME = `(?:localhost|127(?:\\.${OCTET}){3}|\\[::1\\])`;
const PORT = "(?::\\d{1,5})?";
const LOOPBACK_HOST = new RegExp(`^${LOOPBACK_NAME}${PORT}$`, "i");
const LOOPBACK_ORIGIN = new RegExp(`^https?://${LOOPBACK_NAME}${PORT}$`, "i");

/** `localhost`, `127.x.x.x` or `[::1]`, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOST.test(host);
}

/** An http(s) origin on a loopback name; `null` (sandboxed frames, files) is not one. */
export function isLoopbackOrigin(origin: string): boolean {
  return LOOPBACK_ORIGIN.test(origin);
}

export function foreignRequest(headers: IncomingHttpHeaders): ForeignRequest | undefined {
  const host = headers.host ?? "";
  if (!isLoopbackHost(host)) {
    return { status: 421, message: "Misdirected Request", detail: "This emulator answers only requests addressed to localhost, 127.x.x.x or [::1]" };
  }
  const origin = headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin)) {
    return { status: 403, message: "Forbidden", detail: "Requests from web pages outside this machine are refused" };
  }
  return undefined;
}

/** For servers without an error format of their own: a JSON answer naming the refusal. */
export function writePlainRefusal(res: ServerResponse, foreign: ForeignRequest): void {
  const body = JSON.stringify({ error: foreign.message, detail: foreign.detail });
  res.writeHead(foreign.status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}
