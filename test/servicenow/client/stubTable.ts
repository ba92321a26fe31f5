/**
 * A minimal Table API on the HTTP stub: enough for the client's tests (insert, read,
 * list with `field=value^…` queries, patch, delete), with hooks to fail a request
 * before or after it is applied.
 */
import type * as http from "node:http";
import { randomBytes } from "node:crypto";
import { StubRequest, sendJson, sendSnError } from "../../support/httpStub";

type Row = Record<string, string>;

export interface StubTable {
  rows: Map<string, Row>;
  /** Return true when the hook answered (the default handling is skipped). `applied` says whether the write was stored. */
  before?: (req: StubRequest, res: http.ServerResponse) => boolean;
  after?: (req: StubRequest, res: http.ServerResponse, row: Row | undefined) => boolean;
  handle: (req: StubRequest, res: http.ServerResponse) => void;
}

function matches(row: Row, query: string): boolean {
  if (!query) return true;
  // Split on single carets; ^^ is a literal caret, held as NUL while splitting.
  const NUL = "\u0000";
  const terms = query
    .replaceAll("^^", NUL)
    .split("^")
    .map((t) => t.replaceAll(NUL, "^"));
  return terms.every((t) => {
    if (t.startsWith("ORDERBY")) return true;
    const i = t.indexOf("=");
    return i > 0 && row[t.slice(0, i)] === t.slice(i + 1);
  });
}

function pick(row: Row, fields: string | null): Row {
  if (!fields) return row;
  return Object.fromEntries(
    fields
      .split(",")
      .filter((f) => f in row)
      .map((f) => [f, row[f] as string]),
  );
}

export function stubTable(table: string): StubTable {
  const t: StubTable = {
    rows: new Map(),
    handle(req, res) {
      if (t.before?.(req, res)) return;
      const prefix = `/api/now/table/${table}`;
      if (!req.path.startsWith(prefix)) return sendSnError(res, 400, `Invalid table ${req.path.split("/")[4] ?? ""}`);
      const id = req.path.slice(prefix.length + 1);
      const fields = req.query.get("sysparm_fields");
      if (req.method === "GET" && !id) {
        const all = [...t.rows.values()].filter((r) => matches(r, req.query.get("sysparm_query") ?? ""));
        const offset = Number(req.query.get("sysparm_offset") ?? "0");
        const limit = Number(req.query.get("sysparm_limit") ?? "10000");
        return sendJson(res, 200, { result: all.slice(offset, offset + limit).map((r) => pick(r, fields)) }, { "X-Total-Count": String(all.length) });
      }
      if (req.method === "POST" && !id) {
        const body = JSON.parse(req.body) as Row;
        // A client may choose the sys_id; a second insert under it fails as a unique key would.
        const sysId = body.sys_id ?? randomBytes(16).toString("hex");
        if (t.rows.has(sysId)) return sendSnError(res, 403, "Operation Failed", `Error during insert of ${table}`);
        const row: Row = { ...body, sys_id: sysId };
        t.rows.set(sysId, row);
        if (t.after?.(req, res, row)) return;
        return sendJson(res, 201, { result: pick(row, fields) }, { Location: `${prefix}/${sysId}` });
      }
      const row = t.rows.get(id);
      if (!row) return sendSnError(res, 404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval");
      if (req.method === "GET") return sendJson(res, 200, { result: pick(row, fields) });
      if (req.method === "PATCH") {
        Object.assign(row, JSON.parse(req.body) as Row);
        if (t.after?.(req, res, row)) return;
        return sendJson(res, 200, { result: pick(row, fields) });
      }
      if (req.method === "DELETE") {
        t.rows.delete(id);
        if (t.after?.(req, res, undefined)) return;
        res.writeHead(204);
        return res.end();
      }
      sendSnError(res, 405, "Method not supported");
    },
  };
  return t;
}
