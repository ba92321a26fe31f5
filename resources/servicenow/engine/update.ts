/**
 * The engine's `update`: one PATCH of the columns that differ from the state, none
 * when nothing does; an adopted record also remembers the original value of each
 * column keywire changes for the first time, for destroy to restore.
 */
import type * as pulumi from "@pulumi/pulumi";
import { assertColumnsExist, carriedProps, managedFields, outputsFrom, ownedColumns, resolveColumns, sameColumnValue } from "./columns";
import type { SnRecord } from "../client/tableClient";
import type { Runtime } from "./runtime";
import type { Inputs, RecordOutputs, RecordSpec } from "./spec";
import type { ConnectionArgs } from "../client/connection";

export async function updateRecord(spec: RecordSpec, runtime: Runtime, id: string, olds: RecordOutputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult> {
  const ctx = runtime.context(news.connection as ConnectionArgs | undefined);
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
}
