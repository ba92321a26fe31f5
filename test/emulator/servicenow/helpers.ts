/** Shared helpers for the ServiceNow emulator's contract tests. */
import { request } from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import type { GlideRecord, RunningEmulator } from "../../../emulator/servicenow";

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body as received, for binary answers. */
  raw: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON answers field by field
  body: any;
}

export interface CallOptions {
  auth?: string;
  body?: unknown;
  headers?: Record<string, string>;
  rawBody?: string | Buffer;
}

export function basic(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
}

export const ADMIN = basic("admin", "admin");

/** One request on a fresh connection; rejects on socket errors (dropped connections). */
export function call(base: string, method: string, path: string, o: CallOptions = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Accept: "application/json", ...o.headers };
    if (o.auth) headers.Authorization = o.auth;
    let payload: string | Buffer | undefined = o.rawBody;
    if (payload === undefined && o.body !== undefined) {
      payload = JSON.stringify(o.body);
      headers["Content-Type"] ??= "application/json";
    }
    if (payload !== undefined) headers["Content-Length"] = Buffer.byteLength(payload);
    const req = request(base + path, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString("utf8");
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, raw, body });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(payload);
  });
}

export function client(base: string, auth: string = ADMIN) {
  return {
    get: (path: string, o: CallOptions = {}) => call(base, "GET", path, { auth, ...o }),
    post: (path: string, body: unknown, o: CallOptions = {}) => call(base, "POST", path, { auth, body, ...o }),
    patch: (path: string, body: unknown, o: CallOptions = {}) => call(base, "PATCH", path, { auth, body, ...o }),
    put: (path: string, body: unknown, o: CallOptions = {}) => call(base, "PUT", path, { auth, body, ...o }),
    del: (path: string, o: CallOptions = {}) => call(base, "DELETE", path, { auth, ...o }),
  };
}

export function one(em: RunningEmulator, table: string, pred: (r: GlideRecord) => boolean): GlideRecord {
  const rows = em.store.query(table, pred);
  if (rows.length !== 1) throw new Error(`expected one ${table} row, found ${rows.length}`);
  return rows[0];
}

/** A user with a password and roles, created out of band. */
export function makeUser(em: RunningEmulator, userName: string, roles: string[], extra: Record<string, unknown> = {}): GlideRecord {
  const user = em.store.insert("sys_user", { user_name: userName, first_name: userName, last_name: "Test", user_password: "pw", ...extra });
  for (const name of roles) {
    const role = one(em, "sys_user_role", (r) => r.name === name);
    em.store.insert("sys_user_has_role", { user: user.sys_id, role: role.sys_id });
  }
  return user;
}

/** An API key for a user; returns the row and its real token. */
export function makeKey(em: RunningEmulator, userId: string, extra: Record<string, unknown> = {}): { row: GlideRecord; token: string } {
  const row = em.store.insert("api_key", { name: `key ${userId.slice(0, 6)}`, user: userId, ...extra });
  return { row, token: em.tokenOf(row.sys_id)! };
}

function authParam(em: RunningEmulator, kind: "header" | "query"): GlideRecord {
  return one(em, "sys_token_auth_parameter", (r) => (kind === "header" ? r.type === "auth_header" : r.type !== "auth_header"));
}

/** An API-key inbound profile for the header or the query-parameter variant. */
export function makeKeyProfile(em: RunningEmulator, kind: "header" | "query", active = true): GlideRecord {
  return em.store.insert("http_key_auth", { name: `API key via ${kind}`, active, auth_parameter: authParam(em, kind).sys_id });
}

export function policyNamed(em: RunningEmulator, name: string): GlideRecord {
  return one(em, "sys_api_access_policy", (r) => r.name === name);
}

export function mapProfile(em: RunningEmulator, policyId: string, profileId: string): GlideRecord {
  return em.store.insert("sys_auth_profile_mapping", { api_access_policy: policyId, inbound_auth_profile: profileId });
}

export const SYS_ID = /^[0-9a-f]{32}$/;
export const GLIDE_DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Every leaf of a Table API result is a string. */
export function allStrings(v: unknown): boolean {
  if (typeof v === "string") return true;
  if (v && typeof v === "object") return Object.values(v).every(allStrings);
  return false;
}
