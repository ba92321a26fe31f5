/**
 * A create refused because a column that must be unique already holds the value: whose
 * record is it?
 *
 * On an instance that keeps the sys_ids keywire sends, the record is not this resource's
 * own: a create sends the sys_id its identity gives, and a record under that sys_id is
 * found and brought to the inputs, never refused (create.ts). So it is another
 * stack's (a copied stack file that kept the name prefix), or a person's, or another
 * tool's; keywire never takes it over because of its name. The error names it: its sys_id, who made it and when, whether keywire made it
 * (its sys_id carries keywire's mark, engine/createIdentity.ts), and a link to it.
 */
import { KeywireError, isKeywireHttpError } from "../../core/errors";
import { isTakenValue } from "../client/failureHints";
import { isKeywireSysId } from "./createIdentity";
import { naturalKeyQuery, recordUrl } from "./columns";
import type { EngineContext } from "./runtime";
import type { SnRecord } from "../client/tableClient";
import type { RecordSpec } from "./spec";

/**
 * Rethrows `err`; a refusal for a taken unique value, when the record holding the
 * resource's natural key can be read, as an error that says whose that record is.
 */
export async function refusedAsTaken(ctx: EngineContext, spec: RecordSpec, columns: Record<string, string>, err: unknown): Promise<never> {
  if (!isKeywireHttpError(err) || !isTakenValue(err.status, err.serverMessage)) throw err;
  let holders: SnRecord[];
  try {
    holders = await ctx.client.list(spec.table, { query: naturalKeyQuery(spec, columns), fields: ["sys_id", "sys_created_by", "sys_created_on"], limit: 2 });
  } catch {
    // Not allowed to look, or the instance failed: the refusal as it came says what is known.
    throw err;
  }
  const holder = holders[0];
  if (holders.length !== 1 || !holder) throw err;
  const made = [holder.sys_created_by ? `created by ${holder.sys_created_by}` : "", holder.sys_created_on ? `on ${holder.sys_created_on}` : ""]
    .filter(Boolean)
    .join(" ");
  const whose = isKeywireSysId(holder.sys_id)
    ? "which keywire made for another stack, not this one (or for another resource of this program)"
    : "which keywire did not make under a sys_id of its own, so a person or another tool did (or, on an instance that does not keep the sys_ids keywire sends, a killed run of this stack)";
  throw new KeywireError({
    platform: "servicenow",
    operation: err.operation,
    table: spec.table,
    ...(err.status !== undefined ? { status: err.status } : {}),
    reason: `${err.reason}: ${spec.table} ${holder.sys_id}${made ? ` (${made})` : ""}, ${whose}`,
    hint:
      "keywire never takes a record over because of its name. Give this stack another keywire:namePrefix and its own integration user: stacks on one " +
      `instance each need their own (docs/stacks.md); or, if the record is this stack's own from a lost state, adopt it (docs/adoption.md). The record: ${recordUrl(ctx.connection, spec.table, holder.sys_id)}`,
  });
}
