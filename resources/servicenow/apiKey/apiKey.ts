/**
 * ApiKey: a REST API key (`api_key`) and its token.
 *
 * The record is managed like any other (see recordEngine.ts); what differs is the
 * token. It is obtained once, at creation, by the strategy in tokenPlan.ts,
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
import { recordUrl } from "../engine/columns";
import { formatGlideDateTime, parseDateTime } from "../engine/glideDateTime";
import { q } from "../client/encodedQuery";
import type { Inputs, RecordOutputs } from "../engine/spec";
import { RecordArgs, defineRecord } from "../engine/declaration";
import { KEY_ATTEMPTS, keySysIds } from "../engine/createIdentity";
import { createHash } from "crypto";
import { EngineContext, lookupOnce } from "../engine/runtime";
import { recordProvider } from "../engine/recordEngine";
import { ownedRecordInputs, recordResource } from "../engine/recordResource";
import { providerReference } from "../../core/providerLoading/providerReference";
import { DEFAULT_PROBE, ProbeSettings, probeToken } from "./probe";
import { generationOfRecord, keyRecordName } from "./recordName";
import type { TokenStrategy } from "./tokenStrategies";
import {
  DEFAULT_TOKEN_CONFIG_KEY,
  acquireToken,
  generateToken,
  generatesToken,
  tokenFailureOf,
} from "./tokenPlan";
import { KeywireError, isKeywireError } from "../../core/errors";
import { RotationSettings, rotationProblems } from "./rotation";
import { API_KEY_DERIVED_INPUTS, apiKeyInputs } from "./inputs";

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

/** A key that an earlier run parked for its token, as check shows it in the preview (`parkedKey`). */
export interface ParkedKey {
  sysId: string;
  /** The record's name, with its generation. */
  name: string;
  recordUrl: string;
}

/**
 * Whether these inputs start a new generation of a key already in the state (a
 * rotation: a changed trigger or a due age or expiry). Pure. Old inputs without a
 * generation (a key not in the state, or a state from before generations) start none
 * here; diff decides a rotation of the latter from its outputs.
 */
export function rotationStarts(olds: Inputs, news: Inputs, now: Date): boolean {
  if (typeof olds.generation !== "number") return false;
  return keyGeneration(olds, news, now).generation !== olds.generation;
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
    await noteKey(ctx, sysId, { sys_id: sysId, name, active: "false" });
    return `keywire deactivated the key (sys_id ${sysId}) until its token is proven`;
  };
  const remove = async (): Promise<string> => {
    await ctx.client.delete("api_key", sysId);
    await noteKey(ctx, sysId, undefined);
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

/** Above this many keys on the instance, each key's family is asked for on its own rather than kept in a list. */
const KEY_LIST_LIMIT = 1000;
/** The most records one family query returns: far more generations than a key lives through. */
const FAMILY_LIMIT = 200;

interface KeyRow {
  sys_id: string;
  name: string;
  active: string;
}

/**
 * The instance's keys (sys_id, name, active), listed once per provider process for
 * every key about to be created, instead of one GET per key; or undefined when
 * there are too many to keep, and each key asks for its own family.
 */
function knownKeys(ctx: EngineContext): Promise<KeyRow[] | undefined> {
  return lookupOnce(ctx, "api_key names", async () => {
    const rows = await ctx.client.list("api_key", { fields: ["sys_id", "name", "active"], limit: KEY_LIST_LIMIT });
    return rows.length < KEY_LIST_LIMIT ? rows.map((r) => ({ sys_id: r.sys_id, name: r.name ?? "", active: r.active ?? "" })) : undefined;
  });
}

/** What this process did to a key (`row` undefined: deleted), so its later creates see the instance as it is now. */
async function noteKey(ctx: EngineContext, sysId: string, row: KeyRow | undefined): Promise<void> {
  const known = await knownKeys(ctx).catch(() => undefined);
  if (!known) return;
  const at = known.findIndex((k) => k.sys_id === sysId);
  if (at !== -1) known.splice(at, 1);
  if (row) known.push(row);
}

interface FamilyKey {
  sysId: string;
  name: string;
  active: boolean;
  generation: number;
}

/** The keys named `<name>` or `<name> #n` on the instance: the generations of one program key. */
async function keyFamily(ctx: EngineContext, name: string): Promise<FamilyKey[]> {
  const rows =
    (await knownKeys(ctx)) ??
    (await ctx.client.list("api_key", { query: q().startsWith("name", name).build(), fields: ["sys_id", "name", "active"], limit: FAMILY_LIMIT }));
  const family: FamilyKey[] = [];
  for (const r of rows) {
    const generation = generationOfRecord(name, r.name ?? "");
    if (generation !== undefined) family.push({ sysId: r.sys_id, name: r.name ?? "", active: r.active === "true", generation });
  }
  return family;
}

/**
 * The sys_ids a key of this resource and generation is created under (see
 * engine/createIdentity.ts), or undefined without an identity (a program from before
 * it), where keys are told apart by name as before.
 */
function ownKeySysIds(ctx: EngineContext, inputs: Inputs, generation: number): string[] | undefined {
  return typeof inputs.identity === "string" ? keySysIds(inputs.identity, ctx.connection.instanceUrl, String(inputs.name), generation) : undefined;
}

/** Whether `key` is one this resource created (or began to), by its sys_id. */
function isOwnKey(ctx: EngineContext, inputs: Inputs, key: FamilyKey): boolean {
  return ownKeySysIds(ctx, inputs, key.generation)?.includes(key.sysId) ?? false;
}

/**
 * The generation a key about to be created gets, and the parked key it would take
 * over. The engine checks a replacement a second time without its old inputs, so
 * the generation derived from them cannot name the new record alone: the instance
 * can, since the key being replaced is still there. A new key is one generation
 * past the newest active key of this resource (of its name, for a resource without an
 * identity); an adopted one keeps the generation of the record it takes over (by
 * sys_id), or of the newest active one (by name).
 */
async function creationOf(ctx: EngineContext, inputs: Inputs, derived: number): Promise<{ generation: number; parkedKey?: ParkedKey }> {
  const name = String(inputs.name);
  const family = await keyFamily(ctx, name);
  const owned = typeof inputs.identity === "string";
  let generation: number;
  if (inputs.adopt) {
    // The key to take over is the one in service: the newest active one of its name.
    const named = typeof inputs.adopt === "string" ? family.find((k) => k.sysId === inputs.adopt) : undefined;
    const newestInService = Math.max(0, ...family.filter((k) => k.active).map((k) => k.generation));
    generation = named?.generation ?? (typeof inputs.adopt === "string" ? 1 : Math.max(1, newestInService));
    return { generation };
  }
  // With an identity, only this resource's own keys count: another stack's or a person's
  // active key of the same name would move this key to another record name, where the key
  // this resource parked for its token is no longer found. A key of this resource at or past
  // the generation to make is a create a killed run left behind, not a generation in
  // service: it does not push the count on either.
  const counted = family.filter((k) => k.active && (!owned || (k.generation < derived && isOwnKey(ctx, inputs, k))));
  const newestActive = Math.max(0, ...counted.map((k) => k.generation));
  generation = Math.max(derived, newestActive + 1);
  const recordName = keyRecordName(name, generation);
  // With an identity, only this resource's own parked key is taken over: never another
  // stack's or a person's key because it has the same name.
  const parked = family.find((k) => !k.active && k.name === recordName && (!owned || isOwnKey(ctx, inputs, k)));
  return parked
    ? { generation, parkedKey: { sysId: parked.sysId, name: recordName, recordUrl: recordUrl(ctx.connection, "api_key", parked.sysId) } }
    : { generation };
}

/**
 * The generation check derived from a key's old inputs, by the program's key name,
 * for this provider process: the engine checks a replacement a second time without
 * old inputs, in the same process, and creates it from that second answer. Without
 * it, a key deactivated by hand (a revoked token) would leave no active key to count
 * from, and its own name would be taken for the new key's.
 */
function derivedGenerations(ctx: EngineContext): Promise<Map<string, number>> {
  return lookupOnce(ctx, "api_key generations", async () => new Map<string, number>());
}

/**
 * The sys_id this create uses: the first of the resource's own for its generation that
 * no record holds. A record that holds one and is active is a key a killed run made,
 * whose token went with that run: it is deleted (or, failing that, deactivated) so no
 * key nobody holds stays active. An inactive one is a key parked for its token, which
 * check already named (`parkedKey`) and create takes over or stops at.
 */
async function freeKeySysId(ctx: EngineContext, inputs: Inputs): Promise<string | undefined> {
  const generation = typeof inputs.generation === "number" ? inputs.generation : 1;
  const candidates = ownKeySysIds(ctx, inputs, generation);
  if (!candidates) return undefined;
  const known = await knownKeys(ctx);
  const rows = known
    ? known.filter((k) => candidates.includes(k.sys_id))
    : (await ctx.client.list("api_key", { query: q().in("sys_id", candidates).build(), fields: ["sys_id", "name", "active"], limit: KEY_ATTEMPTS })).map((r) => ({
        sys_id: r.sys_id,
        name: r.name ?? "",
        active: r.active ?? "",
      }));
  const held = new Set<string>();
  for (const row of rows) {
    held.add(row.sys_id);
    if (row.active === "true") await retireUnprovenKey(ctx, row.sys_id, row.name, "delete");
  }
  const free = candidates.find((c) => !held.has(c));
  if (free) return free;
  throw new KeywireError({
    platform: "servicenow",
    operation: `create api_key "${String(inputs.name)}"`,
    table: "api_key",
    reason: `all ${KEY_ATTEMPTS} sys_ids of this key's generation ${generation} are held by records earlier runs left`,
    hint: `Delete the inactive api_key records named "${keyRecordName(String(inputs.name), generation)}" that no stack holds (npm run audit lists them), then run pulumi up again.`,
  });
}

/** The operator's token, when the inputs carry one. */
function operatorTokenOf(inputs: Inputs): string | undefined {
  return typeof inputs.token === "string" && inputs.token !== "" ? inputs.token : undefined;
}

/** A one-way mark of a token, to recognise it later without keeping it twice. */
function tokenMark(token: string): string {
  return createHash("sha256").update("keywire retired token\0").update(token).digest("hex");
}

/**
 * Whether the operator's token is one this key knows to belong to a key that was retired
 * (the key it was handed over for, which a rotation replaced). Such a token stays in the
 * configuration until someone removes it; it is ignored, never proven against this key.
 */
function isRetiredToken(olds: RecordOutputs | undefined, token: string | undefined): boolean {
  if (token === undefined || !olds || !Array.isArray(olds.retiredTokens)) return false;
  return (olds.retiredTokens as unknown[]).includes(tokenMark(token));
}

function retiredTokenNote(inputs: Inputs): string {
  const key = tokenConfigKeyOf(inputs);
  return `${key} holds the token of a key that was retired (replaced by a rotation, or deleted), so keywire ignores it. Remove it with \`pulumi config rm ${key}\`.`;
}

export const apiKeyRecord = defineRecord({
  typeName: "ApiKey",
  table: "api_key",
  naturalKey: ["name"],
  inputs: apiKeyInputs,
  // The key chooses its own sys_id (prepareCreate): a key a killed run made holds a token
  // this run cannot read back, so it is retired, not taken over, and the next one is used.
  stableCreate: false,
  carriedOutputs: ["token", "tokenSource", "createdAt", "expiresAt", "retiredTokens", "tokenNote"],
  carriedInputs: API_KEY_DERIVED_INPUTS,
  hooks: {
    validate(inputs, olds) {
      const failures = [];
      // A replacement would be taken over by the same rule: the key being replaced.
      if (inputs.adopt && rotationStarts(olds, inputs, new Date())) {
        failures.push({
          property: "adopt",
          reason:
            "ApiKey.adopt: the key is due for rotation, and a new key cannot be made while the program adopts one; " +
            "remove the adoption once it is done (in a stack: `pulumi config rm keywire:adopt`), then run `pulumi up` again",
        });
      }
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

    /**
     * Only while a record is to be made: a key new to the state, or the next
     * generation of a rotation. `parkedKey` shows in the preview, and the drift
     * report names it with the steps that finish it.
     */
    async creationInputs(ctx, olds, inputs) {
      if (typeof inputs.name !== "string") return undefined;
      const creating = olds.name === undefined;
      const rotating = typeof olds.generation === "number" && inputs.generation !== olds.generation;
      if (!creating && !rotating) return undefined;
      const generations = await derivedGenerations(ctx);
      const own = typeof inputs.generation === "number" ? inputs.generation : 1;
      if (rotating) generations.set(inputs.name, own);
      const { generation, parkedKey } = await creationOf(ctx, inputs, Math.max(own, generations.get(inputs.name) ?? 1));
      return { generation, parkedKey };
    },

    /**
     * An inactive key cannot authenticate, so an operator's token that the instance
     * accepts while the key is still inactive belongs to another, active key: most
     * likely the one a rotation replaces, whose token is still in the configuration.
     * Taking the key over with it would prove nothing about this key, and the
     * replaced key's deletion would then leave the integration with a dead token.
     */
    async beforeAdopt(ctx, inputs, record) {
      const token = operatorTokenOf(inputs);
      if (token === undefined || record.active !== "false") return;
      const verdict = await probeToken(ctx, token, probeOf(inputs));
      if (verdict.outcome === "refused") return;
      const url = recordUrl(ctx.connection, "api_key", record.sys_id);
      const configKey = tokenConfigKeyOf(inputs);
      throw new KeywireError({
        platform: "servicenow",
        operation: `take over the parked api_key "${record.name || String(inputs.name)}"`,
        table: "api_key",
        reason:
          verdict.outcome === "proven"
            ? `the instance accepts the token from ${configKey} while this key is still inactive, so the token is another active key's (most likely the key this one replaces)`
            : `the probe of the token from ${configKey}, made while this key is still inactive, saw ${verdict.seen}, which neither proves nor refuses it`,
        hint:
          verdict.outcome === "proven"
            ? `Copy this key's own token from ${url} and run \`pulumi config set --secret ${configKey}\` (it reads the token from standard input), then \`pulumi up\` again (docs/runbook.md). The key stays parked and the active key keeps serving.`
            : "Run `pulumi up` again once the instance answers normally. The key stays parked and the active key keeps serving.",
      });
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
     * (inactive, same record name, so the same generation) for its token; with none
     * parked, a new key is created — never the active key a rotation is replacing.
     */
    async implicitAdoption(ctx: EngineContext, inputs) {
      const parked = inputs.parkedKey as ParkedKey | undefined;
      if (operatorTokenOf(inputs) === undefined || !parked) return undefined;
      const rec = await ctx.client.get("api_key", parked.sysId, { fields: ["sys_id", "name", "description", "active", "user", "expires", "auth_scope"] });
      return rec?.active === "false" ? rec : undefined;
    },

    async prepareCreate(ctx: EngineContext, inputs, columns) {
      // An inactive key with this name is most likely the one a previous run created
      // and parked (deactivated) when it stopped for the manual token step: never
      // make a second one. Active keys of the same name are left alone, so a rotation
      // can create the new key while the old one still serves.
      const parked = inputs.parkedKey as ParkedKey | undefined;
      if (parked) {
        throw new KeywireError({
          platform: "servicenow",
          operation: `create api_key "${columns.name}"`,
          table: "api_key",
          reason: `an inactive key with this name already exists (${parked.sysId}), most likely parked by a run that stopped for its token`,
          hint:
            `Copy its token from ${parked.recordUrl} and run \`pulumi config set --secret ${tokenConfigKeyOf(inputs)}\` (it reads the token from standard input), then \`pulumi up\`: ` +
            "keywire adopts it, activates it and proves the token (docs/runbook.md). Or delete that record, or give the new key another name.",
        });
      }
      const sysId = await freeKeySysId(ctx, inputs);
      const strategy = (inputs.tokenStrategy as TokenStrategy | undefined) ?? "auto";
      const now = formatGlideDateTime(new Date());
      if (generatesToken(strategy)) {
        const generated = generateToken();
        return {
          columns: { ...columns, token: generated },
          inputDisplayValue: true,
          outputs: { generatedToken: generated, createdAt: now },
          ...(sysId ? { sysId } : {}),
        };
      }
      return { columns, outputs: { createdAt: now }, ...(sysId ? { sysId } : {}) };
    },

    async afterWrite(ctx, phase, record, inputs, prepared, olds) {
      // A later create in this process must see this key as the instance would show it.
      if (phase !== "update") await noteKey(ctx, record.sys_id, { sys_id: record.sys_id, name: record.name ?? "", active: record.active ?? "" });
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
      const given = operatorTokenOf(inputs);
      // A new key made while the configuration holds an operator's token: that token is the
      // replaced key's, and stays marked as retired for this key's later updates.
      const retired = phase === "create" && given !== undefined ? [tokenMark(given)] : phase === "update" ? olds?.retiredTokens ?? [] : [];
      const stale = phase === "create" ? given !== undefined : phase === "update" && isRetiredToken(olds, given);
      Object.assign(carried, { retiredTokens: retired, tokenNote: stale ? retiredTokenNote(inputs) : "" });
      const operatorToken = phase !== "create" && !stale ? given : undefined;
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
      const operatorToken = operatorTokenOf(news);
      if (operatorToken !== undefined && operatorToken !== olds.token && !isRetiredToken(olds, operatorToken)) changed.push("token");
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
});

export const apiKeyProvider = recordProvider(apiKeyRecord, providerReference("keywire/servicenow", "apiKeyProvider"));

/** The ApiKey resource's arguments: its declared inputs, each a Pulumi input. */
export type ApiKeyArgs = RecordArgs<typeof apiKeyRecord>;

export class ApiKey extends recordResource(apiKeyRecord, ["token", "tokenSource", "createdAt", "tokenNote"]) {
  /** The token, proven by a probe. Secret. */
  declare readonly token: pulumi.Output<string>;
  /** How the token was obtained: `operator`, `input_display_value` or `display_value`. */
  declare readonly tokenSource: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;
  /** Set when the configuration holds the token of a retired key, which is ignored: what to remove. */
  declare readonly tokenNote: pulumi.Output<string>;

  constructor(name: string, args: ApiKeyArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...ownedRecordInputs(apiKeyRecord, name, args),
      // The token is secret whether or not the caller marked it so.
      token: args.token === undefined ? undefined : pulumi.secret(args.token),
      // An operator-supplied token means the record exists: adopt it (keywire made it
      // or a person did) unless the program says which record to take.
      // A key taken over with an operator's token is keywire's own (parked by an earlier run).
      onDestroy: args.onDestroy ?? (args.token === undefined ? undefined : "delete"),
    };
    super(apiKeyProvider, name, props, pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token", "retiredTokens"] }));
    this.tokenNote.apply((note) => {
      if (note) pulumi.log.warn(note, this);
    });
  }
}
