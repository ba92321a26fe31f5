/**
 * The sys_id a create sends, from who the record belongs to.
 *
 * Pulumi keeps a create it started but never saw finish as a pending operation with no
 * id, and the next `up` calls create again (pulumi/pulumi#11599). A random sys_id per
 * attempt made that a second record. This one follows from the stack, the resource and
 * what makes the record this record (the values a change of which replaces it, and the
 * instance), so the rerun sends the same sys_id: the instance refuses it as a duplicate,
 * the client finds the record by it (client/tableClient.ts), and the engine brings it to
 * the declared inputs. No other stack, resource or person's record can have it: it is a
 * SHA-256 of that identity, which is the ownership mark a create's record carries.
 *
 * Every such sys_id starts with KEYWIRE_MARK, so a record that collides with a create can be
 * told apart: keywire made it for another identity (another stack), or a person or another
 * tool did (`isKeywireSysId`).
 */
import { createHash } from "crypto";

/** The first characters of every sys_id keywire chooses for a create ("kwr" in hex). */
export const KEYWIRE_MARK = "6b7772";

/** The identity's digest: the part of a sys_id after keywire's mark. */
function identityDigest(identity: string, table: string, distinguishing: Record<string, string>): string {
  const h = createHash("sha256");
  h.update("keywire create\0").update(identity).update("\0").update(table);
  for (const key of Object.keys(distinguishing).sort()) h.update("\0").update(key).update("=").update(distinguishing[key]);
  return h.digest("hex");
}

export function stableSysId(identity: string, table: string, distinguishing: Record<string, string>): string {
  return KEYWIRE_MARK + identityDigest(identity, table, distinguishing).slice(0, 32 - KEYWIRE_MARK.length);
}

/**
 * Whether keywire chose this sys_id for a create (a record of some stack's, or a hold). A
 * random sys_id starts with the mark once in 16.7 million.
 */
export function isKeywireSysId(sysId: string): boolean {
  return /^[0-9a-f]{32}$/.test(sysId) && (sysId.startsWith(KEYWIRE_MARK) || holdBefore(sysId) !== undefined);
}

/** How many sys_ids one generation of an API key may use: one per create a killed run left behind. */
export const KEY_ATTEMPTS = 8;

/**
 * The sys_ids an API key of this identity and generation is created under, in the order
 * they are used: a key a killed run made holds one, so the rerun takes the next.
 */
export function keySysIds(identity: string, instanceUrl: string, name: string, generation: number): string[] {
  const out: string[] = [];
  for (let attempt = 0; attempt < KEY_ATTEMPTS; attempt++) {
    out.push(stableSysId(identity, "api_key", { instance: instanceUrl, name, generation: String(generation), attempt: String(attempt) }));
  }
  return out;
}

/**
 * The sys_id of a "hold": keywire's own Table API policy in dedicated mode, which keeps
 * the shipped Table GET/POST policies inactive while it exists. Every stack recognises
 * another's by the fixed prefix, and the byte after it records whether the shipped
 * policies were active before the first hold (bit 0: GET, bit 1: POST), so the last
 * stack to go restores what the instance had before keywire.
 */
export const HOLD_PREFIX = "6b657977";

export function holdSysId(identity: string, instanceUrl: string, name: string, before: { get: boolean; post: boolean }): string {
  const flags = (before.get ? 1 : 0) | (before.post ? 2 : 0);
  const rest = identityDigest(identity, "sys_api_access_policy", { instance: instanceUrl, name, role: "hold" });
  return `${HOLD_PREFIX}${flags.toString(16).padStart(2, "0")}${rest.slice(0, 22)}`;
}

/** What a hold's sys_id says the shipped policies were before keywire, or undefined for another sys_id. */
export function holdBefore(sysId: string): { get: boolean; post: boolean } | undefined {
  if (!/^[0-9a-f]{32}$/.test(sysId) || !sysId.startsWith(HOLD_PREFIX)) return undefined;
  const flags = parseInt(sysId.slice(HOLD_PREFIX.length, HOLD_PREFIX.length + 2), 16);
  if (flags > 3) return undefined;
  return { get: (flags & 1) === 1, post: (flags & 2) === 2 };
}
