/**
 * The Ivanti Service Manager emulator: OData business objects and `$metadata`, REST API
 * keys (`Authorization: rest_api_key=<Reference ID>`) bound to a tenant, a role and an
 * optional IP list, and the `ISM_4001` refusal. Keys are made by test controls only, as
 * a person makes them in the Configuration console.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { listenOnLoopback } from "../shared/loopbackServer";
import { authorize, refusalBody } from "./auth";
import {
  BoRecord,
  DEFAULT_TOP,
  MAX_RECORDS_PER_OBJECT,
  MAX_TOP,
  OBJECTS,
  ROLES,
  findObject,
  matches,
  metadataXml,
  newRecId,
  parseFilter,
  seedRecords,
} from "./businessObjects";
import { Faults, faultBody, faultHeaders } from "./faults";
import { send, sendJson } from "./http";
import { checkTenant, KeyStore } from "./keys";
import { Metrics } from "./metrics";
import { echo, ismError } from "./reply";
import type { IvantiEmulatorOptions, RefusalReason, RunningIvantiEmulator } from "./types";

const MAX_URL_LENGTH = 4096;
const MAX_DRAIN_BYTES = 1024 * 1024;

export async function startIvantiEmulator(opts: IvantiEmulatorOptions = {}): Promise<RunningIvantiEmulator> {
  const tenant = opts.tenant ?? "keywire-test.ivanticloud.com";
  checkTenant(tenant);
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  let heatPrefix = opts.heatPrefix ?? false;
  let records = seedRecords();
  const keys = new KeyStore(tenant);
  let clientIp: string | undefined;
  const metrics = new Metrics();
  const faults = new Faults();
  let baseUrl = "";

  const count = (route: string, status: number) => metrics.count(route, status);
  const json = (res: ServerResponse, route: string, status: number, body: unknown, headers: Record<string, string> = {}) => {
    count(route, status);
    sendJson(res, status, body, headers);
  };
  const invalidPath = (res: ServerResponse, route: string) =>
    json(res, route, 404, ismError("ISM_4004", "Requested resource does not exist", "Invalid Path"));
  const badRequest = (res: ServerResponse, route: string, msg: string) => json(res, route, 400, ismError("ISM_4000", "Invalid Request Payload", msg));
  const refuse = (res: ServerResponse, route: string, reason: RefusalReason) => {
    metrics.refused(reason);
    json(res, route, 401, refusalBody(reason));
  };

  function list(res: ServerResponse, route: string, set: string, q: URLSearchParams): void {
    const def = findObject(set)!;
    for (const k of new Set(q.keys())) {
      if (k.startsWith("$") && !["$top", "$skip", "$filter", "$select", "$orderby", "$count"].includes(k)) {
        return badRequest(res, route, `Query option '${echo(k)}' is not supported`);
      }
    }
    const topRaw = q.get("$top");
    const skipRaw = q.get("$skip");
    const top = topRaw === null ? DEFAULT_TOP : /^\d{1,4}$/.test(topRaw) ? Number(topRaw) : NaN;
    const skip = skipRaw === null ? 0 : /^\d{1,7}$/.test(skipRaw) ? Number(skipRaw) : NaN;
    if (!Number.isInteger(top) || top > MAX_TOP) return badRequest(res, route, `$top must be a whole number from 0 to ${MAX_TOP}`);
    if (!Number.isInteger(skip)) return badRequest(res, route, "$skip must be a whole number");
    let rows = records.get(def.set) ?? [];
    const filter = q.get("$filter");
    if (filter !== null) {
      const clauses = parseFilter(filter, def);
      if (typeof clauses === "string") return badRequest(res, route, echo(clauses));
      rows = rows.filter((r) => matches(r, clauses));
    }
    const orderby = q.get("$orderby");
    if (orderby !== null) {
      const m = /^([A-Za-z][A-Za-z0-9_]{0,63})(?:\s+(asc|desc))?$/i.exec(orderby.trim());
      if (!m || !(m[1] in def.fields)) return badRequest(res, route, "$orderby must name one field, optionally with asc or desc");
      const dir = m[2]?.toLowerCase() === "desc" ? -1 : 1;
      const f = m[1];
      rows = [...rows].sort((a, b) => (String(a[f] ?? "") < String(b[f] ?? "") ? -dir : String(a[f] ?? "") > String(b[f] ?? "") ? dir : 0));
    }
    let select: string[] | undefined;
    const selectRaw = q.get("$select");
    if (selectRaw !== null) {
      select = selectRaw.split(",").map((s) => s.trim()).slice(0, 50);
      const unknown = select.find((s) => !(s in def.fields));
      if (unknown !== undefined) return badRequest(res, route, `Field '${echo(unknown)}' is not part of business object '${def.type}'`);
    }
    const page = rows.slice(skip, skip + top).map((r) => project(r, select));
    json(res, route, 200, { "@odata.context": `${baseUrl}${apiRoot()}/odata/$metadata#${def.set}`, "@odata.count": rows.length, value: page });
  }

  function project(r: BoRecord, select: string[] | undefined): BoRecord {
    if (!select) return { ...r };
    const out: BoRecord = {};
    for (const f of select) out[f] = r[f] ?? null;
    return out;
  }

  const apiRoot = () => (heatPrefix ? "/HEAT/api" : "/api");

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Requests carry no body the emulator needs: drain it, and cut off anything oversized.
    const declared = Number(req.headers["content-length"] ?? "0");
    if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) {
      req.resume();
      return json(res, "(too large)", 413, ismError("ISM_4000", "Invalid Request Payload", "The request body is too large"), { Connection: "close" });
    }
    let drained = 0;
    req.on("data", (c: Buffer) => {
      drained += c.length;
      if (drained > MAX_DRAIN_BYTES) req.destroy();
    });
    req.resume();
    const method = (req.method ?? "GET").toUpperCase();
    const rawUrl = req.url ?? "/";
    if (rawUrl.length > MAX_URL_LENGTH) return json(res, "(too long)", 414, ismError("ISM_4000", "Invalid Request Payload", "The request URL is too long"));
    let url: URL;
    try {
      url = new URL(rawUrl, "http://127.0.0.1");
    } catch {
      return invalidPath(res, "(unknown)");
    }
    const root = `${apiRoot()}/odata/`;
    if (!url.pathname.startsWith(root)) return invalidPath(res, `${method} (unknown)`);
    let rest: string;
    try {
      rest = decodeURIComponent(url.pathname.slice(root.length));
    } catch {
      return invalidPath(res, `${method} (unknown)`);
    }
    const one = /^businessobject\/([A-Za-z]{1,64})\('(.*)'\)$/s.exec(rest);
    const many = /^businessobject\/([A-Za-z]{1,64})\/?$/.exec(rest);
    const route =
      rest === "$metadata" ? "$metadata" : one ? "businessobject/{object}('{RecId}')" : many ? "businessobject/{object}" : "(unknown)";
    const routeName = `${method} ${route}`;

    const fault = faults.take();
    if (fault) return json(res, routeName, fault.status, faultBody(fault.status), faultHeaders(fault));

    const auth = authorize(req, keys, tenant, clientIp);
    if (typeof auth === "string") return refuse(res, routeName, auth);
    if (route === "(unknown)") return invalidPath(res, routeName);
    if (method !== "GET") {
      return json(res, routeName, 405, ismError("ISM_4000", "Invalid Request Payload", "Only GET is served here"), { Allow: "GET" });
    }
    if (route === "$metadata") {
      count(routeName, 200);
      return send(res, 200, metadataXml(), "application/xml; charset=utf-8");
    }
    const set = (one ?? many)![1];
    const def = findObject(set);
    if (!def) return invalidPath(res, routeName);
    const readable = ROLES[auth.role] ?? [];
    if (!readable.includes(def.set)) {
      metrics.refused("role_forbidden");
      return json(res, routeName, 403, ismError("ISM_4003", "Forbidden", `Role '${echo(auth.role)}' cannot read business object '${def.type}'`));
    }
    if (one) {
      const id = one[2];
      if (id.trim() === "") return badRequest(res, routeName, "Key value cannot be empty");
      const r = (records.get(def.set) ?? []).find((x) => String(x.RecId).toLowerCase() === id.toLowerCase());
      if (!r) return badRequest(res, routeName, `Record '${echo(id)}' cannot be found in business object '${def.type}'`);
      return json(res, routeName, 200, { "@odata.context": `${baseUrl}${apiRoot()}/odata/$metadata#${def.set}/$entity`, ...r });
    }
    return list(res, routeName, def.set, url.searchParams);
  }

  const listening = await listenOnLoopback(
    (req, res) => {
      handle(req, res).catch(() => json(res, "(internal)", 500, ismError("ISM_5000", "Internal Server Error", "Unexpected failure")));
    },
    { ...(opts.port !== undefined ? { port: opts.port } : {}), requestTimeoutMs },
  );
  baseUrl = listening.url;

  return {
    url: baseUrl,
    tenant,
    stop: () => listening.close(),
    metrics: () => metrics.snapshot(),
    resetMetrics: () => metrics.reset(),
    reset() {
      records = seedRecords();
      keys.clear();
      clientIp = undefined;
      heatPrefix = opts.heatPrefix ?? false;
      faults.clear();
      metrics.reset();
    },
    addKeyGroup: (name, description) => keys.addGroup(name, description),
    keyGroups: () => keys.groupList(),
    addKey: (o = {}) => keys.add(o),
    editKey: (referenceId, patch) => keys.edit(referenceId, patch),
    deleteKey: (referenceId) => keys.delete(referenceId),
    keys: () => keys.list(),
    roles: () => Object.fromEntries(Object.entries(ROLES).map(([r, sets]) => [r, [...sets]])),
    setClientIp(ip) {
      if (ip !== undefined && isIP(ip) === 0) throw new Error("not an IP address");
      clientIp = ip;
    },
    setHeatPrefix(on) {
      heatPrefix = on;
    },
    addRecord(object, fields) {
      const def = findObject(object);
      if (!def) throw new Error(`unknown business object; known: ${OBJECTS.map((o) => o.set).join(", ")}`);
      const rows = records.get(def.set)!;
      if (rows.length >= MAX_RECORDS_PER_OBJECT) throw new Error("record limit reached");
      for (const f of Object.keys(fields)) if (!(f in def.fields)) throw new Error(`unknown field ${echo(f)}`);
      const RecId = newRecId();
      rows.push({ ...fields, RecId });
      return RecId;
    },
    failNext: (f) => faults.add(f),
  };
}
