/**
 * Column space: how a resource's properties map to ServiceNow columns, how values
 * are normalised on both sides so that nothing shows false drift, and the record
 * engine's column work (what to write, what to resolve, what to show back).
 *
 * The Table API speaks only strings ("true", "", "2027-01-01 00:00:00"); programs
 * speak booleans, ISO dates and names. Every comparison the record engine makes is
 * done in *column space* (the exact strings the instance stores), and every value
 * shown back to the program is converted to *input space* here, in one place.
 */
import { KeywireError } from "../../core/errors";
import type { SnRecord } from "../client/tableClient";
import { EncodedQuery, q, where } from "../client/encodedQuery";
import type { ServiceNowConnection } from "../client/connection";
import { FieldDef, Inputs, InputValue, RecordOutputs, RecordSpec, ResolvedValue } from "./spec";
import { EngineContext, forgetLookup, lookupOnce } from "./runtime";
import { formatGlideDateTime, parseDateTime } from "./glideDateTime";

export type { FieldDef, InputValue } from "./spec";

const SYS_ID = /^[0-9a-f]{32}$/;

function isSysId(value: unknown): value is string {
  return typeof value === "string" && SYS_ID.test(value);
}

/** Line endings and absent values are the only string differences nobody means. */
function normaliseString(value: string): string {
  return value.replace(/\r\n/g, "\n");
}

/**
 * Input-space value → column-space string, for every kind that needs no lookup.
 * References and lists given by name are resolved by the engine, not here.
 */
export function toColumn(def: FieldDef, value: InputValue): string {
  if (value === undefined || value === null) return def.defaultValue ?? "";
  switch (def.kind) {
    case "boolean":
      if (typeof value === "boolean") return value ? "true" : "false";
      return String(value).toLowerCase() === "true" ? "true" : "false";
    case "integer":
      return String(value).trim();
    case "datetime": {
      if (typeof value !== "string" || value.trim() === "") return "";
      const d = parseDateTime(value);
      return d ? formatGlideDateTime(d) : value;
    }
    case "list":
      return (Array.isArray(value) ? value : String(value).split(","))
        .map((s) => s.trim())
        .filter((s) => s !== "")
        .join(",");
    case "reference":
      return String(value).trim();
    case "string":
      return normaliseString(String(value));
  }
}

/** Column-space string → the value shown to the program. */
export function fromColumn(def: FieldDef, column: string | undefined): string | boolean | string[] {
  const v = column ?? "";
  switch (def.kind) {
    case "boolean":
      return v === "true";
    case "list":
      return v === "" ? [] : v.split(",").map((s) => s.trim());
    default:
      return v;
  }
}

/**
 * Lists are sets in ServiceNow (a glide_list has no meaningful order), so two
 * lists that differ only in order are the same value.
 */
export function sameColumnValue(def: FieldDef, a: string, b: string): boolean {
  if (def.kind === "list") {
    const sa = a
      .split(",")
      .filter((s) => s !== "")
      .sort()
      .join(",");
    const sb = b
      .split(",")
      .filter((s) => s !== "")
      .sort()
      .join(",");
    return sa === sb;
  }
  return a === b;
}

/** Whether an input names records by sys_id already (no lookup needed). */
function needsLookup(def: FieldDef, value: InputValue): boolean {
  if (!def.lookup || value === undefined || value === null || value === "") return false;
  if (def.kind === "reference") return !isSysId(value);
  if (def.kind === "list") {
    const items = Array.isArray(value) ? value : String(value).split(",");
    return items.some((s) => s.trim() !== "" && !isSysId(s.trim()));
  }
  return false;
}

function needsResolution(spec: RecordSpec, prop: string, def: FieldDef, value: InputValue): boolean {
  if (spec.resolvers?.[prop]) return typeof value === "string" && value !== "" && !isSysId(value);
  return needsLookup(def, value);
}

/**
 * Whether the record is keywire's own: one it creates, or one it takes over to
 * delete on destroy (its own chain adopted again after a lost state, a key it
 * parked). Every field of an owned record is managed, an input left out meaning the
 * field's default. Any other adopted record is someone else's (a shipped policy):
 * destroy restores it, and keywire manages only the inputs the program gives.
 */
function ownsRecord(inputs: Inputs): boolean {
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

export function ownedColumns(spec: RecordSpec): string[] {
  return Object.values(spec.fields).map((f) => f.column);
}

/**
 * Column values the inputs ask for, using `resolved` (from a previous run) for
 * names; a name not resolved yet yields `undefined` ("will change, value known
 * after the lookup").
 */
export function desiredColumns(spec: RecordSpec, inputs: Inputs, olds: RecordOutputs): Record<string, string | undefined> {
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
export async function resolveColumns(
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
      const r = await lookupOnce(ctx, `resolve ${prop} ${String(value)}`, () => custom(ctx, String(value)));
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
    const column = def.kind === "reference" ? (ids[0] ?? "") : ids.join(",");
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
export function outputsFrom(
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
    view[prop] = r && sameColumnValue(def, r.column, live) ? r.input : (r?.aliases?.[live] ?? fromColumn(def, live));
  }
  const out: RecordOutputs = {
    ...extra,
    ...view,
    sysId: record.sys_id,
    columns,
    resolved,
    recordUrl: recordUrl(ctx.connection, spec.table, record.sys_id),
  };
  // The connection is carried so refresh and destroy reach the same instance; it
  // stays secret in the state because its input was (the engine copies secretness).
  for (const key of ["adopt", "onDestroy", "identity", "connection"] as const) {
    if (inputs[key] !== undefined) out[key] = inputs[key];
  }
  // The engine's gRPC Struct cannot carry `undefined` (an optional input the
  // program left out, carried by a hook): leave such properties out.
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/**
 * Outputs read carries from the old outputs as they were (and update, unless the
 * resource's afterWrite sets them anew): values the instance does not hold (a key's
 * token, its rotation settings), which the diff compares against the next inputs.
 */
export function carriedProps(spec: RecordSpec): string[] {
  return [...(spec.carriedOutputs ?? []), ...(spec.carriedInputs ?? [])];
}

/** Link to the record in the instance UI (for people, never parsed). */
export function recordUrl(connection: ServiceNowConnection, table: string, sysId: string): string {
  return `${connection.instanceUrl}/nav_to.do?uri=${encodeURIComponent(`${table}.do?sys_id=${sysId}`)}`;
}
