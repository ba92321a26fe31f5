/**
 * The Ivanti Service Manager emulator: OData business objects and `$metadata`, REST API
 * keys (`Authorization: rest_api_key=<Reference ID>`) bound to a tenant, a role and an
 * optional IP list, and the `ISM_4001` refusal. Keys are made by test controls only, as
 * a person makes them in the Configuration console.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { listenOnLoopback } from "../shared/loopbackServer";
import { randomBytes } from "node:crypto";
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
import { ismError, send, sendJson } from "./http";
import type { IvantiEmulatorMetrics, IvantiEmulatorOptions, IvantiKeyRecord, RefusalReason, RunningIvantiEmulator } from "./types";

const MAX_URL_LENGTH = 4096;
const MAX_DRAIN_BYTES = 1024 * 1024;
const MAX_KEYS = 1000;
const MAX_GROUPS = 100;
const MAX_IPS = 50;
const KEY_HEADER = /^rest_api_key=([A-Za-z0-9]{1,64})$/;
const TENANT = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i;

function emptyMetrics(): IvantiEmulatorMetrics {
  return {
    total: 0,
    byStatus: {},
    byRoute: {},
    refusals: { missing_or_malformed: 0, unknown_key: 0, deactivated: 0, wrong_tenant: 0, ip_not_allowed: 0, role_forbidden: 0 },
  };
}

/** Short, printable echo of caller input for error messages. */
function echo(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
}

function normalizeIp(ip: string | undefined): string {
  if (!ip) return "";
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

function checkIps(ips: string[]): string[] {
  if (ips.length > MAX_IPS) throw new Error(`at most ${MAX_IPS} IP addresses per key`);
  for (const ip of ips) if (isIP(ip) === 0) throw new Error(`not an IP address: ${echo(ip)}`);
  return [...ips];
}

export async function startIvantiEmulator(opts: IvantiEmulatorOptions = {}): Promise<RunningIvantiEmulator> {
  const tenant = opts.tenant ?? "keywire-test.ivanticloud.com";
  if (!TENANT.test(tenant)) throw new Error("tenant must be a host name");
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  let heatPrefix = opts.heatPrefix ?? false;
  let records = seedRecords();
  const keys = new Map<string, IvantiKeyRecord>();
  const groups = new Map<string, string>();
  let clientIp: string | undefined;
  let metrics = emptyMetrics();
  let faults: { count: number; status: number; retryAfterSeconds?: number }[] = [];
  let baseUrl = "";

  const count = (route: string, status: number) => {
    metrics.total += 1;
    metrics.byStatus[String(status)] = (metrics.byStatus[String(status)] ?? 0) + 1;
    metrics.byRoute[route] = (metrics.byRoute[route] ?? 0) + 1;
  };
  const json = (res: ServerResponse, route: string, status: number, body: unknown, headers: Record<string, string> = {}) => {
    count(route, status);
    sendJson(res, status, body, headers);
  };
  const invalidPath = (res: ServerResponse, route: string) =>
    json(res, route, 404, ismError("ISM_4004", "Requested resource does not exist", "Invalid Path"));
  const badRequest = (res: ServerResponse, route: string, msg: string) => json(res, route, 400, ismError("ISM_4000", "Invalid Request Payload", msg));
  const refuse = (res: ServerResponse, route: string, reason: RefusalReason) => {
    metrics.refusals[reason] += 1;
    // The platform does not say which rule refused a key; tenant/IP refusals read "not authorized".
    const body =
      reason === "wrong_tenant" || reason === "ip_not_allowed"
        ? ismError("ISM_4001", "Not authorized", "The REST API key is not authorized for this tenant or IP address")
        : ismError("ISM_4001", "Invalid session key or session timed out", "Authentication required");
    json(res, route, 401, body);
  };

  /** The key for a request, or the reason it is refused. */
  function authorize(req: IncomingMessage): IvantiKeyRecord | RefusalReason {
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

    const fault = faults.find((f) => f.count > 0);
    if (fault) {
      fault.count -= 1;
      faults = faults.filter((f) => f.count > 0);
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { "Retry-After": String(fault.retryAfterSeconds) } : {};
      const body =
        fault.status === 401
          ? ismError("ISM_4001", "Invalid session key or session timed out", "Authentication required")
          : fault.status === 404
            ? ismError("ISM_4004", "Requested resource does not exist", "Invalid Path")
            : fault.status < 500
              ? ismError("ISM_4000", "Invalid Request Payload", "Injected failure")
              : ismError("ISM_5000", "Internal Server Error", "Injected failure");
      return json(res, routeName, fault.status, body, headers);
    }

    const auth = authorize(req);
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
      metrics.refusals.role_forbidden += 1;
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

  const mustKey = (id: string): IvantiKeyRecord => {
    const k = keys.get(id);
    if (!k) throw new Error("no such key");
    return k;
  };
  const addGroup = (name: string, description = "") => {
    if (!/^[\w .-]{1,100}$/.test(name)) throw new Error("group names are 1..100 word characters, spaces, dots or dashes");
    if (!groups.has(name) && groups.size >= MAX_GROUPS) throw new Error("key group limit reached");
    groups.set(name, description.slice(0, 500));
  };

  return {
    url: baseUrl,
    tenant,
    stop: () => listening.close(),
    metrics: () => structuredClone(metrics),
    resetMetrics() {
      metrics = emptyMetrics();
    },
    reset() {
      records = seedRecords();
      keys.clear();
      groups.clear();
      clientIp = undefined;
      heatPrefix = opts.heatPrefix ?? false;
      faults = [];
      metrics = emptyMetrics();
    },
    addKeyGroup: addGroup,
    keyGroups: () => [...groups.entries()].map(([name, description]) => ({ name, description })),
    addKey(o = {}) {
      if (keys.size >= MAX_KEYS) throw new Error("key limit reached");
      const role = o.role ?? "Admin";
      if (!(role in ROLES)) throw new Error(`unknown role ${echo(role)}`);
      const keyTenant = o.tenant ?? tenant;
      if (!TENANT.test(keyTenant)) throw new Error("tenant must be a host name");
      const group = o.group ?? "REST API";
      if (!groups.has(group)) addGroup(group);
      const rec: IvantiKeyRecord = {
        referenceId: randomBytes(16).toString("hex").toUpperCase(),
        group,
        activated: o.activated ?? true,
        description: (o.description ?? "").slice(0, 500),
        onBehalfOf: o.onBehalfOf ?? "InternalServices",
        role,
        tenant: keyTenant,
        ipList: checkIps(o.ipList ?? []),
      };
      keys.set(rec.referenceId, rec);
      return { ...rec, ipList: [...rec.ipList] };
    },
    editKey(referenceId, patch) {
      const k = mustKey(referenceId);
      if (patch.role !== undefined && !(patch.role in ROLES)) throw new Error(`unknown role ${echo(patch.role)}`);
      if (patch.tenant !== undefined && !TENANT.test(patch.tenant)) throw new Error("tenant must be a host name");
      const ipList = patch.ipList !== undefined ? checkIps(patch.ipList) : k.ipList;
      Object.assign(k, patch, { ipList });
      return { ...k, ipList: [...k.ipList] };
    },
    deleteKey(referenceId) {
      mustKey(referenceId);
      keys.delete(referenceId);
    },
    keys: () => [...keys.values()].map((k) => ({ ...k, ipList: [...k.ipList] })),
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
    failNext(f) {
      if (!(f.count >= 0 && f.count <= 10_000) || !(f.status >= 400 && f.status <= 599)) throw new Error("failNext: count 0..10000, status 400..599");
      if (faults.length >= 100) throw new Error("too many pending faults");
      faults.push({ ...f });
    },
  };
}
