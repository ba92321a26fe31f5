/** The emulator's state: options, schema, store and the services built on them. */
import { deleteDependents } from "./attachmentStore";
import { Directory } from "./auth/directory";
import { OAuthTokens } from "./auth/oauth";
import { normalizeApiPath, PolicyResolver } from "./auth/policy";
import { syncDictionary } from "./dictionary";
import { Faults } from "./faults";
import { resolvePath, valueAt } from "./fieldPath";
import { Metrics } from "./metrics";
import { resolveOptions, type ResolvedOptions } from "./options";
import { compileQuery, parseEncodedQuery, type CompiledQuery, type Term } from "./query";
import { RateLimiter } from "./rateLimit";
import { Renderer } from "./render";
import { Schema, type TableDef } from "./schema";
import { applyVariants, EVENT_MANAGEMENT_API, seedStore, type VariantKey } from "./seed";
import { Store, type Snapshot, type StoreHooks } from "./store";
import type { EmulatorOptions, EmulatorStore, GlideRecord } from "./types";
import type { WriteContext } from "./writeContext";
import { applyWrite } from "./writeRules";

const QUERY_CACHE_SIZE = 512;
const OUT_OF_BAND: WriteContext = { userName: "system", trusted: true, acceptToken: true };
/** Every write goes through the platform's field rules; a deleted record takes its attachments along. */
const STORE_HOOKS: StoreHooks = { write: applyWrite, afterDelete: deleteDependents };

export class Emulator {
  opts: ResolvedOptions;
  schema: Schema;
  readonly store: Store;
  readonly directory: Directory;
  readonly policies: PolicyResolver;
  readonly oauth: OAuthTokens;
  readonly rateLimiter: RateLimiter;
  readonly faults = new Faults();
  readonly metrics = new Metrics();
  renderer: Renderer;
  baseUrl = "http://127.0.0.1";
  private queryCache = new Map<string, CompiledQuery<GlideRecord>>();

  constructor(options: EmulatorOptions) {
    this.opts = resolveOptions(options);
    this.schema = new Schema(this.opts);
    this.store = new Store(this.schema, STORE_HOOKS);
    this.directory = new Directory(this.store);
    this.policies = new PolicyResolver(this.store);
    this.oauth = new OAuthTokens(this.store, this.directory);
    this.rateLimiter = new RateLimiter({
      rules: () => this.store.scan("sys_rate_limit_rules"),
      limitColumn: () => this.opts.rateLimitColumn,
      roleName: (sysId) => this.store.get("sys_user_role", sysId)?.name,
      apiPathOf: (rule) => this.policies.apiPathOf(rule),
      now: () => Date.now(),
    });
    this.renderer = new Renderer(this.store, this.schema);
    if (options.faults) this.faults.set(options.faults);
  }

  seed(): void {
    seedStore(this.store, this.opts);
    syncDictionary(this.store);
  }

  /** Loads a snapshot, then applies the switches that were given explicitly. */
  load(s: Snapshot, explicit: VariantKey[]): void {
    this.store.load(s);
    syncDictionary(this.store);
    applyVariants(this.store, this.opts, explicit);
  }

  /** Whether a plugin that brings the table is not active, so the table does not exist. */
  private withoutPlugin(def: TableDef | undefined): boolean {
    return !!def && ((!!def.tokenPlugin && this.opts.plugin !== "active") || (!!def.connectorPlugin && this.opts.eventManagement !== "active"));
  }

  /** The table's definition if it exists on this instance (plugin tables vanish without the plugin). */
  tableDef(name: string): TableDef | undefined {
    const def = this.schema.get(name);
    if (!def || this.withoutPlugin(def)) return undefined;
    return def;
  }

  /** The classes a query on `table` reads. */
  visibleClasses(table: string): string[] {
    const family = this.schema.familyOf(table);
    if (this.opts.plugin === "active" && this.opts.eventManagement === "active") return family;
    return family.filter((t) => !this.withoutPlugin(this.schema.get(t)));
  }

  /**
   * Whether the Event Management connector REST API exists: the plugin is active and an active
   * sys_ws_definition serves its base URI. Otherwise its paths are unknown resources.
   */
  eventApiActive(): boolean {
    if (this.opts.eventManagement !== "active") return false;
    for (const d of this.store.scan("sys_ws_definition")) {
      if (d.active === "true" && normalizeApiPath(d.base_uri ?? "") === EVENT_MANAGEMENT_API) return true;
    }
    return false;
  }

  compiledQuery(table: string, encoded: string, extra: Term[]): CompiledQuery<GlideRecord> {
    const key = `${table}\n${encoded}\n${extra.map((t) => `${t.field}${t.op}${t.value}`).join("\u0000")}`;
    let c = this.queryCache.get(key);
    if (!c) {
      c = compileQuery<GlideRecord>(
        parseEncodedQuery(encoded),
        (field) => {
          const path = resolvePath(this.schema, table, field);
          if (!path) return undefined;
          const name = path.last.name;
          const get = path.steps.length === 1 ? (r: GlideRecord) => r[name] ?? "" : (r: GlideRecord) => valueAt(this.store, path, r);
          return { get, type: path.last.type };
        },
        extra,
      );
      if (this.queryCache.size >= QUERY_CACHE_SIZE) this.queryCache.clear();
      this.queryCache.set(key, c);
    }
    return c;
  }

  setOptions(o: Partial<EmulatorOptions>): void {
    const next = { ...this.opts };
    for (const [k, v] of Object.entries(o)) {
      if (v !== undefined && k !== "faults" && k !== "port" && k !== "dataFile") (next as Record<string, unknown>)[k] = v;
    }
    const prev = this.opts;
    this.opts = next;
    if (prev.rateLimitColumn !== next.rateLimitColumn || prev.authScopeColumn !== next.authScopeColumn) {
      this.schema = new Schema(next);
      this.store.schema = this.schema;
      this.renderer = new Renderer(this.store, this.schema);
      this.queryCache.clear();
      syncDictionary(this.store);
    }
    const changed = (["plugin", "eventManagement", "shippedPolicies", "restApiKeyProfile", "queryParameterType", "adminPassword"] as VariantKey[]).filter(
      (k) => o[k] !== undefined && (k === "adminPassword" || prev[k] !== next[k]),
    );
    applyVariants(this.store, this.opts, changed);
    if (o.faults) this.faults.set(o.faults);
  }

  reset(): void {
    // A held write landing after the reset would leak a record into the fresh seed.
    this.faults.cancelHeld();
    this.seed();
    this.queryCache.clear();
    this.oauth.clear();
    this.rateLimiter.reset();
    this.metrics.reset();
  }

  /** Direct record access for tests: copies out, trusted writes in. */
  publicStore(): EmulatorStore {
    const def = (table: string): TableDef => {
      const d = this.schema.get(table);
      if (!d) throw new Error(`unknown table ${table}`);
      return d;
    };
    return {
      get: (table, sysId) => {
        const r = this.store.get(table, sysId);
        return r ? { ...r } : undefined;
      },
      query: (table, predicate) => {
        def(table);
        const out: GlideRecord[] = [];
        for (const r of this.store.scan(table)) if (!predicate || predicate(r)) out.push({ ...r });
        return out;
      },
      insert: (table, fields) => ({ ...this.store.insert(def(table), fields, OUT_OF_BAND) }),
      update: (table, sysId, fields) => {
        const r = this.store.update(def(table), sysId, fields, OUT_OF_BAND);
        return r ? { ...r } : undefined;
      },
      delete: (table, sysId) => this.store.delete(table, sysId),
    };
  }

  tokenOf(apiKeySysId: string): string | undefined {
    const r = this.store.get("api_key", apiKeySysId);
    return r?.token || undefined;
  }
}
