/**
 * RateLimitRule: a REST rate-limit rule for one user (`sys_rate_limit_rules`).
 *
 * A leaked key should not be able to flood the instance: the integration user
 * gets a per-hour ceiling of its own, which outranks role and all-user rules. The
 * name of the per-hour limit column differs between sources (not `rate_limit`);
 * keywire's preflight reads `sys_dictionary` and names the right one, and the
 * column is given to the resource so its provider writes exactly that column.
 */
import type * as pulumi from "@pulumi/pulumi";
import { RecordArgs, column, defineRecord, written } from "../engine/declaration";
import { recordProvider } from "../engine/recordEngine";
import { ownedRecordInputs, recordResource } from "../engine/recordResource";
import { ReferencedProvider, providerReference } from "../../core/providerLoading/providerReference";
import { recordName } from "../engine/inputRules";

export const DEFAULT_RATE_LIMIT_COLUMN = "max_requests_per_hour";
/** A sensible default ceiling: SNS delivering alarms needs far fewer; a flood needs far more. */
export const DEFAULT_REQUESTS_PER_HOUR = 3600;

/** The rule as it is on the default limit column; each provider writes its own (`rateLimitRuleProvider`). */
export const rateLimitRuleRecord = defineRecord({
  typeName: "RateLimitRule",
  table: "sys_rate_limit_rules",
  naturalKey: ["name"],
  inputs: {
    /** 1–100 characters, one line. */
    name: column({ column: "name", kind: "string" }, (z) => recordName(z)),
    /** An inactive rule limits nothing. */
    active: column({ column: "active", kind: "boolean", defaultValue: "true" }, (z) => z.boolean().optional()),
    /** The user the ceiling applies to, as `user_name` or sys_id. */
    user: column({ column: "user", kind: "reference", lookup: { table: "sys_user", by: "user_name" } }, (z) =>
      z.string().min(1, "is required (user_name or sys_id)"),
    ),
    /** A rule for one user. */
    type: written({ column: "type", kind: "string", defaultValue: "User" }),
    /**
     * Requests per hour, 1–10,000,000, in the instance's per-hour column (`limitColumn`). An
     * SNS topic that delivers alarms needs far fewer; a flood needs far more.
     */
    requestsPerHour: column({ column: DEFAULT_RATE_LIMIT_COLUMN, kind: "integer" }, (z) =>
      z.number().int().positive("must be a positive number of requests").max(10_000_000).default(DEFAULT_REQUESTS_PER_HOUR),
    ),
  },
});

/** The rule with its limit written to `limitColumn`. */
function specFor(limitColumn: string): typeof rateLimitRuleRecord {
  const { requestsPerHour } = rateLimitRuleRecord.fields;
  return { ...rateLimitRuleRecord, fields: { ...rateLimitRuleRecord.fields, requestsPerHour: { ...requestsPerHour, column: limitColumn } } };
}

const providers = new Map<string, ReferencedProvider>();

/** One provider per limit column, made once: every rule on that column shares it, and its reference names the column. */
export function rateLimitRuleProvider(limitColumn: string = DEFAULT_RATE_LIMIT_COLUMN): ReferencedProvider {
  if (!/^[a-z][a-z0-9_]{0,79}$/.test(limitColumn)) throw new Error(`RateLimitRule: "${limitColumn}" is not a column name`);
  let p = providers.get(limitColumn);
  if (!p) {
    p = recordProvider(specFor(limitColumn), providerReference("keywire/servicenow", "rateLimitRuleProvider", [limitColumn]));
    providers.set(limitColumn, p);
  }
  return p;
}

export type RateLimitRuleArgs = RecordArgs<typeof rateLimitRuleRecord> & {
  /** The instance's per-hour limit column (see preflight); defaults to `max_requests_per_hour`. Chooses the provider: not a resource property. */
  limitColumn?: string;
};

export class RateLimitRule extends recordResource(rateLimitRuleRecord) {
  constructor(name: string, args: RateLimitRuleArgs, opts?: pulumi.CustomResourceOptions) {
    const { limitColumn, ...rest } = args;
    // The default is sent, not left to check: a preview whose other inputs are still
    // unknown skips the schema's defaults, and would show the limit as a change.
    const inputs = { ...rest, requestsPerHour: rest.requestsPerHour ?? DEFAULT_REQUESTS_PER_HOUR };
    super(rateLimitRuleProvider(limitColumn), name, ownedRecordInputs(rateLimitRuleRecord, name, inputs), opts);
  }
}
