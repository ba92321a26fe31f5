/**
 * The engine's `check`: a record's inputs validated before any call (the resource's
 * schema, the engine's own inputs, values that would run as a script in a query, the
 * resource's own rules), then completed with defaults, what the resource derives, and
 * a pending adoption's preview.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as zod from "zod";
import type { ZodType } from "zod";
import { toColumn, withDefaults } from "./columns";
import { inputErrorMap } from "../../core/inputMessages";
import { containsUnknown } from "../../core/unknown";
import { failuresFrom } from "../../core/checkInputs";
import { SCRIPT_MESSAGE, isScriptValue } from "./inputRules";
import type { Runtime } from "./runtime";
import type { Inputs, RecordSpec } from "./spec";
import type { ConnectionArgs } from "../client/connection";
import { previewAdoption } from "./adoption";

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
    adopt: z.union([z.boolean(), z.string().regex(/^[0-9a-f]{32}$/, "must be true or a 32-character lowercase hex sys_id")]).optional(),
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

/** `check` for one resource type; `schema` is its own inputs' schema (`spec.schema`), built once by the caller. */
export async function checkRecord(spec: RecordSpec, runtime: Runtime, schema: ZodType, olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult> {
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
    const preview = await previewAdoption(spec, runtime, inputs).catch(() => undefined);
    if (preview) inputs.adoptionPreview = preview;
  } else if (inputs.adopt && olds.adoptionPreview !== undefined) {
    inputs.adoptionPreview = olds.adoptionPreview;
  }
  return { inputs };
}

/**
 * `inputs` with `extra` laid over it; a property `extra` sets to undefined is
 * removed (the engine's gRPC Struct cannot carry `undefined`, and a stale answer
 * must not survive a new one that has none).
 */
export function mergeDefined(inputs: Inputs, extra: Record<string, unknown> | undefined): Inputs {
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
