/**
 * The Attachment API (`/api/now/attachment`, version v1): list and read metadata, download,
 * upload (raw body or multipart form), delete. Access follows the record an attachment
 * belongs to: reading needs the roles that read its table, changing needs the roles that write it.
 */
import type { IncomingHttpHeaders } from "node:http";
import { ATTACHMENT_TABLE, addAttachment, attachmentContent } from "./attachmentStore";
import type { Principal } from "./auth/judge";
import { rolesAllow } from "./auth/directory";
import type { ApiCall } from "./auth/policy";
import type { Emulator } from "./emulator";
import { resolvePath } from "./fieldPath";
import { isSysId } from "./glide";
import { formBoundary, parseMultipart } from "./http/multipart";
import { errorReply, type Reply } from "./http/reply";
import type { ResolvedOptions } from "./options";
import type { Term } from "./query";
import type { RenderOptions } from "./render";
import type { RoleRule } from "./schema";
import type { GlideRecord } from "./types";

/** collection: `/attachment`; file, upload: the two upload paths; record: `/<sys_id>`; content: `/<sys_id>/file`. */
type AttachmentTarget = "collection" | "file" | "upload" | "record" | "content";

export interface AttachmentRoute {
  kind: "attachment";
  /** "" or "v1" as written in the path */
  version: string;
  target: AttachmentTarget;
  sysId?: string;
}

export interface AttachmentRequest {
  method: string;
  route: AttachmentRoute;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  bytes: Buffer;
  principal: Principal;
}

/** The parts of the emulator the Attachment API reads and writes through. */
export type AttachmentApiContext = Pick<Emulator, "opts" | "schema" | "store" | "renderer" | "baseUrl" | "compiledQuery" | "tableDef" | "visibleClasses">;

const ATTACHMENT_PATH = /^\/api\/now\/(?:(v\d+)\/)?attachment(?:\/([^/]+)(?:\/(file))?)?\/?$/;
const DEFAULT_LIMIT = 10000;
/** Room for the multipart framing around a file as large as the limit. */
const MULTIPART_ALLOWANCE = 64 * 1024;
/** An empty role rule: only admin passes (rolesAllow lets admin through everything). */
const ADMIN_ONLY: RoleRule = [];

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The route for an Attachment API path, or undefined when the path is not one. */
export function attachmentRoute(path: string): AttachmentRoute | undefined {
  const m = ATTACHMENT_PATH.exec(path);
  if (!m) return undefined;
  const version = m[1] ?? "";
  if (version && version !== "v1") return undefined;
  const first = m[2] === undefined ? undefined : safeDecode(m[2]);
  if (first === undefined) return { kind: "attachment", version, target: "collection" };
  if (m[3] !== undefined) return { kind: "attachment", version, target: "content", sysId: first };
  if (first === "file" || first === "upload") return { kind: "attachment", version, target: first };
  return { kind: "attachment", version, target: "record", sysId: first };
}

/** The metrics route name, e.g. `GET now/attachment/{sys_id}/file`. */
export function attachmentRouteName(method: string, r: AttachmentRoute): string {
  switch (r.target) {
    case "collection":
      return `${method} now/attachment`;
    case "file":
    case "upload":
      return `${method} now/attachment/${r.target}`;
    case "record":
      return `${method} now/attachment/{sys_id}`;
    case "content":
      return `${method} now/attachment/{sys_id}/file`;
  }
}

/** The call as policies, scope rules and rate limits see it: API `now/attachment`, default version v1. */
export function attachmentCall(method: string, r: AttachmentRoute): ApiCall {
  let resource = "/now/attachment";
  if (r.target === "file" || r.target === "upload") resource += `/${r.target}`;
  else if (r.sysId !== undefined) resource += `/${r.sysId}${r.target === "content" ? "/file" : ""}`;
  return { apiPath: "now/attachment", resource, method, version: r.version || "v1" };
}

/** The largest request body an Attachment API call may carry. */
export function attachmentBodyLimit(opts: Pick<ResolvedOptions, "maxAttachmentBytes">): number {
  return opts.maxAttachmentBytes + MULTIPART_ALLOWANCE;
}

const NOT_FOUND = errorReply(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval");

function methodNotSupported(method: string): Reply {
  return errorReply(405, "Method not Supported", `HTTP method ${method} is not supported on this resource`);
}

export function handleAttachment(em: AttachmentApiContext, r: AttachmentRequest): Reply {
  const { method, route } = r;
  switch (route.target) {
    case "collection":
      return method === "GET" ? list(em, r) : methodNotSupported(method);
    case "file":
      return method === "POST" ? uploadRaw(em, r) : methodNotSupported(method);
    case "upload":
      return method === "POST" ? uploadForm(em, r) : methodNotSupported(method);
    case "record":
      if (method === "GET") return metadata(em, r);
      if (method === "DELETE") return remove(em, r);
      return methodNotSupported(method);
    case "content":
      return method === "GET" ? download(em, r) : methodNotSupported(method);
  }
}

/** Whether the principal may read (or write) records of the table an attachment belongs to. */
function tableAllows(em: AttachmentApiContext, principal: Principal, tableName: string, mode: "read" | "write"): boolean {
  const def = em.tableDef(tableName);
  // An attachment on a table this instance does not know is left to admin.
  if (!def) return rolesAllow(principal.roles, ADMIN_ONLY);
  return rolesAllow(principal.roles, mode === "read" ? def.access.read : def.access.write);
}

/** The attachment with this sys_id, if the principal may read the record it belongs to. */
function readable(em: AttachmentApiContext, r: AttachmentRequest): GlideRecord | undefined {
  const id = r.route.sysId ?? "";
  const rec = isSysId(id) ? em.store.get(ATTACHMENT_TABLE, id) : undefined;
  if (!rec || !tableAllows(em, r.principal, rec.table_name, "read")) return undefined;
  return rec;
}

/** Metadata as the API shows it: the sys_attachment row plus its download link. */
function render(em: AttachmentApiContext, rec: GlideRecord): Record<string, unknown> {
  const def = em.schema.get(ATTACHMENT_TABLE)!;
  const o: RenderOptions = { displayValue: "false", excludeReferenceLink: true, baseUrl: em.baseUrl, revealSecrets: false };
  return { ...em.renderer.render(def, rec, o), download_link: `${em.baseUrl}/api/now/attachment/${rec.sys_id}/file` };
}

function nonNegativeInt(s: string | null): number | undefined {
  if (s === null || !/^\d+$/.test(s.trim())) return undefined;
  return Number(s.trim());
}

/** Plain `column=value` parameters (`table_name`, `table_sys_id`, …) filter like encoded terms. */
function parameterFilters(em: AttachmentApiContext, q: URLSearchParams): Term[] {
  const terms: Term[] = [];
  for (const [k, v] of q) {
    if (k.startsWith("sysparm_")) continue;
    if (resolvePath(em.schema, ATTACHMENT_TABLE, k)) terms.push({ field: k, op: "=", value: v });
  }
  return terms;
}

function list(em: AttachmentApiContext, r: AttachmentRequest): Reply {
  const q = r.query;
  const limit = nonNegativeInt(q.get("sysparm_limit")) || DEFAULT_LIMIT;
  const offset = nonNegativeInt(q.get("sysparm_offset")) ?? 0;
  const compiled = em.compiledQuery(ATTACHMENT_TABLE, q.get("sysparm_query") ?? "", parameterFilters(em, q));
  const pred = compiled.predicate;
  // Attachments of records the caller may not read are left out, as ACLs leave out rows.
  const allowed = new Map<string, boolean>();
  const visible = (tableName: string): boolean => {
    let ok = allowed.get(tableName);
    if (ok === undefined) {
      ok = tableAllows(em, r.principal, tableName, "read");
      allowed.set(tableName, ok);
    }
    return ok;
  };
  let rows: GlideRecord[] = [];
  em.store.each([ATTACHMENT_TABLE], (rec) => {
    if ((!pred || pred(rec)) && visible(rec.table_name)) rows.push(rec);
  });
  const total = rows.length;
  if (compiled.compare) rows.sort(compiled.compare);
  rows = rows.slice(offset, offset + limit);
  // Clients read X-Total-Count without a fallback, so it is on every list, empty ones included.
  const headers: Record<string, string> = { "X-Total-Count": String(total) };
  if ((q.get("sysparm_suppress_pagination_header") ?? "").toLowerCase() !== "true") headers.Link = linkHeader(em, r, limit, offset, total);
  return { status: 200, headers, body: { result: rows.map((rec) => render(em, rec)) } };
}

function linkHeader(em: AttachmentApiContext, r: AttachmentRequest, limit: number, offset: number, total: number): string {
  const p = new URLSearchParams(r.query);
  p.delete("x-sn-apikey");
  p.delete("sysparm_limit");
  p.delete("sysparm_offset");
  const rest = p.toString();
  const version = r.route.version ? `${r.route.version}/` : "";
  const prefix = `<${em.baseUrl}/api/now/${version}attachment?${rest}${rest ? "&" : ""}sysparm_limit=${limit}&sysparm_offset=`;
  const links = [`${prefix}0>;rel="first"`];
  if (offset > 0) links.push(`${prefix}${Math.max(0, offset - limit)}>;rel="prev"`);
  if (offset + limit < total) links.push(`${prefix}${offset + limit}>;rel="next"`);
  const last = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  links.push(`${prefix}${last}>;rel="last"`);
  return links.join(",");
}

function metadata(em: AttachmentApiContext, r: AttachmentRequest): Reply {
  const rec = readable(em, r);
  if (!rec) return NOT_FOUND;
  return { status: 200, body: { result: render(em, rec) } };
}

/** JSON for a header value: characters outside ASCII are escaped, since header values must be bytes. */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function download(em: AttachmentApiContext, r: AttachmentRequest): Reply {
  const rec = readable(em, r);
  if (!rec) return NOT_FOUND;
  return {
    status: 200,
    headers: { "Content-Type": rec.content_type || "application/octet-stream", "X-Attachment-Metadata": asciiJson(render(em, rec)) },
    body: attachmentContent(em.store, rec.sys_id),
  };
}

function remove(em: AttachmentApiContext, r: AttachmentRequest): Reply {
  const rec = readable(em, r);
  if (!rec) return NOT_FOUND;
  if (!tableAllows(em, r.principal, rec.table_name, "write")) {
    return errorReply(403, "Operation Failed", "ACL Exception Delete Failed due to security constraints");
  }
  em.store.delete(ATTACHMENT_TABLE, rec.sys_id);
  return { status: 204 };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function missing(name: string): Reply {
  return errorReply(400, `Missing mandatory parameter: ${name}`, `The ${name} parameter is required to upload an attachment`);
}

function tooLarge(em: AttachmentApiContext, size: number): Reply {
  return errorReply(413, "Request entity too large", `The attachment is ${size} bytes; the largest accepted is ${em.opts.maxAttachmentBytes} bytes`);
}

interface Upload {
  tableName: string;
  tableSysId: string;
  fileName: string;
  contentType: string | undefined;
  content: Buffer;
}

/** Checks the target record and the caller's rights, then stores the file. */
function attach(em: AttachmentApiContext, r: AttachmentRequest, u: Upload): Reply {
  if (u.content.length > em.opts.maxAttachmentBytes) return tooLarge(em, u.content.length);
  const def = em.tableDef(u.tableName);
  const target = def && isSysId(u.tableSysId) ? em.store.get(def.name, u.tableSysId) : undefined;
  if (!def || !target || !em.visibleClasses(def.name).includes(target.sys_class_name) || !tableAllows(em, r.principal, def.name, "read")) {
    return errorReply(404, "No Record found", `No record with sys_id ${u.tableSysId} in table ${u.tableName}, or ACL restricts its retrieval`);
  }
  if (!tableAllows(em, r.principal, def.name, "write")) {
    return errorReply(403, "Operation Failed", "ACL Exception Insert Failed due to security constraints");
  }
  const contentType = u.contentType?.trim();
  const rec = addAttachment(
    em.store,
    {
      // The record's own class, so listing by table_name finds it whichever parent table was named.
      tableName: target.sys_class_name,
      tableSysId: target.sys_id,
      fileName: u.fileName,
      // "*/*" says nothing about the file; store the generic binary type instead.
      contentType: contentType && contentType !== "*/*" ? contentType : "application/octet-stream",
      content: u.content,
    },
    r.principal.user.user_name,
  );
  return {
    status: 201,
    headers: { Location: `${em.baseUrl}/api/now/attachment/${rec.sys_id}` },
    body: { result: render(em, rec) },
  };
}

/** `POST /attachment/file?table_name=&table_sys_id=&file_name=`: the body is the file, its type the Content-Type. */
function uploadRaw(em: AttachmentApiContext, r: AttachmentRequest): Reply {
  for (const name of ["table_name", "table_sys_id", "file_name"]) if (!r.query.get(name)) return missing(name);
  return attach(em, r, {
    tableName: r.query.get("table_name")!,
    tableSysId: r.query.get("table_sys_id")!,
    fileName: r.query.get("file_name")!,
    contentType: header(r.headers, "content-type"),
    content: r.bytes,
  });
}

const NO_FILE_PART = "Failed to create the attachment. File part might be missing in the request.";

/** `POST /attachment/upload`: multipart form with table_name, table_sys_id, then the file part. */
function uploadForm(em: AttachmentApiContext, r: AttachmentRequest): Reply {
  const boundary = formBoundary(header(r.headers, "content-type"));
  if (!boundary) return errorReply(400, NO_FILE_PART, "The request must be multipart/form-data with a boundary");
  const parts = parseMultipart(r.bytes, boundary);
  if (!parts) return errorReply(400, NO_FILE_PART, "The multipart body is not well formed");
  const field = (name: string): string | undefined => {
    const p = parts.find((x) => x.name === name && x.filename === undefined);
    return p?.data.toString("utf8").trim();
  };
  // The platform asks for the file in the last part; the last part with a file name is taken.
  const file = [...parts].reverse().find((p) => p.filename !== undefined);
  const tableName = field("table_name");
  // Older documentation names the record field record_sys_id.
  const tableSysId = field("table_sys_id") ?? field("record_sys_id");
  if (!tableName) return missing("table_name");
  if (!tableSysId) return missing("table_sys_id");
  if (!file || !file.filename) return errorReply(400, NO_FILE_PART, "No part carries a file name");
  return attach(em, r, { tableName, tableSysId, fileName: file.filename, contentType: file.contentType, content: file.data });
}
