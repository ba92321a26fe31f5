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
 */
import { createHash } from "crypto";

export function stableSysId(identity: string, table: string, distinguishing: Record<string, string>): string {
  const h = createHash("sha256");
  h.update("keywire create\0").update(identity).update("\0").update(table);
  for (const key of Object.keys(distinguishing).sort()) h.update("\0").update(key).update("=").update(distinguishing[key]);
  return h.digest("hex").slice(0, 32);
}

/** How many sys_ids one generation of an API key may use: one per create a killed run left behind. */
export const KEY_ATTEMPTS = 8;

/**
 * The sys_ids an API key of this identity and generation is created under, in the order
 * they are used: a key a killed run made holds one, so the rerun takes the next.
 */
export function keySysIds(identity: string, instanceUrl: string, generation: number): string[] {
  const out: string[] = [];
  for (let attempt = 0; attempt < KEY_ATTEMPTS; attempt++) {
    out.push(stableSysId(identity, "api_key", { instance: instanceUrl, generation: String(generation), attempt: String(attempt) }));
  }
  return out;
}
