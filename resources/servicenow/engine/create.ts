/**
 * The engine's `create`: one POST under a sys_id the client chooses, so an unknown
 * outcome is settled by asking for that sys_id (see TableClient.create), never by name;
 * or the adoption of an existing record (adoption.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import { assertColumnsExist, managedFields, outputsFrom, ownedColumns, resolveColumns, sameColumnValue } from "./columns";
import type { SnRecord } from "../client/tableClient";
import { isKeywireHttpError } from "../../core/errors";
import { EngineContext, Runtime, lookupOnce } from "./runtime";
import type { AdoptionState, Inputs, PreparedCreate, RecordSpec } from "./spec";
import { stableSysId } from "./createIdentity";
import { refusedAsTaken } from "./ownership";
import { isTakenValue } from "../client/failureHints";
import { q } from "../client/encodedQuery";
import type { ConnectionArgs } from "../client/connection";
import { adoptRecord } from "./adoption";
import { mergeDefined } from "./check";

export async function createRecord(spec: RecordSpec, runtime: Runtime, checked: Inputs): Promise<pulumi.dynamic.CreateResult> {
  const ctx = runtime.context(checked.connection as ConnectionArgs | undefined);
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
    ({ record, adoption } = await adoptRecord(ctx, spec, inputs, columns, implicit));
  } else {
    const prep: PreparedCreate = spec.hooks?.prepareCreate ? await spec.hooks.prepareCreate(ctx, inputs, columns) : { columns };
    prepared = prep.outputs ?? {};
    record = await postRecord(ctx, spec, inputs, prep, columns).catch((err: unknown) => refusedAsTaken(ctx, spec, columns, err));
    assertColumnsExist(spec, columns, record);
  }
  const written = spec.hooks?.afterWrite ? await spec.hooks.afterWrite(ctx, phase, record, inputs, prepared) : prepared;
  // Settings the instance does not hold start their life in the outputs too, as read carries them.
  const extra: Record<string, unknown> = {};
  for (const k of spec.carriedInputs ?? []) if (inputs[k] !== undefined) extra[k] = inputs[k];
  Object.assign(extra, written);
  const outs = outputsFrom(spec, ctx, record, inputs, resolved, extra);
  if (adoption) outs.adoption = adoption;
  return { id: record.sys_id, outs };
}

/**
 * One POST under the sys_id the resource chose (an API key) or its identity gives (see
 * createIdentity.ts). When the instance already holds the identity's record (a run that
 * died after the instance committed it), the record is brought to the declared columns.
 * An instance that will not take a chosen sys_id (refused, and no record has it: a
 * deleted record's sys_id it keeps, say) gets one create under a fresh sys_id.
 */
async function postRecord(ctx: EngineContext, spec: RecordSpec, inputs: Inputs, prep: PreparedCreate, columns: Record<string, string>): Promise<SnRecord> {
  const fields = ["sys_id", ...ownedColumns(spec)];
  const options = {
    fields,
    inputDisplayValue: prep.inputDisplayValue,
    fallbackLookup: async (since: string) => {
      const rows = await createdSince(ctx, spec, columns, since);
      return rows.length === 1 ? rows[0] : undefined;
    },
    removeLateTwins: async (keep: string, since: string) => {
      for (const row of await createdSince(ctx, spec, columns, since)) if (row.sys_id !== keep) await ctx.client.delete(spec.table, row.sys_id);
    },
  };
  const identity = spec.stableCreate !== false && typeof inputs.identity === "string" ? inputs.identity : undefined;
  let sysId = prep.sysId;
  if (sysId === undefined && identity !== undefined) {
    const distinguishing: Record<string, string> = { instance: ctx.connection.instanceUrl };
    // The natural key too: two stacks of one name on two backends, with names of their own, stay apart.
    for (const [prop, def] of Object.entries(spec.fields)) {
      if (def.replaceOnChange || spec.naturalKey.includes(prop)) distinguishing[prop] = columns[def.column] ?? "";
    }
    sysId = stableSysId(identity, spec.table, distinguishing);
  }
  if (sysId === undefined) return ctx.client.create(spec.table, prep.columns, options);
  let found = false;
  let record: SnRecord;
  try {
    record = await ctx.client.create(spec.table, prep.columns, {
      ...options,
      sysId,
      onFound: () => (found = true),
    });
  } catch (err) {
    if (
      !isKeywireHttpError(err) ||
      err.kind !== "http" ||
      err.status === undefined ||
      err.status < 400 ||
      err.status >= 500 ||
      err.status === 401 ||
      err.status === 429
    )
      throw err;
    // A unique value another record holds refuses any sys_id alike.
    if (isTakenValue(err.status, err.serverMessage)) throw err;
    return ctx.client.create(spec.table, prep.columns, options);
  }
  if (record.sys_id !== sysId)
    await sayOnce(
      ctx,
      "sys_id ignored",
      `keywire: ${ctx.connection.instanceUrl} does not keep the sys_id a create sends (${spec.table}); keywire works with the sys_id it answers, and a create whose answer is lost is found by its name, made by this user since the attempt began, instead of by its sys_id (docs/security.md)`,
    );
  // A record the resource chose the sys_id of itself is settled by its own hooks.
  if (prep.sysId !== undefined || record.sys_id !== sysId || !found) return record;
  const changes: Record<string, string> = {};
  for (const [, def] of managedFields(spec, inputs)) {
    if (!sameColumnValue(def, columns[def.column], record[def.column] ?? "")) changes[def.column] = columns[def.column];
  }
  return Object.keys(changes).length > 0 ? ctx.client.update(spec.table, sysId, changes, { fields }) : record;
}

/**
 * On an instance that makes its own sys_ids, the records a create whose answer was lost
 * may have made: those with the resource's natural key that the deploying user made since
 * the attempt began. Another stack's or a person's record of that name is older or not theirs.
 */
async function createdSince(ctx: EngineContext, spec: RecordSpec, columns: Record<string, string>, since: string): Promise<SnRecord[]> {
  const query = q();
  for (const prop of spec.naturalKey) query.eq(spec.fields[prop].column, columns[spec.fields[prop].column] ?? "");
  if (ctx.connection.username) query.eq("sys_created_by", ctx.connection.username);
  query.cond("sys_created_on", ">", since);
  return ctx.client.list(spec.table, { query: query.build(), fields: ["sys_id", ...ownedColumns(spec)], limit: 10 });
}

/** Writes a notice once per provider process and instance (the engine shows a provider's stderr). */
async function sayOnce(ctx: EngineContext, key: string, text: string): Promise<void> {
  await lookupOnce(ctx, `notice ${key}`, async () => {
    process.stderr.write(`${text}\n`);
  });
}
