/**
 * REST API access policies: which single policy governs a request, and which inbound
 * authentication profiles it admits. Most specific wins:
 * method+resource+version > method+resource > resource+version > resource >
 * method+version > method > version > whole API > global.
 */
import type { Store } from "../store";
import type { GlideRecord } from "../types";

export interface ApiCall {
  /** "now/table", "sn_em_connector/em" */
  apiPath: string;
  /** Resource path without `/api` and without the version segment: "/now/table/incident/<id>" */
  resource: string;
  method: string;
  /** "v1", "v2"; unversioned calls use the API's default version */
  version: string;
  table?: string;
}

interface CompiledPolicy {
  row: GlideRecord;
  global: boolean;
  apiPath: string;
  method?: string;
  resource?: string[];
  version?: string;
  tables?: Set<string>;
  rank: number;
}

/** Strips `/api/`, a version segment and surrounding slashes: "/api/now/v2/table" -> "now/table". */
export function normalizeApiPath(p: string): string {
  return p
    .trim()
    .replace(/^\/+/, "")
    .replace(/^api\//, "")
    .split("/")
    .filter((s) => s && !/^v\d+$/.test(s))
    .join("/");
}

function resourceSegments(p: string): string[] {
  return normalizeApiPath(p).split("/").filter(Boolean);
}

export function resourceMatches(template: string[], resource: string): boolean {
  const segs = resourceSegments(resource);
  if (segs.length !== template.length) return false;
  for (let i = 0; i < segs.length; i++) {
    const t = template[i];
    if (t.startsWith("{") && t.endsWith("}")) continue;
    if (t !== segs[i]) return false;
  }
  return true;
}

const RANK: Record<string, number> = { MRV: 7, MR: 6, RV: 5, R: 4, MV: 3, M: 2, V: 1, "": 0 };

export class PolicyResolver {
  private version = -1;
  private compiled: CompiledPolicy[] = [];
  private profilesVersion = -1;
  private profiles = new Map<string, GlideRecord[]>();

  constructor(private readonly store: Store) {}

  /** The API path a row (policy, scope rule, rate-limit rule) applies to: its api_path, else its REST API's base URI. */
  apiPathOf(row: GlideRecord): string {
    if (row.api_path) return normalizeApiPath(row.api_path);
    if (row.api) {
      const def = this.store.get("sys_ws_definition", row.api);
      if (def?.base_uri) return normalizeApiPath(def.base_uri);
    }
    return "";
  }

  private policies(): CompiledPolicy[] {
    const v = this.store.version("sys_api_access_policy") * 1_000_003 + this.store.version("sys_ws_definition");
    if (v === this.version) return this.compiled;
    const out: CompiledPolicy[] = [];
    for (const row of this.store.scan("sys_api_access_policy")) {
      if (row.active !== "true") continue;
      const all = row.apply_all === "true";
      const method = !all && row.apply_all_methods !== "true" && row.http_method ? row.http_method.toUpperCase() : undefined;
      const resource = !all && row.apply_all_resources !== "true" && row.api_resource ? resourceSegments(row.api_resource) : undefined;
      const version = !all && row.apply_all_versions !== "true" && row.version ? row.version.trim().toLowerCase() : undefined;
      const tableList =
        row.apply_all_tables !== "true" && row.api_tablename
          ? row.api_tablename
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean)
          : [];
      const global = row.apply_global === "true";
      const key = `${method ? "M" : ""}${resource ? "R" : ""}${version ? "V" : ""}`;
      out.push({
        row,
        global,
        apiPath: this.apiPathOf(row),
        method,
        resource,
        version,
        tables: tableList.length ? new Set(tableList) : undefined,
        // Tables narrow a policy further than its method/resource/version alone.
        rank: global ? -2 : RANK[key] * 2 + (tableList.length ? 1 : 0),
      });
    }
    out.sort((a, b) => b.rank - a.rank || a.row.sys_created_on.localeCompare(b.row.sys_created_on) || a.row.sys_id.localeCompare(b.row.sys_id));
    this.compiled = out;
    this.version = v;
    return out;
  }

  /** The single governing policy, or undefined when none applies (treated as global). */
  resolve(call: ApiCall): GlideRecord | undefined {
    for (const p of this.policies()) {
      if (p.global) return p.row;
      if (p.apiPath !== call.apiPath) continue;
      if (p.method && p.method !== call.method) continue;
      if (p.version && p.version !== call.version) continue;
      if (p.resource && !resourceMatches(p.resource, call.resource)) continue;
      if (p.tables && (!call.table || !p.tables.has(call.table))) continue;
      return p.row;
    }
    return undefined;
  }

  /** The profiles (inbound_auth_profile rows of any class) a policy is mapped to. */
  profilesOf(policyId: string): GlideRecord[] {
    const v = this.store.version("sys_auth_profile_mapping") * 1_000_003 + this.store.version("inbound_auth_profile");
    if (v !== this.profilesVersion) {
      this.profiles.clear();
      this.profilesVersion = v;
    }
    let out = this.profiles.get(policyId);
    if (!out) {
      out = [];
      for (const m of this.store.scan("sys_auth_profile_mapping")) {
        if (m.api_access_policy !== policyId) continue;
        const p = this.store.get("inbound_auth_profile", m.inbound_auth_profile);
        if (p) out.push(p);
      }
      this.profiles.set(policyId, out);
    }
    return out;
  }
}
