/**
 * How the instance picks the one access policy that governs a REST request: the most
 * specific active policy of the request's API, global policies last. The verification
 * uses it to name the policy behind a refused probe. The emulator judges requests with a
 * resolution of its own (emulator/servicenow/auth/policy.ts), written apart on purpose, so
 * that the tests do not hold keywire's reading of the rule up against itself.
 */
import type { SnRecord } from "../client/tableClient";

/** A request as the instance's access-policy resolution sees it. */
export interface PolicyRequest {
  /** "now/table", "sn_em_connector/em" */
  apiPath: string;
  method: string;
  /** Without `/api` and the version: "/now/table/incident". */
  resource: string;
  version: string;
  table?: string;
}

/** Strips `/api/`, a version segment and the slashes around: "/api/now/v2/table" -> "now/table". */
function normalizeApiPath(p: string): string {
  return p
    .trim()
    .replace(/^\/+/, "")
    .replace(/^api\//, "")
    .split("/")
    .filter((s) => s && !/^v\d+$/.test(s))
    .join("/");
}

function resourceMatches(template: string, resource: string): boolean {
  const t = normalizeApiPath(template).split("/");
  const r = normalizeApiPath(resource).split("/");
  return t.length === r.length && t.every((seg, i) => (seg.startsWith("{") && seg.endsWith("}")) || seg === r[i]);
}

/** The documented order, most specific first: method+resource+version > method+resource > … > version. */
const SPECIFICITY: Record<string, number> = { MRV: 7, MR: 6, RV: 5, R: 4, MV: 3, M: 2, V: 1, "": 0 };

/** The fields `winningPolicy` reads. */
export const POLICY_FIELDS = [
  "sys_id",
  "name",
  "active",
  "api_path",
  "apply_global",
  "apply_all",
  "apply_all_methods",
  "http_method",
  "apply_all_resources",
  "api_resource",
  "apply_all_versions",
  "version",
  "apply_all_tables",
  "api_tablename",
  "sys_created_on",
  "sys_updated_on",
];

/**
 * The single active policy that governs `req`, as the instance picks it (global
 * policies last), or undefined when none applies. `policies` are those of the
 * request's API; their `api_path` is compared when it is set.
 */
export function winningPolicy(policies: SnRecord[], req: PolicyRequest): SnRecord | undefined {
  const ranked: Array<{ p: SnRecord; rank: number }> = [];
  for (const p of policies) {
    if (p.active !== "true") continue;
    if (p.apply_global === "true") {
      ranked.push({ p, rank: -1 });
      continue;
    }
    if (p.api_path && normalizeApiPath(p.api_path) !== req.apiPath) continue;
    const all = p.apply_all === "true";
    const method = !all && p.apply_all_methods !== "true" && p.http_method ? p.http_method.toUpperCase() : undefined;
    const resource = !all && p.apply_all_resources !== "true" && p.api_resource ? p.api_resource : undefined;
    const version = !all && p.apply_all_versions !== "true" && p.version ? p.version.trim().toLowerCase() : undefined;
    const tables =
      p.apply_all_tables !== "true" && p.api_tablename
        ? p.api_tablename
            .split(",")
            .map((t) => t.trim())
            .filter(Boolean)
        : [];
    if (method && method !== req.method) continue;
    if (resource && !resourceMatches(resource, req.resource)) continue;
    if (version && version !== req.version) continue;
    if (tables.length > 0 && (!req.table || !tables.includes(req.table))) continue;
    // A table list narrows a policy further than its method, resource and version alone.
    ranked.push({ p, rank: SPECIFICITY[`${method ? "M" : ""}${resource ? "R" : ""}${version ? "V" : ""}`] * 2 + (tables.length ? 1 : 0) });
  }
  ranked.sort((a, b) => b.rank - a.rank || (a.p.sys_created_on ?? "").localeCompare(b.p.sys_created_on ?? "") || a.p.sys_id.localeCompare(b.p.sys_id));
  return ranked[0]?.p;
}
