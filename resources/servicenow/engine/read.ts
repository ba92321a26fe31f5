/**
 * The engine's `read` (refresh, import, and the drift check's preview): the owned
 * columns only, in one GET; a record gone (404) is reported as gone.
 */
import type * as pulumi from "@pulumi/pulumi";
import { carriedProps, outputsFrom, ownedColumns } from "./columns";
import type { Runtime } from "./runtime";
import type { Inputs, RecordOutputs, RecordSpec } from "./spec";
import type { ConnectionArgs } from "../client/connection";

export async function readRecord(spec: RecordSpec, runtime: Runtime, id: string, props?: RecordOutputs): Promise<pulumi.dynamic.ReadResult> {
  const ctx = runtime.context(props?.connection as ConnectionArgs | undefined);
  const record = await ctx.client.get(spec.table, id, { fields: ["sys_id", ...ownedColumns(spec)] });
  if (!record) return {};
  const olds = (props ?? {}) as RecordOutputs;
  const carried: Record<string, unknown> = {};
  for (const k of carriedProps(spec)) if (olds[k] !== undefined) carried[k] = olds[k];
  for (const k of spec.secretInputs ?? []) if (olds[k] !== undefined) carried[k] = olds[k];
  const outs = outputsFrom(spec, ctx, record, olds as Inputs, olds.resolved ?? {}, carried);
  if (olds.adoption) outs.adoption = olds.adoption;
  // No inputs: the engine then keeps the stored ones, as the program gave them, so a
  // refresh of an untouched record rewrites nothing. What the instance changed is in
  // these outputs; the diff (and the drift report) holds them against the inputs.
  return { id, props: outs };
}
