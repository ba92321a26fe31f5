/**
 * Adoption: an existing record taken over instead of created. The record is found by
 * sys_id or by the resource's natural key, shown in the preview with what keywire will
 * change there (check), then brought to the inputs, with every managed column's value
 * kept for destroy to restore (create).
 */
import { managedFields, naturalKeyQuery, ownedColumns, resolveColumns, sameColumnValue } from "./columns";
import type { SnRecord } from "../client/tableClient";
import { KeywireError } from "../../core/errors";
import { EngineContext, Runtime, forgetLookup, lookupOnce } from "./runtime";
import type { AdoptionState, Inputs, RecordSpec } from "./spec";
import type { ConnectionArgs } from "../client/connection";

async function findAdopted(ctx: EngineContext, spec: RecordSpec, inputs: Inputs, columns: Record<string, string>): Promise<SnRecord> {
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
      hint: rows.length === 0 ? "Drop `adopt` to create the record, or fix the name." : 'Adopt by sys_id instead (`adopt: "<sys_id>"`).',
    });
  }
  return rows[0];
}

function adoptionKey(spec: RecordSpec, inputs: Inputs, columns: Record<string, string>): string {
  const which = typeof inputs.adopt === "string" ? inputs.adopt : naturalKeyQuery(spec, columns).toString();
  return `${spec.table} adopt ${which}`;
}

/**
 * The record an adoption will take over and what it will change there, or
 * undefined when a name the record is found by cannot be looked up yet (create
 * looks it up again and says why it fails).
 */
export async function previewAdoption(spec: RecordSpec, runtime: Runtime, inputs: Inputs): Promise<Record<string, unknown> | undefined> {
  const ctx = runtime.context(inputs.connection as ConnectionArgs | undefined);
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
  const existing = await lookupOnce(ctx, adoptionKey(spec, inputs, columns), () => findAdopted(ctx, spec, inputs, columns));
  const changes: Record<string, string> = {};
  for (const [column, value] of Object.entries(wanted)) {
    const def = Object.values(spec.fields).find((f) => f.column === column);
    const have = existing[column] ?? "";
    if (def ? !sameColumnValue(def, value, have) : have !== value) changes[column] = `${JSON.stringify(have)} -> ${JSON.stringify(value)}`;
  }
  return { sysId: existing.sys_id, changes };
}

/**
 * Takes over the record `adopt` names, or `implicit` (the record the resource's own rule
 * found), and brings it to the declared columns: one PATCH, none when nothing differs.
 */
export async function adoptRecord(
  ctx: EngineContext,
  spec: RecordSpec,
  inputs: Inputs,
  columns: Record<string, string>,
  implicit: SnRecord | undefined,
): Promise<{ record: SnRecord; adoption: AdoptionState }> {
  let existing: SnRecord;
  if (implicit) {
    existing = implicit;
  } else {
    // The record as check found it moments ago in this run, if it did; read once either way.
    const key = adoptionKey(spec, inputs, columns);
    existing = await lookupOnce(ctx, key, () => findAdopted(ctx, spec, inputs, columns));
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
  const record =
    Object.keys(changes).length > 0 ? await ctx.client.update(spec.table, existing.sys_id, changes, { fields: ["sys_id", ...ownedColumns(spec)] }) : existing;
  return { record, adoption: { sysId: existing.sys_id, original } };
}
