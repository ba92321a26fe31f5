/**
 * A program key's generations on the instance: the records named `<name>` and
 * `<name> #n`, listed once per provider process for every key about to be created,
 * from which a new key's generation is counted and the key an earlier run parked for
 * its token is found. Records of another stack or a person with the same name do not
 * count for a resource with an identity: its own keys are known by their sys_ids
 * (engine/createIdentity.ts).
 */
import { recordUrl } from "../engine/columns";
import { q } from "../client/encodedQuery";
import type { Inputs } from "../engine/spec";
import { keySysIds } from "../engine/createIdentity";
import { EngineContext, lookupOnce } from "../engine/runtime";
import { generationOfRecord, keyRecordName } from "./recordName";

/** A key that an earlier run parked for its token, as check shows it in the preview (`parkedKey`). */
export interface ParkedKey {
  sysId: string;
  /** The record's name, with its generation. */
  name: string;
  recordUrl: string;
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
export function knownKeys(ctx: EngineContext): Promise<KeyRow[] | undefined> {
  return lookupOnce(ctx, "api_key names", async () => {
    const rows = await ctx.client.list("api_key", { fields: ["sys_id", "name", "active"], limit: KEY_LIST_LIMIT });
    return rows.length < KEY_LIST_LIMIT ? rows.map((r) => ({ sys_id: r.sys_id, name: r.name ?? "", active: r.active ?? "" })) : undefined;
  });
}

/** What this process did to a key (`row` undefined: deleted), so its later creates see the instance as it is now. */
export async function noteKey(ctx: EngineContext, sysId: string, row: KeyRow | undefined): Promise<void> {
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
export function ownKeySysIds(ctx: EngineContext, inputs: Inputs, generation: number): string[] | undefined {
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
export async function creationOf(ctx: EngineContext, inputs: Inputs, derived: number): Promise<{ generation: number; parkedKey?: ParkedKey }> {
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
export function derivedGenerations(ctx: EngineContext): Promise<Map<string, number>> {
  return lookupOnce(ctx, "api_key generations", async () => new Map<string, number>());
}
