/**
 * RateLimitRule: a REST rate-limit rule for one user (`sys_rate_limit_rules`).
 *
 * A leaked key should not be able to flood the instance: the integration user
 * gets a per-hour ceiling of its own, which outranks role and all-user rules. The
 * name of the per-hour limit column differs between sources (not `rate_limit`);
 * keywire's preflight reads `sys_dictionary` and names the right one, and the
 * column is given to the resource so its provider writes exactly that column.
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoptionInputs, RecordSpec, SERVICENOW_MODULE, withSecretConnection, recordIdentity } from "../engine/spec";
import { recordProvider } from "../engine/recordEngine";
import { ReferencedProvider, ReferencedResource, providerReference } from "../../core/providerReference";
import { recordName } from "../engine/inputRules";

export const DEFAULT_RATE_LIMIT_COLUMN = "max_requests_per_hour";
/** A sensible default ceiling: SNS delivering alarms needs far fewer; a flood needs far more. */
export const DEFAULT_REQUESTS_PER_HOUR = 3600;

function specFor(limitColumn: string): RecordSpec {
  return {
    typeName: "RateLimitRule",
    table: "sys_rate_limit_rules",
    fields: {
      name: { column: "name", kind: "string" },
      active: { column: "active", kind: "boolean", defaultValue: "true" },
      user: { column: "user", kind: "reference", lookup: { table: "sys_user", by: "user_name" } },
      type: { column: "type", kind: "string", defaultValue: "User" },
      requestsPerHour: { column: limitColumn, kind: "integer" },
    },
    naturalKey: ["name"],
    schema: (z) =>
      z.object({
        name: recordName(z),
        active: z.boolean().optional(),
        user: z.string().min(1, "is required (user_name or sys_id)"),
        requestsPerHour: z.number().int().positive("must be a positive number of requests").max(10_000_000),
      }),
  };
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

export interface RateLimitRuleArgs extends AdoptionInputs {
  name: pulumi.Input<string>;
  active?: pulumi.Input<boolean>;
  /** user_name or sys_id of the user the ceiling applies to. */
  user: pulumi.Input<string>;
  /** Requests per hour; defaults to 3600. */
  requestsPerHour?: pulumi.Input<number>;
  /** The instance's per-hour limit column (see preflight); defaults to `max_requests_per_hour`. */
  limitColumn?: string;
}

export class RateLimitRule extends ReferencedResource {
  declare readonly sysId: pulumi.Output<string>;
  declare readonly requestsPerHour: pulumi.Output<string>;

  constructor(name: string, args: RateLimitRuleArgs, opts?: pulumi.CustomResourceOptions) {
    const { limitColumn, ...rest } = args;
    super(
      rateLimitRuleProvider(limitColumn),
      name,
      { sysId: undefined, recordUrl: undefined, ...withSecretConnection(rest), ...recordIdentity("RateLimitRule", name), requestsPerHour: rest.requestsPerHour ?? DEFAULT_REQUESTS_PER_HOUR },
      opts,
      SERVICENOW_MODULE,
      "RateLimitRule",
    );
  }
}
