/**
 * The one generic path for "a record in a ServiceNow table".
 *
 * Every ServiceNow resource in keywire is a {@link RecordSpec}: the table, the
 * owned fields and their kinds, the natural key, and the few hooks where it
 * differs (the API key's token, for instance). This module turns a spec into a
 * Pulumi dynamic provider whose check/diff/create/read/update/delete all follow
 * the same rules:
 *
 * - only owned fields are diffed, in column space (see columns.ts), so server-filled
 *   fields and formatting never show as drift;
 * - read asks for the owned columns only (1 GET) and reports a 404 as gone;
 * - update PATCHes only the columns that differ (1 PATCH, none when nothing does);
 * - delete of a missing record succeeds (1 DELETE);
 * - create is 1 POST under a sys_id the client chooses, so an unknown outcome is
 *   settled by asking for that sys_id (see TableClient.create), never by name;
 * - an existing record can be adopted instead of created, and is restored (not
 *   deleted) on destroy unless told otherwise.
 *
 * The state stores the provider by reference (core/providerLoading/providerReference.ts). Its
 * runtime (runtime.ts) is built from the settings `configure` receives and hands
 * each call a client in its context.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as zod from "zod";
import {
  assertColumnsExist,
  carriedProps,
  desiredColumns,
  managedFields,
  naturalKeyQuery,
  outputsFrom,
  ownedColumns,
  resolveColumns,
  sameColumnValue,
  toColumn,
  withDefaults,
} from "./columns";
import type { SnRecord } from "../client/tableClient";
import { KeywireError, isKeywireHttpError } from "../../core/errors";
import { NamedProvider, ProviderReference, ReferencedProvider, referencedProvider } from "../../core/providerLoading/providerReference";
import { inputErrorMap } from "../../core/inputMessages";
import { containsUnknown } from "../../core/unknown";
import { failuresFrom } from "../../core/checkInputs";
import { SCRIPT_MESSAGE, isScriptValue } from "./inputRules";
import { EngineContext, Runtime, createRuntime, forgetLookup, lookupOnce } from "./runtime";
import { AdoptionState, Inputs, PreparedCreate, RecordOutputs, RecordSpec } from "./spec";
import { stableSysId } from "./createIdentity";
import { refusedAsTaken } from "./ownership";
import { isTakenValue } from "../client/failureHints";
import { q } from "../client/encodedQuery";
import type { ConnectionArgs } from "../client/connection";



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

/** The zod schema of the engine's own inputs, merged into every resource's; built once. */
let engineInputSchema: ReturnType<typeof adoptionSchema> | undefined;

function adoptionSchema(z: typeof import("zod")) {
  return z.object({
    adopt: z
      .union([z.boolean(), z.string().regex(/^[0-9a-f]{32}$/, "must be true or a 32-character lowercase hex sys_id")])
      .optional(),
    onDestroy: z.enum(["delete", "restore", "retain"]).optional(),
    identity: z.string().min(1).max(1024).optional(),
    connection: z
      .object({
        instance: z.string().min(1).max(4096),
        username: z.string().min(1).max(4096),
        password: z.string().min(1).max(4096),
        clientId: z.string().min(1).max(4096),
        clientSecret: z.string().min(1).max(4096),
        requestTimeoutSeconds: z.string().regex(/^\d+(\.\d+)?$/, "must be a number of seconds"),
      })
      .partial()
      .strict()
      .optional(),
  });
}

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
    const existing = await lookupOnce(ctx, adoptionKey(inputs, columns), () => findAdopted(ctx, inputs, columns));
    const changes: Record<string, string> = {};
    for (const [column, value] of Object.entries(wanted)) {
      const def = Object.values(spec.fields).find((f) => f.column === column);
      const have = existing[column] ?? "";
      if (def ? !sameColumnValue(def, value, have) : have !== value) changes[column] = `${JSON.stringify(have)} -> ${JSON.stringify(value)}`;
    }
    return { sysId: existing.sys_id, changes };
  }

  /**
   * One POST under the sys_id the resource chose (an API key) or its identity gives (see
   * createIdentity.ts). When the instance already holds the identity's record (a run that
   * died after the instance committed it), the record is brought to the declared columns.
   * An instance that will not take a chosen sys_id (refused, and no record has it: a
   * deleted record's sys_id it keeps, say) gets one create under a fresh sys_id.
   */
  async function createRecord(ctx: EngineContext, inputs: Inputs, prep: PreparedCreate, columns: Record<string, string>): Promise<SnRecord> {
    const fields = ["sys_id", ...ownedColumns(spec)];
    const options = {
      fields,
      inputDisplayValue: prep.inputDisplayValue,
      fallbackLookup: async (since: string) => {
        const rows = await createdSince(ctx, columns, since);
        return rows.length === 1 ? rows[0] : undefined;
      },
      removeLateTwins: async (keep: string, since: string) => {
        for (const row of await createdSince(ctx, columns, since)) if (row.sys_id !== keep) await ctx.client.delete(spec.table, row.sys_id);
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
      if (!isKeywireHttpError(err) || err.kind !== "http" || err.status === undefined || err.status < 400 || err.status >= 500 || err.status === 401 || err.status === 429) throw err;
      // A unique value another record holds refuses any sys_id alike.
      if (isTakenValue(err.status, err.serverMessage)) throw err;
      return ctx.client.create(spec.table, prep.columns, options);
    }
    if (record.sys_id !== sysId) await sayOnce(ctx, "sys_id ignored", `keywire: ${ctx.connection.instanceUrl} does not keep the sys_id a create sends (${spec.table}); keywire works with the sys_id it answers, and a create whose answer is lost is found by its name, made by this user since the attempt began, instead of by its sys_id (docs/security.md)`);
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
  async function createdSince(ctx: EngineContext, columns: Record<string, string>, since: string): Promise<SnRecord[]> {
    const query = q();
    for (const prop of spec.naturalKey) query.eq(spec.fields[prop].column, columns[spec.fields[prop].column] ?? "");
    if (ctx.connection.username) query.eq("sys_created_by", ctx.connection.username);
    query.cond("sys_created_on", ">", since);
    return ctx.client.list(spec.table, { query: query.build(), fields: ["sys_id", ...ownedColumns(spec)], limit: 10 });
  }

  const provider: NamedProvider = {
    typeName: spec.typeName,

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      // New settings may name another instance: a new runtime, with nothing remembered.
      runtime = createRuntime(req.config);
    },

    async check(olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult> {
      const schema = (ownSchema ??= spec.schema(zod));
      const failures: pulumi.dynamic.CheckFailure[] = [];
      const own = schema.safeParse(withoutEngineInputs(news), { error: inputErrorMap });
      if (!own.success) failures.push(...failuresFrom(own.error, spec.typeName));
      const engine = (engineInputSchema ??= adoptionSchema(zod)).safeParse(
        { adopt: news.adopt, onDestroy: news.onDestroy, identity: news.identity, connection: news.connection },
        { error: inputErrorMap },
      );
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
          inputs = mergeDefined(inputs, await spec.hooks.creationInputs(runtime.context(inputs.connection as ConnectionArgs | undefined), olds, inputs));
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
        // A record that cannot be found is create's to report, once: a check that throws is
        // printed again, with a JavaScript stack, by the SDK's dynamic-provider host.
        const preview = await previewAdoption(inputs).catch(() => undefined);
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
    },

    async create(checked: Inputs): Promise<pulumi.dynamic.CreateResult> {
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
        record = await createRecord(ctx, inputs, prep, columns).catch((err: unknown) => refusedAsTaken(ctx, spec, columns, err));
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
    },

    async read(id: string, props?: RecordOutputs): Promise<pulumi.dynamic.ReadResult> {
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
    },

    async update(id: string, olds: RecordOutputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult> {
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
    },

    async delete(id: string, props: RecordOutputs): Promise<void> {
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
    },
  };
  return provider;
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
    if (k === "adopt" || k === "onDestroy" || k === "identity" || k === "connection" || k === "adoptionPreview" || k === "__provider") continue;
    rest[k] = v;
  }
  return rest;
}

/** Writes a notice once per provider process and instance (the engine shows a provider's stderr). */
async function sayOnce(ctx: EngineContext, key: string, text: string): Promise<void> {
  await lookupOnce(ctx, `notice ${key}`, async () => {
    process.stderr.write(`${text}\n`);
  });
}
