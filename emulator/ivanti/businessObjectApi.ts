/**
 * The OData routes: `$metadata`, one business object record by RecId, and a list with
 * `$top`, `$skip`, `$filter`, `$orderby` and `$select`. Every route only reads.
 */
import { DEFAULT_TOP, MAX_TOP, ROLES, findObject, matches, metadataXml, parseFilter, type BoRecord, type Clause, type ObjectDef } from "./businessObjects";
import type { Metrics } from "./metrics";
import type { RecordStore } from "./records";
import { badRequest, echo, invalidPath, ismError, type Reply } from "./reply";

export type BusinessObjectRoute =
  | { pattern: "$metadata" }
  | { pattern: "businessobject/{object}('{RecId}')"; object: string; recId: string }
  | { pattern: "businessobject/{object}"; object: string };

/** The parts of the emulator the OData routes read. */
export interface BusinessObjectParts {
  records: Pick<RecordStore, "rowsOf">;
  metrics: Pick<Metrics, "refused">;
  /** What `@odata.context` names: the `$metadata` URL under the API root in use. */
  metadataUrl(): string;
}

const QUERY_OPTIONS = ["$top", "$skip", "$filter", "$select", "$orderby", "$count"];

/** Which route a path after `<api root>/odata/` (decoded) is; undefined when none. */
export function businessObjectRoute(rest: string): BusinessObjectRoute | undefined {
  if (rest === "$metadata") return { pattern: "$metadata" };
  const one = /^businessobject\/([A-Za-z]{1,64})\('(.*)'\)$/s.exec(rest);
  if (one) return { pattern: "businessobject/{object}('{RecId}')", object: one[1], recId: one[2] };
  const many = /^businessobject\/([A-Za-z]{1,64})\/?$/.exec(rest);
  if (many) return { pattern: "businessobject/{object}", object: many[1] };
  return undefined;
}

/** A GET on an OData route by a key acting in `role`. */
export function readBusinessObjects(parts: BusinessObjectParts, route: BusinessObjectRoute, query: URLSearchParams, role: string): Reply {
  if (route.pattern === "$metadata") return { status: 200, text: metadataXml(), contentType: "application/xml; charset=utf-8" };
  const def = findObject(route.object);
  if (!def) return invalidPath();
  const readable = ROLES[role] ?? [];
  if (!readable.includes(def.set)) {
    parts.metrics.refused("role_forbidden");
    return { status: 403, json: ismError("ISM_4003", "Forbidden", `Role '${echo(role)}' cannot read business object '${def.type}'`) };
  }
  if ("recId" in route) return readOne(parts, def, route.recId);
  return list(parts, def, query);
}

function readOne(parts: BusinessObjectParts, def: ObjectDef, id: string): Reply {
  if (id.trim() === "") return badRequest("Key value cannot be empty");
  const r = parts.records.rowsOf(def.set).find((x) => String(x.RecId).toLowerCase() === id.toLowerCase());
  if (!r) return badRequest(`Record '${echo(id)}' cannot be found in business object '${def.type}'`);
  return { status: 200, json: { "@odata.context": `${parts.metadataUrl()}#${def.set}/$entity`, ...r } };
}

interface ListOptions {
  top: number;
  skip: number;
  clauses?: Clause[];
  order?: { field: string; dir: 1 | -1 };
  select?: string[];
}

function list(parts: BusinessObjectParts, def: ObjectDef, q: URLSearchParams): Reply {
  const o = listOptions(q, def);
  if (typeof o === "string") return badRequest(o);
  let rows = parts.records.rowsOf(def.set);
  const clauses = o.clauses;
  if (clauses) rows = rows.filter((r) => matches(r, clauses));
  if (o.order) rows = sorted(rows, o.order.field, o.order.dir);
  const page = rows.slice(o.skip, o.skip + o.top).map((r) => project(r, o.select));
  return { status: 200, json: { "@odata.context": `${parts.metadataUrl()}#${def.set}`, "@odata.count": rows.length, value: page } };
}

/** The query options of a list, or the message of the 400 for the first bad one. */
function listOptions(q: URLSearchParams, def: ObjectDef): ListOptions | string {
  for (const k of new Set(q.keys())) {
    if (k.startsWith("$") && !QUERY_OPTIONS.includes(k)) return `Query option '${echo(k)}' is not supported`;
  }
  const topRaw = q.get("$top");
  const skipRaw = q.get("$skip");
  const top = topRaw === null ? DEFAULT_TOP : /^\d{1,4}$/.test(topRaw) ? Number(topRaw) : NaN;
  const skip = skipRaw === null ? 0 : /^\d{1,7}$/.test(skipRaw) ? Number(skipRaw) : NaN;
  if (!Number.isInteger(top) || top > MAX_TOP) return `$top must be a whole number from 0 to ${MAX_TOP}`;
  if (!Number.isInteger(skip)) return "$skip must be a whole number";
  const filter = q.get("$filter");
  const clauses = filter === null ? undefined : parseFilter(filter, def);
  if (typeof clauses === "string") return echo(clauses);
  const order = orderOption(q.get("$orderby"), def);
  if (typeof order === "string") return order;
  const select = selectOption(q.get("$select"), def);
  if (typeof select === "string") return select;
  return { top, skip, clauses, order, select };
}

/** `$orderby`: one field, optionally `asc` or `desc`. */
function orderOption(orderby: string | null, def: ObjectDef): ListOptions["order"] | string {
  if (orderby === null) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9_]{0,63})(?:\s+(asc|desc))?$/i.exec(orderby.trim());
  if (!m || !(m[1] in def.fields)) return "$orderby must name one field, optionally with asc or desc";
  return { field: m[1], dir: m[2]?.toLowerCase() === "desc" ? -1 : 1 };
}

/** `$select`: a comma-separated list of the object's fields (the first 50 count). */
function selectOption(selectRaw: string | null, def: ObjectDef): string[] | undefined | string {
  if (selectRaw === null) return undefined;
  const select = selectRaw
    .split(",")
    .map((s) => s.trim())
    .slice(0, 50);
  const unknown = select.find((s) => !(s in def.fields));
  if (unknown !== undefined) return `Field '${echo(unknown)}' is not part of business object '${def.type}'`;
  return select;
}

function sorted(rows: BoRecord[], f: string, dir: 1 | -1): BoRecord[] {
  return [...rows].sort((a, b) => (String(a[f] ?? "") < String(b[f] ?? "") ? -dir : String(a[f] ?? "") > String(b[f] ?? "") ? dir : 0));
}

function project(r: BoRecord, select: string[] | undefined): BoRecord {
  if (!select) return { ...r };
  const out: BoRecord = {};
  for (const f of select) out[f] = r[f] ?? null;
  return out;
}
