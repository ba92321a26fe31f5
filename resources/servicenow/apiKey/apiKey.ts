/**
 * ApiKey: a REST API key (`api_key`) and its token.
 *
 * The record is managed like any other (see recordEngine.ts); what differs is the
 * token. It is obtained once, at creation, by the strategy in tokenAcquisition.ts,
 * proven by a probe, and kept as a secret output. A refresh cannot read it back,
 * so it is carried; ApiKeyVerification proves it again on every refresh.
 *
 * Rotation: a key can carry a maximum age and/or a number of days before expiry
 * at which it is due, and an explicit trigger. A due rotation raises the key's
 * generation in check, so `pulumi preview` shows a replacement; the replacement is
 * a new record under its own sys_id, named `<name> #<generation>` so people can
 * tell it from the key it replaces, and it is created and proven before the old
 * key is deleted, so consumers such as the SNS subscription move first.
 *
 * No unproven key stays active: when a new key's token cannot be proven, the key
 * is deactivated (the manual route: a person copies its token) or deleted (the
 * probe's answer proved nothing) before the error surfaces.
 */
import * as pulumi from "@pulumi/pulumi";
import { formatGlideDateTime, parseDateTime } from "../engine/columns";
import { q } from "../client/encodedQuery";
import { AdoptionInputs, Inputs, RecordOutputs, RecordSpec, SERVICENOW_MODULE, withSecretConnection } from "../engine/spec";
import { EngineContext, lookupOnce } from "../engine/runtime";
import { recordProvider } from "../engine/recordEngine";
import { recordUrl } from "../engine/columns";
import { providerHome } from "../../core/providerReference";
import { DEFAULT_PROBE, ProbeSettings } from "./probe";
import {
  DEFAULT_TOKEN_CONFIG_KEY,
  TokenStrategy,
  acquireToken,
  generateToken,
  generatesToken,
  tokenFailureOf,
} from "./tokenPlan";
import { KeywireError, isKeywireError } from "../../core/errors";
import { RotationSettings, rotationProblems } from "./rotation";
import { ApiKeyInputs, apiKeyInputSchema } from "./inputs";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Why a key is due for rotation at `now`, or undefined. Pure, so preview can show it without a call. */
export function rotationDue(olds: RecordOutputs, rotation: RotationSettings | undefined, now: Date): string | undefined {
  const created = typeof olds.createdAt === "string" ? parseDateTime(olds.createdAt) : undefined;
  const expires = olds.columns?.expires ? parseDateTime(olds.columns.expires) : undefined;
  return dueReason(created, expires, rotation, now);
}

function dueReason(issued: Date | undefined, expires: Date | undefined, rotation: RotationSettings | undefined, now: Date): string | undefined {
  if (!rotation) return undefined;
  if (rotation.maxAgeDays !== undefined && issued && now.getTime() - issued.getTime() >= rotation.maxAgeDays * DAY_MS) {
    return `older than ${rotation.maxAgeDays} days`;
  }
  if (rotation.rotateBeforeExpiryDays !== undefined && expires && expires.getTime() - now.getTime() <= rotation.rotateBeforeExpiryDays * DAY_MS) {
    return `expires within ${rotation.rotateBeforeExpiryDays} days`;
  }
  return undefined;
}

/** The record's name: the program's name, with the generation from the first rotation on. */
export function keyRecordName(name: string, generation: number | undefined): string {
  return generation !== undefined && generation > 1 ? `${name} #${generation}` : name;
}

/**
 * The key's generation and when it was issued, derived in check from the old
 * inputs: a changed trigger or a due rotation starts the next generation. Pure.
 */
export function keyGeneration(olds: Inputs, news: Inputs, now: Date): { generation: number; issuedAt: string } {
  const previous = typeof olds.generation === "number" ? olds.generation : undefined;
  const issuedAt = typeof olds.issuedAt === "string" ? olds.issuedAt : undefined;
  const fresh = formatGlideDateTime(now);
  if (previous === undefined || issuedAt === undefined) return { generation: previous ?? 1, issuedAt: issuedAt ?? fresh };
  const rotation = news.rotation as RotationSettings | undefined;
  const oldRotation = olds.rotation as RotationSettings | undefined;
  const triggered = rotation?.trigger !== undefined && rotation.trigger !== oldRotation?.trigger;
  const issued = parseDateTime(issuedAt);
  const expires =
    typeof news.expires === "string" && news.expires !== ""
      ? parseDateTime(news.expires)
      : typeof news.expiresInDays === "number" && issued
        ? new Date(issued.getTime() + news.expiresInDays * DAY_MS)
        : undefined;
  if (triggered || dueReason(issued, expires, rotation, now)) return { generation: previous + 1, issuedAt: fresh };
  return { generation: previous, issuedAt };
}

function probeOf(inputs: Inputs): ProbeSettings {
  const p = inputs.probe as Partial<ProbeSettings> | undefined;
  return { path: p?.path ?? DEFAULT_PROBE.path, via: p?.via ?? DEFAULT_PROBE.via };
}

function tokenConfigKeyOf(inputs: Inputs): string {
  return typeof inputs.tokenConfigKey === "string" ? inputs.tokenConfigKey : DEFAULT_TOKEN_CONFIG_KEY;
}

/** The expiry to write: an explicit date, or issue time + expiresInDays (kept stable across runs). */
function expiryColumn(inputs: Inputs, olds: RecordOutputs | undefined, now: Date): string | undefined {
  if (typeof inputs.expiresInDays !== "number") return undefined;
  if (olds && olds.expiresInDays === inputs.expiresInDays && typeof olds.expiresAt === "string") return olds.expiresAt;
  const issued = typeof inputs.issuedAt === "string" ? parseDateTime(inputs.issuedAt) : undefined;
  return formatGlideDateTime(new Date((issued ?? now).getTime() + inputs.expiresInDays * DAY_MS));
}

/**
 * Takes a key whose token is not proven out of service: `park` deactivates it
 * (a person will copy its token from the form), `delete` removes it (nothing will
 * ever prove it). Each falls back to the other. Returns a sentence for the error.
 */
async function retireUnprovenKey(ctx: EngineContext, sysId: string, name: string, first: "park" | "delete"): Promise<string> {
  const park = async (): Promise<string> => {
    await ctx.client.update("api_key", sysId, { active: "false" }, { fields: ["sys_id"] });
    // A later create in this process must see it, as if it had asked the instance.
    (await parkedKeys(ctx).catch(() => undefined))?.push({ sys_id: sysId, name });
    return `keywire deactivated the key (sys_id ${sysId}) until its token is proven`;
  };
  const remove = async (): Promise<string> => {
    await ctx.client.delete("api_key", sysId);
    return `keywire deleted the new key (sys_id ${sysId}) so that no unproven key stays active`;
  };
  const [a, b] = first === "park" ? [park, remove] : [remove, park];
  try {
    return await a();
  } catch {
    try {
      return await b();
    } catch {
      return `keywire could neither deactivate nor delete the key (sys_id ${sysId}): deactivate it by hand`;
    }
  }
}

/** The same error with what happened to the key said first. */
function withKeyFate(err: unknown, fate: string): unknown {
  if (!isKeywireError(err)) return err;
  const rebuilt = new KeywireError({
    platform: err.platform,
    operation: err.operation,
    ...(err.table !== undefined ? { table: err.table } : {}),
    ...(err.status !== undefined ? { status: err.status } : {}),
    reason: err.reason,
    hint: `${fate}. ${err.hint}`,
  });
  const kind = tokenFailureOf(err);
  if (kind) Object.defineProperty(rebuilt, "tokenFailure", { value: kind, enumerable: false });
  return rebuilt;
}

/** Above this many inactive keys, the parked-key check asks per key rather than keeping a list. */
const PARKED_LIST_LIMIT = 1000;

/**
 * The instance's inactive keys (sys_id and name), listed once per provider
 * process for every create's parked-key check, instead of one GET per key; or
 * undefined when there are too many to keep, and each create asks for its own.
 */
function parkedKeys(ctx: EngineContext): Promise<Array<{ sys_id: string; name: string }> | undefined> {
  return lookupOnce(ctx, "api_key parked", async () => {
    const rows = await ctx.client.list("api_key", {
      query: q().eq("active", "false").build(),
      fields: ["sys_id", "name"],
      limit: PARKED_LIST_LIMIT,
    });
    return rows.length < PARKED_LIST_LIMIT ? rows.map((r) => ({ sys_id: r.sys_id, name: r.name ?? "" })) : undefined;
  });
}

/** A parked (inactive) key with this exact name, if any. */
async function findParked(ctx: EngineContext, name: string): Promise<{ sys_id: string } | undefined> {
  const known = await parkedKeys(ctx);
  if (known) {
    const i = known.findIndex((k) => k.name === name);
    // Adopting a parked key re-activates it: forget it here so this process does
    // not find it parked again.
    return i === -1 ? undefined : known[i];
  }
  const rows = await ctx.client.list("api_key", {
    query: q().eq("name", name).and().eq("active", "false").build(),
    fields: ["sys_id"],
    limit: 1,
  });
  return rows[0] ? { sys_id: rows[0].sys_id } : undefined;
}

/** The key's settings the instance does not hold, carried through every read (and known to the drift report). */
export const API_KEY_CARRIED_INPUTS = ["expiresInDays", "rotation", "probe", "tokenStrategy", "tokenConfigKey", "generation", "issuedAt"];

const spec: RecordSpec = {
  typeName: "ApiKey",
  table: "api_key",
  fields: {
    name: { column: "name", kind: "string" },
    description: { column: "description", kind: "string" },
    active: { column: "active", kind: "boolean", defaultValue: "true" },
    user: { column: "user", kind: "reference", lookup: { table: "sys_user", by: "user_name" } },
    expires: { column: "expires", kind: "datetime" },
    authScopes: { column: "auth_scope", kind: "list", lookup: { table: "sys_auth_scope", by: "name" } },
  },
  naturalKey: ["name"],
  secretInputs: ["token"],
  carriedOutputs: ["token", "tokenSource", "createdAt", "expiresAt"],
  carriedInputs: API_KEY_CARRIED_INPUTS,
  schema: apiKeyInputSchema,
  hooks: {
    validate(inputs) {
      const failures = [];
      if (inputs.expires && inputs.expiresInDays !== undefined) {
        failures.push({ property: "expiresInDays", reason: "ApiKey.expiresInDays: give either expires or expiresInDays, not both" });
      }
      if (inputs.active === false && !inputs.token) {
        failures.push({
          property: "active",
          reason: "ApiKey.active: a key created inactive cannot have its token proven; create it active",
        });
      }
      // A key due for rotation when it is made would be replaced on every update.
      // The schema has passed by now, so these inputs have the types it checked.
      const key = {
        expiresInDays: inputs.expiresInDays as number | undefined,
        expires: inputs.expires as string | undefined,
        rotation: inputs.rotation as RotationSettings | undefined,
      };
      for (const p of rotationProblems(key, new Date())) {
        const property = p.path.join(".");
        failures.push({ property, reason: `ApiKey.${property}: ${p.message}` });
      }
      return failures;
    },

    derivedInputs(olds, news, now) {
      return keyGeneration(olds, news, now);
    },

    columnOverrides(inputs, olds): Record<string, string> {
      const out: Record<string, string> = {};
      if (typeof inputs.name === "string") out.name = keyRecordName(inputs.name, inputs.generation as number | undefined);
      const expires = expiryColumn(inputs, olds, new Date());
      if (expires !== undefined) out.expires = expires;
      return out;
    },

    /**
     * With an operator's token, the key to take over is the one an earlier run parked
     * (inactive, same name) for its token; with none parked, a new key is created —
     * never the active key of the same name that a rotation is replacing.
     */
    async implicitAdoption(ctx: EngineContext, inputs, columns) {
      if (typeof inputs.token !== "string" || inputs.token === "") return undefined;
      const parked = await findParked(ctx, columns.name);
      if (!parked) return undefined;
      const rec = await ctx.client.get("api_key", parked.sys_id, { fields: ["sys_id", "name", "description", "active", "user", "expires", "auth_scope"] });
      if (rec?.active !== "false") return undefined;
      // Taken over now, and re-activated: no longer parked for this process.
      const known = await parkedKeys(ctx);
      const at = known ? known.findIndex((k) => k.sys_id === rec.sys_id) : -1;
      if (known && at !== -1) known.splice(at, 1);
      return rec;
    },

    async prepareCreate(ctx: EngineContext, inputs, columns) {
      // An inactive key with this name is most likely the one a previous run created
      // and parked (deactivated) when it stopped for the manual token step: never
      // make a second one. Active keys of the same name are left alone, so a rotation
      // can create the new key while the old one still serves.
      const parked = await findParked(ctx, columns.name);
      if (parked) {
        const url = recordUrl(ctx.connection, "api_key", parked.sys_id);
        throw new KeywireError({
          platform: "servicenow",
          operation: `create api_key "${columns.name}"`,
          table: "api_key",
          reason: `an inactive key with this name already exists (${parked.sys_id}), most likely parked by a run that stopped for its token`,
          hint:
            `Copy its token from ${url} and run \`pulumi config set --secret ${tokenConfigKeyOf(inputs)}\` (it reads the token from standard input), then \`pulumi up\`: ` +
            "keywire adopts it, activates it and proves the token. Or delete that record, or give the new key another name.",
        });
      }
      const strategy = (inputs.tokenStrategy as TokenStrategy | undefined) ?? "auto";
      const now = formatGlideDateTime(new Date());
      if (generatesToken(strategy)) {
        const generated = generateToken();
        return {
          columns: { ...columns, token: generated },
          inputDisplayValue: true,
          outputs: { generatedToken: generated, createdAt: now },
        };
      }
      return { columns, outputs: { createdAt: now } };
    },

    async afterWrite(ctx, phase, record, inputs, prepared, olds) {
      const carried: Record<string, unknown> = {
        createdAt: prepared.createdAt ?? olds?.createdAt ?? formatGlideDateTime(new Date()),
        expiresAt: record.expires ?? "",
        expiresInDays: inputs.expiresInDays,
        rotation: inputs.rotation,
        probe: inputs.probe,
        tokenStrategy: inputs.tokenStrategy,
        tokenConfigKey: inputs.tokenConfigKey,
        generation: inputs.generation,
        issuedAt: inputs.issuedAt,
      };
      // An operator's token is proof for a record that already existed (adopted) or a
      // new token for this one (update); a freshly created key never takes it, since
      // it may be the token of the key this one replaces.
      const operatorToken =
        phase !== "create" && typeof inputs.token === "string" && inputs.token !== "" ? inputs.token : undefined;
      if (phase === "update" && olds && (operatorToken === undefined || operatorToken === olds.token)) {
        return { ...carried, token: olds.token, tokenSource: olds.tokenSource };
      }
      try {
        const acquired = await acquireToken(ctx, {
          strategy: (inputs.tokenStrategy as TokenStrategy | undefined) ?? "auto",
          operatorToken,
          generatedToken: typeof prepared.generatedToken === "string" ? prepared.generatedToken : undefined,
          keySysId: record.sys_id,
          keyName: record.name || String(inputs.name),
          recordUrl: recordUrl(ctx.connection, "api_key", record.sys_id),
          tokenConfigKey: tokenConfigKeyOf(inputs),
          probe: probeOf(inputs),
        });
        return { ...carried, token: acquired.token, tokenSource: acquired.source };
      } catch (err) {
        // A key this run made, or the parked key it just re-activated, must not stay
        // active unproven: park it when a person will copy its token, else delete it.
        // An update's key keeps serving with its proven token; an explicitly adopted
        // key is someone else's to handle.
        const ours = phase === "create" || (phase === "adopt" && !inputs.adopt);
        if (!ours) throw err;
        const kind = tokenFailureOf(err);
        const first = kind === "manual" || kind === "refused-operator" || phase === "adopt" ? "park" : "delete";
        throw withKeyFate(err, await retireUnprovenKey(ctx, record.sys_id, record.name || String(inputs.name), first));
      }
    },

    diffExtra(olds, news) {
      const changed: string[] = [];
      const replaces: string[] = [];
      const operatorToken = typeof news.token === "string" && news.token !== "" ? news.token : undefined;
      if (operatorToken !== undefined && operatorToken !== olds.token) changed.push("token");
      const rotation = news.rotation as RotationSettings | undefined;
      const oldRotation = olds.rotation as RotationSettings | undefined;
      // The generation check derived (a trigger or a due rotation), or a due rotation
      // of a key whose state predates generations.
      if (news.generation !== undefined && olds.generation !== undefined && news.generation !== olds.generation) replaces.push("generation");
      else if (rotation?.trigger !== undefined && rotation.trigger !== oldRotation?.trigger) replaces.push("rotation");
      else if (olds.generation === undefined && rotationDue(olds, rotation, new Date())) replaces.push("rotation");
      if ((news.expiresInDays ?? undefined) !== (olds.expiresInDays ?? undefined)) changed.push("expiresInDays");
      return { changed, replaces };
    },
  },
};

export const apiKeyProvider = recordProvider(spec, providerHome(__filename, "apiKeyProvider"));

/** The ApiKey resource's arguments: its input schema's fields, each a Pulumi input. */
export type ApiKeyArgs = AdoptionInputs & { [K in keyof ApiKeyInputs]: pulumi.Input<ApiKeyInputs[K]> };

export class ApiKey extends pulumi.dynamic.Resource {
  declare readonly sysId: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly active: pulumi.Output<boolean>;
  declare readonly user: pulumi.Output<string>;
  declare readonly expires: pulumi.Output<string>;
  /** The token, proven by a probe. Secret. */
  declare readonly token: pulumi.Output<string>;
  /** How the token was obtained: `operator`, `input_display_value` or `display_value`. */
  declare readonly tokenSource: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;
  declare readonly recordUrl: pulumi.Output<string>;

  constructor(name: string, args: ApiKeyArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      sysId: undefined,
      tokenSource: undefined,
      createdAt: undefined,
      recordUrl: undefined,
      ...withSecretConnection(args),
      // The token is secret whether or not the caller marked it so.
      token: args.token === undefined ? undefined : pulumi.secret(args.token),
      // An operator-supplied token means the record exists: adopt it (keywire made it
      // or a person did) unless the program says which record to take.
      // A key taken over with an operator's token is keywire's own (parked by an earlier run).
      onDestroy: args.onDestroy ?? (args.token === undefined ? undefined : "delete"),
    };
    super(
      apiKeyProvider,
      name,
      props,
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      SERVICENOW_MODULE,
      "ApiKey",
    );
  }
}
