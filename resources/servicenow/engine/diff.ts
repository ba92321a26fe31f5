/**
 * The engine's `diff`: owned fields compared in column space (columns.ts), so
 * server-filled fields and formatting never show as drift; what changes in place and
 * what replaces the record.
 */
import type * as pulumi from "@pulumi/pulumi";
import { desiredColumns, managedFields, sameColumnValue } from "./columns";
import { containsUnknown } from "../../core/unknown";
import type { Inputs, RecordOutputs, RecordSpec } from "./spec";
import type { ConnectionArgs } from "../client/connection";

export function diffRecord(spec: RecordSpec, olds: RecordOutputs, news: Inputs): pulumi.dynamic.DiffResult {
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
  // Another instance is another record; new credentials for the same one are stored in place.
  const was = olds.connection as ConnectionArgs | undefined;
  const now = news.connection as ConnectionArgs | undefined;
  if (JSON.stringify(was ?? {}) !== JSON.stringify(now ?? {})) {
    if ((was?.instance ?? "") !== (now?.instance ?? "") && !containsUnknown(now)) replaces.push("connection");
    else changed.push("connection");
  }
  const extra = spec.hooks?.diffExtra?.(olds, news);
  if (extra) {
    changed.push(...extra.changed);
    replaces.push(...extra.replaces);
  }
  return { changes: changed.length > 0 || replaces.length > 0, replaces, deleteBeforeReplace: false };
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
