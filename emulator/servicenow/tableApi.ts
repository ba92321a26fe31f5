/** The Table API: list, get, create, update, delete on any known table. */
import type { Principal } from "./auth/judge";
import { rolesAllow } from "./auth/directory";
import type { Emulator } from "./emulator";
import { isSysId } from "./glide";
import { errorReply, type Reply } from "./http/reply";
import { resolvePath } from "./fieldPath";
import type { Term } from "./query";
import { resolveFieldList, type DisplayMode, type RenderOptions } from "./render";
import { DuplicateSysIdError, StoreConstraintError } from "./store";
import type { TableDef } from "./schema";
import type { GlideRecord } from "./types";

/** The parts of the emulator the Table API reads and writes through. */
export type TableApiContext = Pick<Emulator, "opts" | "schema" | "store" | "renderer" | "baseUrl" | "compiledQuery" | "tableDef" | "visibleClasses">;

export interface TableRequest {
  method: string;
  /** "", "v1" or "v2" as written in the path */
  version: string;
  table: string;
  sysId?: string;
  query: URLSearchParams;
  body: string;
  principal: Principal;
}

const DEFAULT_LIMIT = 10000;

function flag(q: URLSearchParams, name: string): boolean {
  return (q.get(name) ?? "").toLowerCase() === "true";
}

function displayMode(q: URLSearchParams): DisplayMode {
  const v = (q.get("sysparm_display_value") ?? "").toLowerCase();
  return v === "true" || v === "all" ? v : "false";
}

function nonNegativeInt(s: string | null): number | undefined {
  if (s === null || !/^\d+$/.test(s.trim())) return undefined;
  return Number(s.trim());
}

function readDenied(table: string): Reply {
  return errorReply(403, "Insufficient rights to query records", `The user's roles do not allow reading table ${table}`);
}

function writeDenied(verb: "Insert" | "Update" | "Delete"): Reply {
  return errorReply(403, "Operation Failed", `ACL Exception ${verb} Failed due to security constraints`);
}

const NOT_FOUND = errorReply(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval");

function invalidTable(table: string): Reply {
  return errorReply(400, `Invalid table ${table}`, null);
}

/** Parses a JSON object body; anything else is the platform's "Exception while reading request". */
function parseJsonObject(body: string): { fields: Record<string, unknown> } | { reply: Reply } {
  if (body.trim() === "") return { fields: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { reply: errorReply(400, "Exception while reading request", "The payload is not valid JSON.") };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { reply: errorReply(400, "Exception while reading request", "The payload must be a JSON object.") };
  }
  return { fields: parsed as Record<string, unknown> };
}

export function handleTable(em: TableApiContext, r: TableRequest): Reply {
  const def = em.tableDef(r.table);
  if (!def) return invalidTable(r.table);
  const roles = r.principal.roles;
  const reading = r.method === "GET";
  if (reading ? !rolesAllow(roles, def.access.read) : !rolesAllow(roles, def.access.write)) {
    if (reading) return readDenied(def.name);
    return writeDenied(r.method === "POST" ? "Insert" : r.method === "DELETE" ? "Delete" : "Update");
  }
  const renderOpts: RenderOptions = {
    displayValue: displayMode(r.query),
    excludeReferenceLink: flag(r.query, "sysparm_exclude_reference_link"),
    fields: resolveFieldList(em.schema, def.name, r.query.get("sysparm_fields")),
    baseUrl: em.baseUrl,
    revealSecrets: em.opts.tokenReadback === "display_value" || em.opts.tokenReadback === "both",
  };

  if (r.sysId === undefined) {
    if (r.method === "GET") return list(em, def, r, renderOpts);
    if (r.method === "POST") return create(em, def, r, renderOpts);
    return errorReply(405, "Method not Supported", `HTTP method ${r.method} is not supported on a table collection`);
  }
  switch (r.method) {
    case "GET": {
      const rec = isSysId(r.sysId) ? em.store.get(def.name, r.sysId) : undefined;
      if (!rec || !em.visibleClasses(def.name).includes(rec.sys_class_name)) return NOT_FOUND;
      return { status: 200, body: { result: em.renderer.render(def, rec, renderOpts) } };
    }
    case "PUT":
    case "PATCH":
      return update(em, def, r, renderOpts);
    case "DELETE": {
      const rec = isSysId(r.sysId) ? em.store.get(def.name, r.sysId) : undefined;
      if (!rec || !em.visibleClasses(def.name).includes(rec.sys_class_name)) return NOT_FOUND;
      em.store.delete(def.name, r.sysId);
      return { status: 204 };
    }
    default:
      return errorReply(405, "Method not Supported", `HTTP method ${r.method} is not supported on a record`);
  }
}

/** Plain `field=value` parameters filter like an encoded `field=value` term. */
function parameterFilters(em: TableApiContext, def: TableDef, q: URLSearchParams): Term[] {
  const terms: Term[] = [];
  for (const [k, v] of q) {
    if (k.startsWith("sysparm_") || k === "x-sn-apikey") continue;
    if (resolvePath(em.schema, def.name, k)) terms.push({ field: k, op: "=", value: v });
  }
  return terms;
}

function list(em: TableApiContext, def: TableDef, r: TableRequest, o: RenderOptions): Reply {
  const q = r.query;
  const limit = nonNegativeInt(q.get("sysparm_limit")) || DEFAULT_LIMIT;
  const offset = nonNegativeInt(q.get("sysparm_offset")) ?? 0;
  const compiled = em.compiledQuery(def.name, q.get("sysparm_query") ?? "", parameterFilters(em, def, q));
  const pred = compiled.predicate;
  let rows: GlideRecord[] = [];
  em.store.each(em.visibleClasses(def.name), pred ? (rec) => void (pred(rec) && rows.push(rec)) : (rec) => void rows.push(rec));
  const total = rows.length;
  if (compiled.compare) rows.sort(compiled.compare);
  rows = rows.slice(offset, offset + limit);

  const headers: Record<string, string> = {};
  if (!flag(q, "sysparm_no_count")) headers["X-Total-Count"] = String(total);
  if (!flag(q, "sysparm_suppress_pagination_header")) headers.Link = linkHeader(em, r, limit, offset, total);
  if (rows.length === 0 && r.version === "v1") {
    return errorReply(404, "No Record found", "Records matching query not found. Check query parameter or offset parameter", headers);
  }
  return { status: 200, headers, body: { result: rows.map((rec) => em.renderer.render(def, rec, o)) } };
}

function linkHeader(em: TableApiContext, r: TableRequest, limit: number, offset: number, total: number): string {
  const p = new URLSearchParams(r.query);
  p.delete("x-sn-apikey");
  p.delete("sysparm_limit");
  p.delete("sysparm_offset");
  const rest = p.toString();
  const prefix = `<${em.baseUrl}/api/now/${r.version ? `${r.version}/` : ""}table/${r.table}?${rest}${rest ? "&" : ""}sysparm_limit=${limit}&sysparm_offset=`;
  const links = [`${prefix}0>;rel="first"`];
  if (offset > 0) links.push(`${prefix}${Math.max(0, offset - limit)}>;rel="prev"`);
  if (offset + limit < total) links.push(`${prefix}${offset + limit}>;rel="next"`);
  const last = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  links.push(`${prefix}${last}>;rel="last"`);
  return links.join(",");
}

/** sysparm_input_display_value matters for the token read-back variant only: references resolve display values in both modes. */
function writeContext(em: TableApiContext, r: TableRequest) {
  const inputDisplayValue = flag(r.query, "sysparm_input_display_value");
  return {
    userName: r.principal.user.user_name,
    trusted: false,
    acceptToken: inputDisplayValue && (em.opts.tokenReadback === "input_display_value" || em.opts.tokenReadback === "both"),
  };
}

/**
 * A client may choose the new record's sys_id. Absent, null or "" lets the instance pick one;
 * anything else must be 32 lowercase hex, or the insert is refused rather than silently given
 * another sys_id the client would not know to look for.
 */
function invalidChosenSysId(fields: Record<string, unknown>): Reply | undefined {
  const v = fields.sys_id;
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "string" && isSysId(v)) return undefined;
  return errorReply(400, "Invalid sys_id", "A sys_id must be 32 lowercase hexadecimal characters");
}

function create(em: TableApiContext, def: TableDef, r: TableRequest, o: RenderOptions): Reply {
  const parsed = parseJsonObject(r.body);
  if ("reply" in parsed) return parsed.reply;
  const badSysId = invalidChosenSysId(parsed.fields);
  if (badSysId) return badSysId;
  // The variant where the instance makes its own sys_id whatever the client sent.
  if (em.opts.clientSysIds === "ignored") delete parsed.fields.sys_id;
  try {
    const rec = em.store.insert(def, parsed.fields, writeContext(em, r));
    return {
      status: 201,
      headers: { Location: `${em.baseUrl}/api/now/table/${def.name}/${rec.sys_id}` },
      body: { result: em.renderer.render(def, rec, o) },
    };
  } catch (e) {
    if (e instanceof DuplicateSysIdError) return errorReply(em.opts.duplicateSysIdStatus, "Operation Failed", e.message);
    if (e instanceof StoreConstraintError) return errorReply(403, "Operation Failed", e.message);
    throw e;
  }
}

function update(em: TableApiContext, def: TableDef, r: TableRequest, o: RenderOptions): Reply {
  const sysId = r.sysId!;
  const current = isSysId(sysId) ? em.store.get(def.name, sysId) : undefined;
  if (!current || !em.visibleClasses(def.name).includes(current.sys_class_name)) return NOT_FOUND;
  const parsed = parseJsonObject(r.body);
  if ("reply" in parsed) return parsed.reply;
  try {
    const rec = em.store.update(def, sysId, parsed.fields, { ...writeContext(em, r), acceptToken: false })!;
    return { status: 200, body: { result: em.renderer.render(def, rec, o) } };
  } catch (e) {
    if (e instanceof StoreConstraintError) return errorReply(403, "Operation Failed", e.message.replace("insert", "update"));
    throw e;
  }
}
