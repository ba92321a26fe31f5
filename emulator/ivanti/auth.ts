/**
 * The REST API key check: `Authorization: rest_api_key=<Reference ID>`, the key active,
 * made in this tenant, and called from an address on its IP list when it has one.
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import type { KeyStore } from "./keys";
import { ismError } from "./reply";
import type { IvantiKeyRecord, RefusalReason } from "./types";

const KEY_HEADER = /^rest_api_key=([A-Za-z0-9]{1,64})$/;

function normalizeIp(ip: string | undefined): string {
  if (!ip) return "";
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/**
 * The key for a request, or the reason it is refused. `clientIp` stands in for the
 * socket's address when a test sets one.
 */
export function authorize(req: IncomingMessage, keys: Pick<KeyStore, "get">, tenant: string, clientIp: string | undefined): IvantiKeyRecord | RefusalReason {
  const h = req.headers.authorization;
  if (typeof h !== "string" || h.length > 200) return "missing_or_malformed";
  const m = KEY_HEADER.exec(h);
  if (!m) return "missing_or_malformed";
  const key = keys.get(m[1]);
  if (!key) return "unknown_key";
  if (!key.activated) return "deactivated";
  if (key.tenant.toLowerCase() !== tenant.toLowerCase()) return "wrong_tenant";
  const ip = clientIp ?? normalizeIp(req.socket.remoteAddress);
  if (key.ipList.length > 0 && !key.ipList.includes(ip)) return "ip_not_allowed";
  return key;
}

/** The platform does not say which rule refused a key; tenant/IP refusals read "not authorized". */
export function refusalBody(reason: RefusalReason): ReturnType<typeof ismError> {
  return reason === "wrong_tenant" || reason === "ip_not_allowed"
    ? ismError("ISM_4001", "Not authorized", "The REST API key is not authorized for this tenant or IP address")
    : ismError("ISM_4001", "Invalid session key or session timed out", "Authentication required");
}
