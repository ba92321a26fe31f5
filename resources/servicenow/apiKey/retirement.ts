/**
 * No unproven key stays active: a new key whose token cannot be proven is parked
 * (deactivated, when a person will copy its token) or deleted (the probe's answer
 * proved nothing) before the error surfaces, and an active key that a killed run made
 * under one of this resource's sys_ids (its token went with that run) is retired
 * before a new one is created.
 */
import { q } from "../client/encodedQuery";
import type { Inputs } from "../engine/spec";
import { KEY_ATTEMPTS } from "../engine/createIdentity";
import type { EngineContext } from "../engine/runtime";
import { KeywireError, isKeywireError } from "../../core/errors";
import { keyRecordName } from "./recordName";
import { tokenFailureOf } from "./tokenPlan";
import { knownKeys, noteKey, ownKeySysIds } from "./keyFamily";

/**
 * Takes a key whose token is not proven out of service: `park` deactivates it
 * (a person will copy its token from the form), `delete` removes it (nothing will
 * ever prove it). Each falls back to the other. Returns a sentence for the error.
 */
export async function retireUnprovenKey(ctx: EngineContext, sysId: string, name: string, first: "park" | "delete"): Promise<string> {
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
export function withKeyFate(err: unknown, fate: string): unknown {
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

/**
 * The sys_id this create uses: the first of the resource's own for its generation that
 * no record holds. A record that holds one and is active is a key a killed run made,
 * whose token went with that run: it is deleted (or, failing that, deactivated) so no
 * key nobody holds stays active. An inactive one is a key parked for its token, which
 * check already named (`parkedKey`) and create takes over or stops at.
 */
export async function freeKeySysId(ctx: EngineContext, inputs: Inputs): Promise<string | undefined> {
  const generation = typeof inputs.generation === "number" ? inputs.generation : 1;
  const candidates = ownKeySysIds(ctx, inputs, generation);
  if (!candidates) return undefined;
  const known = await knownKeys(ctx);
  const rows = known
    ? known.filter((k) => candidates.includes(k.sys_id))
    : (await ctx.client.list("api_key", { query: q().in("sys_id", candidates).build(), fields: ["sys_id", "name", "active"], limit: KEY_ATTEMPTS })).map(
        (r) => ({
          sys_id: r.sys_id,
          name: r.name ?? "",
          active: r.active ?? "",
        }),
      );
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
