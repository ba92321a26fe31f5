/**
 * The one generic path for "a record in a ServiceNow table".
 *
 * Every ServiceNow resource in keywire is a {@link RecordSpec}: the table, the
 * owned fields and their kinds, the natural key, and the few hooks where it
 * differs (the API key's token, for instance). This module turns a spec into a
 * Pulumi dynamic provider whose check/diff/create/read/update/delete all follow
 * the same rules:
 *
 * - only owned fields are diffed, in column space (see fields.ts), so server-filled
 *   fields and formatting never show as drift;
 * - read asks for the owned columns only (1 GET) and reports a 404 as gone;
 * - update PATCHes only the columns that differ (1 PATCH, none when nothing does);
 * - delete of a missing record succeeds (1 DELETE);
 * - create is 1 POST under a sys_id the client chooses, so an unknown outcome is
 *   settled by asking for that sys_id (see TableClient.create), never by name;
 * - an existing record can be adopted instead of created, and is restored (not
 *   deleted) on destroy unless told otherwise.
 *
 * The provider object is serialized into the Pulumi state, so it captures only the
 * spec and this module's functions. Connection settings arrive through
 * `configure` (or the environment) at run time, and clients are built inside each
 * method.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ZodType } from "zod";
import { FieldDef, InputValue, fromColumn, isSysId, needsLookup, sameColumnValue, toColumn } from "./fields";
import { ServiceNowConnection, ConfigSource, resolveConnection } from "./client/connection";
import { TableClient, SnRecord } from "./client/tableClient";
import { EncodedQuery, q, where } from "./client/encodedQuery";
import { KeywireError, isKeywireHttpError } from "../shared/errors";
import { NamedProvider, ProviderHome, referencedProvider } from "../shared/providerReference";
import { inputErrorMap } from "../shared/inputMessages";
import { SCRIPT_MESSAGE, isScriptValue } from "./inputRules";

/** Inputs every record resource accepts besides its own fields. */
export interface AdoptionInputs {
  /**
   * Take over an existing record instead of creating one: `true` finds it by the
   * resource's natural key, a sys_id names it directly.
   */
  adopt?: boolean | string;
  /**
   * What destroy does: `delete` the record, `restore` the owned fields keywire
   * changed on an adopted record, or `retain` it untouched. Defaults to `delete`
   * for records keywire created and `restore` for adopted ones.
   */
  onDestroy?: "delete" | "restore" | "retain";
}

/** What the engine remembers about an adopted record. */
export interface AdoptionState {
  sysId: string;
  /** Owned columns as they were before keywire changed them. */
  original: Record<string, string>;
}

/** A name → sys_id resolution, kept so diffs need no lookup (a plain preview makes no call). */
export interface ResolvedValue {
  input: string | string[];
  column: string;
  /** Other column values the resolver knows names for, so drift reads as a name. */
  aliases?: Record<string, string>;
}

/** Resolves one input value to its column value when a plain name lookup will not do. */
export type Resolver = (ctx: EngineContext, value: string) => Promise<ResolvedValue>;

/** The engine's part of every record resource's outputs. */
export interface RecordOutputs {
  sysId: string;
  /** Live owned columns, exactly as the instance stores them. */
  columns: Record<string, string>;
  resolved: Record<string, ResolvedValue>;
  adoption?: AdoptionState;
  /** Link to the record in the instance UI (for people, never parsed). */
  recordUrl: string;
  [prop: string]: unknown;
}

export type Inputs = Record<string, unknown> & AdoptionInputs;

/** What a hook sees: the client for this call and the connection it came from. */
export interface EngineContext {
  client: TableClient;
  connection: ServiceNowConnection;
  /** Whose remembered lookups this call shares (the resource type); see lookupOnce. */
  lookupScope?: string;
}

export interface PreparedCreate {
  columns: Record<string, string>;
  inputDisplayValue?: boolean;
  /** Outputs that the hook already knows (e.g. which token route is in use). */
  outputs?: Record<string, unknown>;
}

export interface RecordHooks {
  /** Adjust the columns or request options of the create POST. */
  prepareCreate?(ctx: EngineContext, inputs: Inputs, columns: Record<string, string>): Promise<PreparedCreate>;
  /**
   * Runs after a create, adoption or update has been written; returns extra
   * outputs. Throwing here fails the operation (the API key's token probe does
   * so when no token can be proven).
   */
  afterWrite?(
    ctx: EngineContext,
    phase: "create" | "adopt" | "update",
    record: SnRecord,
    inputs: Inputs,
    prepared: Record<string, unknown>,
    olds?: RecordOutputs,
  ): Promise<Record<string, unknown>>;
  /**
   * Column values computed from more than one input (an expiry relative to the
   * creation time); they win over the field's own conversion. Pure: diff calls it.
   */
  columnOverrides?(inputs: Inputs, olds?: RecordOutputs): Record<string, string>;
  /**
   * A record to take over although `adopt` is not set (the resource's own rule,
   * e.g. the API key a stopped run parked); undefined means create as usual.
   */
  implicitAdoption?(ctx: EngineContext, inputs: Inputs, columns: Record<string, string>): Promise<SnRecord | undefined>;
  /** Changes the generic field diff cannot see (a new operator token, a rotation). */
  diffExtra?(olds: RecordOutputs, news: Inputs): { changed: string[]; replaces: string[] };
  /**
   * Inputs the resource derives from its old and new inputs in check (a key's
   * generation), so that preview shows them and create receives them. Pure.
   */
  derivedInputs?(olds: Inputs, news: Inputs, now: Date): Record<string, unknown>;
  /**
   * Extra validation needing more than the schema (cross-field rules, or rules
   * against the inputs in the state, `olds`); messages name the property.
   */
  validate?(inputs: Inputs, olds: Inputs): pulumi.dynamic.CheckFailure[];
  /**
   * Inputs that only the instance can tell, for a record about to be created (an API
   * key's generation, counted from the keys of its name on the instance; the parked
   * key it will take over). Returns undefined when no record is to be created, so a
   * settled stack's previews make no call. check shows the answer in the preview (a
   * failure there only leaves it out); create asks again, since the engine checks a
   * replacement a second time without its old inputs.
   */
  creationInputs?(ctx: EngineContext, olds: Inputs, inputs: Inputs): Promise<Record<string, unknown> | undefined>;
  /**
   * Runs before an existing record is taken over (and changed), explicitly or
   * implicitly; throwing stops the adoption with the record untouched.
   */
  beforeAdopt?(ctx: EngineContext, inputs: Inputs, record: SnRecord): Promise<void>;
}

export interface RecordSpec {
  /** Resource type name, e.g. "ApiKey"; also the last part of its type token. */
  typeName: string;
  table: string;
  /** Input property → column. */
  fields: Record<string, FieldDef>;
  /** Input properties that identify the record (for adoption and idempotent create). */
  naturalKey: string[];
  /** Builds the zod schema for the resource's own inputs; called inside check only. */
  schema: (z: typeof import("zod")) => ZodType;
  /** Inputs that are secrets: never echoed into read's inputs. */
  secretInputs?: string[];
  /** Outputs the engine carries through read untouched (values only the program knows). */
  carriedOutputs?: string[];
  /**
   * Inputs the instance does not store (settings, values derived in check), carried
   * through read like carriedOutputs and kept in read's inputs, so a refresh does
   * not make them look unset to the next check.
   */
  carriedInputs?: string[];
  /** Input properties resolved by a custom lookup rather than `FieldDef.lookup`. */
  resolvers?: Record<string, Resolver>;
  hooks?: RecordHooks;
}

/** Type tokens read `pulumi-nodejs:dynamic/keywire/servicenow:<Name>`. */
export const SERVICENOW_MODULE = "keywire/servicenow";

function needsResolution(spec: RecordSpec, prop: string, def: FieldDef, value: InputValue): boolean {
  if (spec.resolvers?.[prop]) return typeof value === "string" && value !== "" && !isSysId(value);
  return needsLookup(def, value);
}

/**
 * The stack configuration a provider process received through `configure`.
 * It lives on the process's global object, not in any closure, so that even a
 * provider serialized after configure ran (as tests do) can never carry it into
 * the state. All providers in one process share one stack, hence one slot.
 */
const CONFIG_SLOT = "keywire.servicenow.runtimeConfig";

export function setRuntimeConfig(config: ConfigSource | undefined, lookupScope = ""): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for(CONFIG_SLOT)] = config;
  // New settings may name another instance (or the same one, reset): this type
  // forgets what it looked up. Only its own: the engine configures each type of a
  // run as its first resource arrives, while the other types' calls are under way.
  delete lookupScopes()[lookupScope];
}

export function runtimeConfig(): ConfigSource {
  const config = (globalThis as Record<symbol, unknown>)[Symbol.for(CONFIG_SLOT)] as ConfigSource | undefined;
  return config ?? { get: () => undefined };
}

/**
 * Answers to lookups that every resource of a run asks the same way (a user by
 * user_name, the shipped key-location rows, the parked keys): one request per
 * provider process instead of one per resource, per resource type (lookupScope).
 * Kept on the global object like the configuration; a type forgets its own when
 * its configure runs. Failures are not kept.
 */
const LOOKUP_SLOT = "keywire.servicenow.lookups";

interface LookupCache {
  byKey: Record<string, Promise<unknown>>;
  /** Custom resolvers are keyed by the function itself: two specs may share a type name. */
  byResolver: WeakMap<Resolver, Record<string, Promise<ResolvedValue>>>;
}

function lookupScopes(): Record<string, LookupCache> {
  const g = globalThis as Record<symbol, Record<string, LookupCache> | undefined>;
  return (g[Symbol.for(LOOKUP_SLOT)] ??= Object.create(null) as Record<string, LookupCache>);
}

function lookupCache(ctx: EngineContext): LookupCache {
  return (lookupScopes()[ctx.lookupScope ?? ""] ??= { byKey: Object.create(null) as Record<string, Promise<unknown>>, byResolver: new WeakMap() });
}

function remember<T>(entries: Record<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  const known = entries[key];
  if (known) return known;
  const made = make();
  entries[key] = made;
  made.catch(() => {
    if (entries[key] === made) delete entries[key];
  });
  return made;
}

/**
 * The result of `make`, asked once per provider process for `key` on this
 * connection's instance. For reads whose answer does not change during a run.
 */
export function lookupOnce<T>(ctx: EngineContext, key: string, make: () => Promise<T>): Promise<T> {
  return remember(lookupCache(ctx).byKey as Record<string, Promise<T>>, `${ctx.connection.instanceUrl} ${key}`, make);
}

/** Drops a remembered answer that turned out unusable (a name not found yet may exist later). */
export function forgetLookup(ctx: EngineContext, key: string): void {
  delete lookupCache(ctx).byKey[`${ctx.connection.instanceUrl} ${key}`];
}

export const ENGINE_PROPS = ["sysId", "columns", "resolved", "adoption", "recordUrl"] as const;

/**
 * During a preview, inputs that come from other resources' outputs are not known
 * yet and reach the provider as this sentinel. Validation skips them; they are
 * checked again once known, before anything is written.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** Builds the client for one provider call, from configure's settings or the environment. */
export function contextFor(lookupScope?: string): EngineContext {
  const connection = resolveConnection(runtimeConfig(), process.env);
  return { connection, client: new TableClient(connection), ...(lookupScope === undefined ? {} : { lookupScope }) };
}

export function recordUrl(connection: ServiceNowConnection, table: string, sysId: string): string {
  return `${connection.instanceUrl}/nav_to.do?uri=${encodeURIComponent(`${table}.do?sys_id=${sysId}`)}`;
}

/**
 * Whether the record is keywire's own: one it creates, or one it takes over to
 * delete on destroy (its own chain adopted again after a lost state, a key it
 * parked). Every field of an owned record is managed, an input left out meaning the
 * field's default. Any other adopted record is someone else's (a shipped policy):
 * destroy restores it, and keywire manages only the inputs the program gives.
 */
export function ownsRecord(inputs: Inputs): boolean {
  return !inputs.adopt || inputs.onDestroy === "delete";
}

/**
 * The fields keywire manages for these inputs: all of them for a record it owns;
 * for another adopted record only those the program gives, so taking over a
 * shipped record never rewrites what the program did not mention.
 */
export function managedFields(spec: RecordSpec, inputs: Inputs): Array<[string, FieldDef]> {
  const all = Object.entries(spec.fields);
  if (ownsRecord(inputs)) return all;
  return all.filter(([prop]) => inputs[prop] !== undefined && inputs[prop] !== null);
}

/**
 * The inputs with the declared default of every field an owned record's program
 * leaves out, in input form (`active: true`). Then the checked inputs state every
 * value keywire keeps the record at: a preview shows it, and a drift report that
 * compares them with the refreshed record sees a default changed on the instance
 * as the instance's change. An adopted record that is not keywire's gets none:
 * what the program does not mention is not keywire's to keep.
 */
export function withDefaults(spec: RecordSpec, inputs: Inputs): Inputs {
  if (!ownsRecord(inputs)) return inputs;
  const out: Inputs = { ...inputs };
  for (const [prop, def] of Object.entries(spec.fields)) {
    if (def.defaultValue !== undefined && (out[prop] === undefined || out[prop] === null)) out[prop] = fromColumn(def, def.defaultValue);
  }
  return out;
}

/**
 * What destroy will do with the record: `onDestroy`, or by default restore an
 * adopted record and delete a created one. For new inputs, the record counts as
 * adopted while the program adopts it or the state remembers an adoption (the
 * bookkeeping outlives the `adopt` input).
 */
function destroyMode(onDestroy: unknown, adopted: boolean): unknown {
  return onDestroy ?? (adopted ? "restore" : "delete");
}

function ownedColumns(spec: RecordSpec): string[] {
  return Object.values(spec.fields).map((f) => f.column);
}

/**
 * Column values the inputs ask for, using `resolved` (from a previous run) for
 * names; a name not resolved yet yields `undefined` ("will change, value known
 * after the lookup").
 */
export function desiredColumns(
  spec: RecordSpec,
  inputs: Inputs,
  olds: RecordOutputs,
): Record<string, string | undefined> {
  const resolved = olds.resolved ?? {};
  const out: Record<string, string | undefined> = {};
  for (const [prop, def] of Object.entries(spec.fields)) {
    const value = inputs[prop] as InputValue;
    if (needsResolution(spec, prop, def, value)) {
      const prior = resolved[prop];
      out[def.column] = prior && JSON.stringify(prior.input) === JSON.stringify(value) ? prior.column : undefined;
    } else {
      out[def.column] = toColumn(def, value);
    }
  }
  return { ...out, ...spec.hooks?.columnOverrides?.(inputs, olds) };
}

/** Resolves names to sys_ids with one GET per field that needs it. */
async function resolveColumns(
  ctx: EngineContext,
  spec: RecordSpec,
  inputs: Inputs,
  olds: RecordOutputs | undefined,
): Promise<{ columns: Record<string, string>; resolved: Record<string, ResolvedValue> }> {
  const prior = olds?.resolved ?? {};
  const columns: Record<string, string> = {};
  const resolved: Record<string, ResolvedValue> = {};
  for (const [prop, def] of Object.entries(spec.fields)) {
    const value = inputs[prop] as InputValue;
    if (!needsResolution(spec, prop, def, value)) {
      columns[def.column] = toColumn(def, value);
      continue;
    }
    const known = prior[prop];
    if (known && JSON.stringify(known.input) === JSON.stringify(value)) {
      columns[def.column] = known.column;
      resolved[prop] = known;
      continue;
    }
    const custom = spec.resolvers?.[prop];
    if (custom) {
      const cache = lookupCache(ctx);
      let entries = cache.byResolver.get(custom);
      if (!entries) {
        entries = Object.create(null) as Record<string, Promise<ResolvedValue>>;
        cache.byResolver.set(custom, entries);
      }
      const r = await remember(entries, `${ctx.connection.instanceUrl} ${String(value)}`, () => custom(ctx, String(value)));
      columns[def.column] = r.column;
      resolved[prop] = r;
      continue;
    }
    if (!def.lookup) throw new Error(`${spec.typeName}.${prop} needs a lookup but declares none`);
    const lookup = def.lookup;
    const names = (Array.isArray(value) ? value : String(value).split(",")).map((s) => String(s).trim()).filter(Boolean);
    const byName = names.filter((n) => !isSysId(n));
    // Every key of a run names the same user: one GET per process, not one per key.
    const lookupKey = `${lookup.table} ${lookup.by} ${JSON.stringify(byName)}`;
    const rows = await lookupOnce(ctx, lookupKey, () =>
      ctx.client.list(lookup.table, {
        query: q().in(lookup.by, byName).build(),
        fields: ["sys_id", lookup.by],
      }),
    );
    const ids: string[] = [];
    for (const n of names) {
      if (isSysId(n)) {
        ids.push(n);
        continue;
      }
      const matches = rows.filter((r) => r[lookup.by] === n);
      if (matches.length !== 1) {
        forgetLookup(ctx, lookupKey);
        throw new KeywireError({
          platform: "servicenow",
          operation: `resolve ${prop} of ${spec.typeName}`,
          table: lookup.table,
          reason:
            matches.length === 0
              ? `${spec.typeName}.${prop}: no ${lookup.table} record has ${lookup.by} "${n}"`
              : `${spec.typeName}.${prop}: ${matches.length} ${lookup.table} records have ${lookup.by} "${n}"`,
          hint:
            matches.length === 0
              ? `Check the spelling, or create it first; a sys_id is accepted too.`
              : `Give the sys_id of the one you mean instead of the name.`,
        });
      }
      ids.push(matches[0].sys_id);
    }
    const column = def.kind === "reference" ? ids[0] ?? "" : ids.join(",");
    columns[def.column] = column;
    resolved[prop] = { input: Array.isArray(value) ? names : String(value), column };
  }
  Object.assign(columns, spec.hooks?.columnOverrides?.(inputs, olds));
  return { columns, resolved };
}

/**
 * The Table API silently drops columns a table does not have. A column keywire
 * wrote that is missing from the answer would read as drift forever: stop and
 * say so instead.
 */
export function assertColumnsExist(spec: RecordSpec, written: Record<string, string>, record: SnRecord): void {
  const missing = Object.keys(written).filter((c) => record[c] === undefined && Object.values(spec.fields).some((f) => f.column === c));
  if (missing.length === 0) return;
  throw new KeywireError({
    platform: "servicenow",
    operation: `write ${spec.typeName}`,
    table: spec.table,
    reason: `the instance has no column ${missing.join(", ")} on ${spec.table} and ignored ${missing.length > 1 ? "them" : "it"}`,
    hint: "The column name differs on this release; check sys_dictionary for the table (preflight lists candidates) and report it.",
  });
}

export function naturalKeyQuery(spec: RecordSpec, columns: Record<string, string>): EncodedQuery {
  const key: Record<string, string> = {};
  for (const prop of spec.naturalKey) {
    const def = spec.fields[prop];
    key[def.column] = columns[def.column] ?? "";
  }
  return where(key);
}

/** Builds the outputs from a record as read or written. */
function outputsFrom(
  spec: RecordSpec,
  ctx: EngineContext,
  record: SnRecord,
  inputs: Inputs,
  resolved: Record<string, ResolvedValue>,
  extra: Record<string, unknown>,
): RecordOutputs {
  const columns: Record<string, string> = {};
  const view: Record<string, unknown> = {};
  for (const [prop, def] of Object.entries(spec.fields)) {
    const live = record[def.column] ?? "";
    columns[def.column] = live;
    const r = resolved[prop];
    // A reference given by name is shown by that name while it still points at the
    // same record; once it points elsewhere, the sys_id it points at is shown.
    view[prop] = r && sameColumnValue(def, r.column, live) ? r.input : r?.aliases?.[live] ?? fromColumn(def, live);
  }
  const out: RecordOutputs = {
    ...extra,
    ...view,
    sysId: record.sys_id,
    columns,
    resolved,
    recordUrl: recordUrl(ctx.connection, spec.table, record.sys_id),
  };
  for (const key of ["adopt", "onDestroy"] as const) {
    if (inputs[key] !== undefined) out[key] = inputs[key];
  }
  // The engine's gRPC Struct cannot carry `undefined` (an optional input the
  // program left out, carried by a hook): leave such properties out.
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/** The input-space view of outputs, as `read` reports it (drift shows per property). */
function carriedProps(spec: RecordSpec): string[] {
  return [...(spec.carriedOutputs ?? []), ...(spec.carriedInputs ?? [])];
}

function inputsView(spec: RecordSpec, outs: RecordOutputs, olds: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(olds)) {
    if (k === "__provider" || (ENGINE_PROPS as readonly string[]).includes(k)) continue;
    if (spec.secretInputs?.includes(k)) continue;
    if ((spec.carriedOutputs ?? []).includes(k)) continue;
    view[k] = v;
  }
  for (const prop of Object.keys(spec.fields)) view[prop] = outs[prop];
  return view;
}

function failuresFrom(error: { issues: Array<{ path: PropertyKey[]; message: string }> }, typeName: string): pulumi.dynamic.CheckFailure[] {
  return error.issues.map((issue) => {
    const property = issue.path.map(String).join(".") || "(inputs)";
    return { property, reason: `${typeName}.${property}: ${issue.message}` };
  });
}

/**
 * Inputs keywire puts into queries: names it looks up, the natural key it finds
 * records by, and values custom resolvers search for. A value starting with
 * `javascript:` would run as a script there; the query builder refuses it at
 * the call, and this names the property before any call is made.
 */
function scriptValueFailures(spec: RecordSpec, inputs: Inputs): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  for (const [prop, def] of Object.entries(spec.fields)) {
    if (!def.lookup && !spec.naturalKey.includes(prop) && !spec.resolvers?.[prop]) continue;
    const value = inputs[prop];
    const items = Array.isArray(value) ? value : def.kind === "list" && typeof value === "string" ? value.split(",") : [value];
    if (items.some(isScriptValue)) failures.push({ property: prop, reason: `${spec.typeName}.${prop}: ${SCRIPT_MESSAGE}` });
  }
  return failures;
}

/** The zod schema of the engine's own inputs, merged into every resource's. */
function adoptionSchema(z: typeof import("zod")) {
  return z.object({
    adopt: z
      .union([z.boolean(), z.string().regex(/^[0-9a-f]{32}$/, "must be true or a 32-character lowercase hex sys_id")])
      .optional(),
    onDestroy: z.enum(["delete", "restore", "retain"]).optional(),
  });
}

/**
 * Turns a spec into a dynamic provider, stored in the state as a reference to
 * `home` (the module and export that hold it; see providerReference.ts).
 */
export function recordProvider(spec: RecordSpec, home: ProviderHome): pulumi.dynamic.ResourceProvider {
  return referencedProvider(engineProvider(spec), home);
}

/** The provider that does the work: clients are built per call, never held. */
function engineProvider(spec: RecordSpec): NamedProvider {
  async function findAdopted(ctx: EngineContext, inputs: Inputs, columns: Record<string, string>): Promise<SnRecord> {
    const fields = ["sys_id", ...ownedColumns(spec)];
    if (typeof inputs.adopt === "string") {
      const rec = await ctx.client.get(spec.table, inputs.adopt, { fields });
      if (!rec) {
        throw new KeywireError({
          platform: "servicenow",
          operation: `adopt ${spec.typeName}`,
          table: spec.table,
          status: 404,
          reason: `${spec.typeName}: no ${spec.table} record has sys_id ${inputs.adopt}`,
          hint: "Check the sys_id (open the record and copy it from the form's context menu), or drop `adopt` to create one.",
        });
      }
      return rec;
    }
    const rows = await ctx.client.list(spec.table, { query: naturalKeyQuery(spec, columns), fields, limit: 2 });
    if (rows.length !== 1) {
      const key = spec.naturalKey.map((p) => `${p}=${JSON.stringify(columns[spec.fields[p].column])}`).join(", ");
      throw new KeywireError({
        platform: "servicenow",
        operation: `adopt ${spec.typeName}`,
        table: spec.table,
        reason: `${spec.typeName}: ${rows.length === 0 ? "no" : "more than one"} ${spec.table} record matches ${key}`,
        hint: rows.length === 0 ? "Drop `adopt` to create the record, or fix the name." : "Adopt by sys_id instead (`adopt: \"<sys_id>\"`).",
      });
    }
    return rows[0];
  }

  function adoptionKey(inputs: Inputs, columns: Record<string, string>): string {
    const which = typeof inputs.adopt === "string" ? inputs.adopt : naturalKeyQuery(spec, columns).toString();
    return `${spec.table} adopt ${which}`;
  }

  /**
   * The record an adoption will take over and what it will change there, or
   * undefined when a name the record is found by cannot be looked up yet (create
   * looks it up again and says why it fails).
   */
  async function previewAdoption(inputs: Inputs): Promise<Record<string, unknown> | undefined> {
    const ctx = contextFor(spec.typeName);
    let columns: Record<string, string>;
    try {
      // Names resolved as create resolves them (the same lookups, asked once per process),
      // so a natural key that holds a reference (a grant's user and role) finds the record.
      ({ columns } = await resolveColumns(ctx, spec, inputs, undefined));
    } catch {
      return undefined;
    }
    const wanted: Record<string, string> = {};
    for (const [, def] of managedFields(spec, inputs)) wanted[def.column] = columns[def.column];
    Object.assign(wanted, spec.hooks?.columnOverrides?.(inputs, undefined));
    // Kept for the create that follows in this run, so adopting reads the record once.
    const existing = await lookupOnce(ctx, adoptionKey(inputs, columns), () => findAdopted(ctx, inputs, columns));
    const changes: Record<string, string> = {};
    for (const [column, value] of Object.entries(wanted)) {
      const def = Object.values(spec.fields).find((f) => f.column === column);
      const have = existing[column] ?? "";
      if (def ? !sameColumnValue(def, value, have) : have !== value) changes[column] = `${JSON.stringify(have)} -> ${JSON.stringify(value)}`;
    }
    return { sysId: existing.sys_id, changes };
  }

  const provider: NamedProvider = {
    typeName: spec.typeName,

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      setRuntimeConfig(req.config, spec.typeName);
    },

    async check(olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult> {
      // zod is required here, not at module scope: schema objects do not survive
      // closure serialization.
      const z: typeof import("zod") = require("zod");
      const schema = spec.schema(z);
      const failures: pulumi.dynamic.CheckFailure[] = [];
      const own = schema.safeParse(withoutEngineInputs(news), { error: inputErrorMap });
      if (!own.success) failures.push(...failuresFrom(own.error, spec.typeName));
      const engine = adoptionSchema(z).safeParse({ adopt: news.adopt, onDestroy: news.onDestroy }, { error: inputErrorMap });
      if (!engine.success) failures.push(...failuresFrom(engine.error, spec.typeName));
      failures.push(...scriptValueFailures(spec, news));
      if (failures.length === 0 && spec.hooks?.validate) failures.push(...spec.hooks.validate(news, olds));
      const known = failures.filter((f) => !containsUnknown(news[f.property.split(".")[0]]));
      if (known.length > 0) return { inputs: news, failures: known };
      if (failures.length > 0 || containsUnknown(news)) return { inputs: withDefaults(spec, news) };
      let inputs: Inputs = withDefaults(spec, { ...news, ...(own.success ? (own.data as Record<string, unknown>) : {}) });
      if (spec.hooks?.derivedInputs) inputs = { ...inputs, ...spec.hooks.derivedInputs(olds, inputs, new Date()) };
      if (spec.hooks?.creationInputs) {
        try {
          inputs = mergeDefined(inputs, await spec.hooks.creationInputs(contextFor(spec.typeName), olds, inputs));
        } catch {
          // Only what the preview shows: create asks again and fails there, with the reason.
        }
      }
      // Normalise the values the engine compares, so a diff never sees formatting.
      for (const [prop, def] of Object.entries(spec.fields)) {
        if (def.kind === "datetime" && typeof inputs[prop] === "string" && inputs[prop] !== "") {
          inputs[prop] = toColumn(def, inputs[prop] as string);
        }
      }
      // Adoption is shown before it happens: the record's current values next to
      // what keywire will write, as an input the preview displays. Only while the
      // adoption is pending, so a settled stack's previews make no call.
      if (inputs.adopt && !olds.adopt && !containsUnknown(inputs)) {
        const preview = await previewAdoption(inputs);
        if (preview) inputs.adoptionPreview = preview;
      } else if (inputs.adopt && olds.adoptionPreview !== undefined) {
        inputs.adoptionPreview = olds.adoptionPreview;
      }
      return { inputs };
    },

    async diff(_id: string, olds: RecordOutputs, news: Inputs): Promise<pulumi.dynamic.DiffResult> {
      const changed: string[] = [];
      const replaces: string[] = [];
      const desired = desiredColumns(spec, news, olds);
      for (const [prop, def] of managedFields(spec, news)) {
        if (def.createOnly) continue;
        const want = desired[def.column];
        const have = olds.columns?.[def.column] ?? "";
        if (want === undefined || !sameColumnValue(def, want, have)) {
          changed.push(prop);
          // A value not known yet (preview, another resource changing) is not
          // a reason to replace: the diff runs again with it known before any write.
          if (def.replaceOnChange && !containsUnknown(news[prop])) replaces.push(prop);
        }
      }
      // Adopting a different record is a different resource.
      if (typeof news.adopt === "string" && olds.adoption && news.adopt !== olds.adoption.sysId) replaces.push("adopt");
      // What destroy would do, not how it is spelt: `onDestroy: "delete"` on a record
      // keywire created is what it does anyway.
      if (destroyMode(news.onDestroy, Boolean(news.adopt) || olds.adoption !== undefined) !== destroyMode(olds.onDestroy, olds.adoption !== undefined)) {
        changed.push("onDestroy");
      }
      const extra = spec.hooks?.diffExtra?.(olds, news);
      if (extra) {
        changed.push(...extra.changed);
        replaces.push(...extra.replaces);
      }
      return { changes: changed.length > 0 || replaces.length > 0, replaces, deleteBeforeReplace: false };
    },

    async create(checked: Inputs): Promise<pulumi.dynamic.CreateResult> {
      const ctx = contextFor(spec.typeName);
      const inputs = spec.hooks?.creationInputs ? mergeDefined(checked, await spec.hooks.creationInputs(ctx, {}, checked)) : checked;
      const { columns, resolved } = await resolveColumns(ctx, spec, inputs, undefined);
      let record: SnRecord;
      let adoption: AdoptionState | undefined;
      let prepared: Record<string, unknown> = {};
      let phase: "create" | "adopt" = "create";
      // A record the resource takes over without being told to (the API key an
      // earlier run parked for its token): found by the resource's own rule.
      const implicit = inputs.adopt ? undefined : await spec.hooks?.implicitAdoption?.(ctx, inputs, columns);
      if (inputs.adopt || implicit) {
        phase = "adopt";
        let existing: SnRecord;
        if (implicit) {
          existing = implicit;
        } else {
          // The record as check found it moments ago in this run, if it did; read once either way.
          const key = adoptionKey(inputs, columns);
          existing = await lookupOnce(ctx, key, () => findAdopted(ctx, inputs, columns));
          forgetLookup(ctx, key);
        }
        await spec.hooks?.beforeAdopt?.(ctx, inputs, existing);
        const changes: Record<string, string> = {};
        const original: Record<string, string> = {};
        for (const [, def] of managedFields(spec, inputs)) {
          const have = existing[def.column] ?? "";
          // Every managed column's value at adoption is what destroy restores, even
          // one keywire did not need to change now but repairs after drift later.
          original[def.column] = have;
          if (!sameColumnValue(def, columns[def.column], have)) changes[def.column] = columns[def.column];
        }
        adoption = { sysId: existing.sys_id, original };
        record =
          Object.keys(changes).length > 0
            ? await ctx.client.update(spec.table, existing.sys_id, changes, { fields: ["sys_id", ...ownedColumns(spec)] })
            : existing;
      } else {
        const prep: PreparedCreate = spec.hooks?.prepareCreate
          ? await spec.hooks.prepareCreate(ctx, inputs, columns)
          : { columns };
        prepared = prep.outputs ?? {};
        record = await ctx.client.create(spec.table, prep.columns, {
          fields: ["sys_id", ...ownedColumns(spec)],
          inputDisplayValue: prep.inputDisplayValue,
        });
        assertColumnsExist(spec, columns, record);
      }
      const extra = spec.hooks?.afterWrite ? await spec.hooks.afterWrite(ctx, phase, record, inputs, prepared) : prepared;
      const outs = outputsFrom(spec, ctx, record, inputs, resolved, extra);
      if (adoption) outs.adoption = adoption;
      return { id: record.sys_id, outs };
    },

    async read(id: string, props?: RecordOutputs): Promise<pulumi.dynamic.ReadResult> {
      const ctx = contextFor(spec.typeName);
      const record = await ctx.client.get(spec.table, id, { fields: ["sys_id", ...ownedColumns(spec)] });
      if (!record) return {};
      const olds = (props ?? {}) as RecordOutputs;
      const carried: Record<string, unknown> = {};
      for (const k of carriedProps(spec)) if (olds[k] !== undefined) carried[k] = olds[k];
      for (const k of spec.secretInputs ?? []) if (olds[k] !== undefined) carried[k] = olds[k];
      const outs = outputsFrom(spec, ctx, record, olds as Inputs, olds.resolved ?? {}, carried);
      if (olds.adoption) outs.adoption = olds.adoption;
      return { id, props: outs, inputs: inputsView(spec, outs, olds) };
    },

    async update(id: string, olds: RecordOutputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult> {
      const ctx = contextFor(spec.typeName);
      const { columns, resolved } = await resolveColumns(ctx, spec, news, olds);
      const changes: Record<string, string> = {};
      for (const [, def] of managedFields(spec, news)) {
        if (def.createOnly) continue;
        if (!sameColumnValue(def, columns[def.column], olds.columns?.[def.column] ?? "")) changes[def.column] = columns[def.column];
      }
      let record: SnRecord;
      if (Object.keys(changes).length > 0) {
        record = await ctx.client.update(spec.table, id, changes, { fields: ["sys_id", ...ownedColumns(spec)] });
        assertColumnsExist(spec, changes, record);
      } else {
        record = { ...olds.columns, sys_id: id };
      }
      let adoption = olds.adoption;
      if (adoption) {
        // Remember the original value of any column keywire changes for the first time.
        const original = { ...adoption.original };
        for (const column of Object.keys(changes)) if (!(column in original)) original[column] = olds.columns?.[column] ?? "";
        adoption = { ...adoption, original };
      }
      const carried: Record<string, unknown> = {};
      for (const k of carriedProps(spec)) if (olds[k] !== undefined) carried[k] = olds[k];
      const extra = spec.hooks?.afterWrite ? await spec.hooks.afterWrite(ctx, "update", record, news, carried, olds) : carried;
      const outs = outputsFrom(spec, ctx, record, news, resolved, extra);
      if (adoption) outs.adoption = adoption;
      return { outs };
    },

    async delete(id: string, props: RecordOutputs): Promise<void> {
      const mode = props.onDestroy ?? (props.adoption ? "restore" : "delete");
      if (mode === "retain") return;
      const ctx = contextFor(spec.typeName);
      if (mode === "restore" && props.adoption) {
        if (Object.keys(props.adoption.original).length === 0) return;
        // One PATCH; a record already gone (404) has nothing left to restore.
        try {
          await ctx.client.update(spec.table, id, props.adoption.original, { fields: ["sys_id"] });
        } catch (err) {
          if (isKeywireHttpError(err) && err.status === 404) return;
          throw err;
        }
        return;
      }
      await ctx.client.delete(spec.table, id);
    },
  };
  return provider;
}

/**
 * `inputs` with `extra` laid over it; a property `extra` sets to undefined is
 * removed (the engine's gRPC Struct cannot carry `undefined`, and a stale answer
 * must not survive a new one that has none).
 */
function mergeDefined(inputs: Inputs, extra: Record<string, unknown> | undefined): Inputs {
  if (!extra) return inputs;
  const out: Inputs = { ...inputs };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

function withoutEngineInputs(inputs: Inputs): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) {
    if (k === "adopt" || k === "onDestroy" || k === "adoptionPreview" || k === "__provider") continue;
    rest[k] = v;
  }
  return rest;
}
