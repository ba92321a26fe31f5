/**
 * The one generic path for "a record in a ServiceNow table".
 *
 * Every ServiceNow resource in keywire is a {@link RecordSpec}: the table, the
 * owned fields and their kinds, the natural key, and the few hooks where it
 * differs (the API key's token, for instance). This module turns a spec into a
 * Pulumi dynamic provider whose check/diff/create/read/update/delete all follow
 * the same rules, one module each:
 *
 * - check validates every input before any call and shows a pending adoption (check.ts);
 * - only owned fields are diffed, in column space (see columns.ts), so server-filled
 *   fields and formatting never show as drift (diff.ts);
 * - read asks for the owned columns only (1 GET) and reports a 404 as gone (read.ts);
 * - update PATCHes only the columns that differ (1 PATCH, none when nothing does; update.ts);
 * - delete of a missing record succeeds (1 DELETE; delete.ts);
 * - create is 1 POST under a sys_id the client chooses, so an unknown outcome is
 *   settled by asking for that sys_id (see TableClient.create), never by name (create.ts);
 * - an existing record can be adopted instead of created, and is restored (not
 *   deleted) on destroy unless told otherwise (adoption.ts).
 *
 * The state stores the provider by reference (core/providerLoading/providerReference.ts). Its
 * runtime (runtime.ts) is built from the settings `configure` receives and hands
 * each call a client in its context.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as zod from "zod";
import { NamedProvider, ProviderReference, ReferencedProvider, referencedProvider } from "../../core/providerLoading/providerReference";
import { Runtime, createRuntime } from "./runtime";
import type { Inputs, RecordOutputs, RecordSpec } from "./spec";
import { checkRecord } from "./check";
import { diffRecord } from "./diff";
import { createRecord } from "./create";
import { readRecord } from "./read";
import { updateRecord } from "./update";
import { deleteRecord } from "./delete";

/**
 * Turns a spec into a dynamic provider, stored in the state as `reference` (the
 * public module and export that hold it; see providerReference.ts).
 */
export function recordProvider(spec: RecordSpec, reference: ProviderReference): ReferencedProvider {
  return referencedProvider(engineProvider(spec), reference);
}

/** The provider that does the work: clients are built per call, never held. */
function engineProvider(spec: RecordSpec): NamedProvider {
  // Until the engine calls configure, the environment alone (as in unit tests of a hook).
  let runtime: Runtime = createRuntime(undefined);
  // Built on the first check, not per call: the engine checks one resource at a time,
  // and building a zod schema (and compiling its parser) cost milliseconds each time.
  let ownSchema: ReturnType<RecordSpec["schema"]> | undefined;

  const provider: NamedProvider = {
    typeName: spec.typeName,

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      // New settings may name another instance: a new runtime, with nothing remembered.
      runtime = createRuntime(req.config);
    },

    async check(olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult> {
      return checkRecord(spec, runtime, (ownSchema ??= spec.schema(zod)), olds, news);
    },

    async diff(_id: string, olds: RecordOutputs, news: Inputs): Promise<pulumi.dynamic.DiffResult> {
      return diffRecord(spec, olds, news);
    },

    async create(checked: Inputs): Promise<pulumi.dynamic.CreateResult> {
      return createRecord(spec, runtime, checked);
    },

    async read(id: string, props?: RecordOutputs): Promise<pulumi.dynamic.ReadResult> {
      return readRecord(spec, runtime, id, props);
    },

    async update(id: string, olds: RecordOutputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult> {
      return updateRecord(spec, runtime, id, olds, news);
    },

    async delete(id: string, props: RecordOutputs): Promise<void> {
      return deleteRecord(spec, runtime, id, props);
    },
  };
  return provider;
}
