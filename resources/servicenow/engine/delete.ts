/**
 * The engine's `delete`: what `onDestroy` says, by default deleting a record keywire
 * created (one DELETE; a record already gone counts as deleted) and restoring an adopted
 * one to its columns as they were before keywire changed them.
 */
import { isKeywireHttpError } from "../../core/errors";
import type { Runtime } from "./runtime";
import type { RecordOutputs, RecordSpec } from "./spec";
import type { ConnectionArgs } from "../client/connection";

export async function deleteRecord(spec: RecordSpec, runtime: Runtime, id: string, props: RecordOutputs): Promise<void> {
  const mode = props.onDestroy ?? (props.adoption ? "restore" : "delete");
  if (mode === "retain") return;
  const ctx = runtime.context(props.connection as ConnectionArgs | undefined);
  if (mode === "restore" && props.adoption) {
    const values = spec.hooks?.restoreColumns ? await spec.hooks.restoreColumns(ctx, props) : props.adoption.original;
    if (!values || Object.keys(values).length === 0) return;
    // One PATCH; a record already gone (404) has nothing left to restore.
    try {
      await ctx.client.update(spec.table, id, values, { fields: ["sys_id"] });
    } catch (err) {
      if (isKeywireHttpError(err) && err.status === 404) return;
      throw err;
    }
    return;
  }
  await ctx.client.delete(spec.table, id);
}
