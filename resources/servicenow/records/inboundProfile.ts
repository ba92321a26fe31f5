/**
 * InboundProfile: an API-key inbound authentication profile (`http_key_auth`).
 *
 * The profile decides where a caller puts the key: in the `x-sn-apikey` header, or
 * in the `x-sn-apikey` query parameter (the only choice for AWS SNS, which cannot
 * send custom headers). That choice is a reference to one of the two shipped
 * `sys_token_auth_parameter` rows; keywire finds the row by parameter name and type
 * on each instance rather than trusting a sys_id seen elsewhere.
 */
import * as pulumi from "@pulumi/pulumi";
import { q } from "../client/encodedQuery";
import { EngineContext } from "../engine/runtime";
import { RecordSpec, ResolvedValue, SERVICENOW_MODULE, AdoptionInputs, withSecretConnection, recordIdentity } from "../engine/spec";
import { recordProvider } from "../engine/recordEngine";
import { ReferencedResource, providerReference } from "../../core/providerReference";
import { KeywireError } from "../../core/errors";
import { recordDescription, recordName } from "../engine/inputRules";

export type KeyLocation = "header" | "query";

/** The parameter name every API-key profile uses. */
export const API_KEY_PARAMETER = "x-sn-apikey";

/**
 * Finds the shipped auth-parameter rows. The header row's type is `auth_header`
 * (well documented); the query row's type value is not (`query_parameter` is the
 * likely one), so the query row is "the x-sn-apikey row that is not the header one".
 */
export async function resolveKeyLocation(ctx: EngineContext, location: string): Promise<ResolvedValue> {
  const rows = await ctx.client.list("sys_token_auth_parameter", {
    query: q().eq("parameter_name", API_KEY_PARAMETER).build(),
    fields: ["sys_id", "parameter_name", "type"],
  });
  const header = rows.filter((r) => r.type === "auth_header");
  const query = rows.filter((r) => r.type !== "auth_header");
  const chosen = location === "header" ? header : query;
  if (chosen.length !== 1) {
    throw new KeywireError({
      platform: "servicenow",
      operation: "resolve keyLocation of InboundProfile",
      table: "sys_token_auth_parameter",
      reason: `expected one ${API_KEY_PARAMETER} ${location} row in sys_token_auth_parameter, found ${chosen.length}`,
      hint:
        "The API Key and HMAC Authentication plugin (com.glide.tokenbased_auth) ships these rows: check it is active, " +
        "and that nobody deleted or duplicated the 'x-sn-apikey: Auth Header' / 'x-sn-apikey: Query Parameter' rows.",
    });
  }
  const aliases: Record<string, string> = {};
  if (header.length === 1) aliases[header[0].sys_id] = "header";
  if (query.length === 1) aliases[query[0].sys_id] = "query";
  return { input: location, column: chosen[0].sys_id, aliases };
}

const spec: RecordSpec = {
  typeName: "InboundProfile",
  table: "http_key_auth",
  fields: {
    name: { column: "name", kind: "string" },
    description: { column: "description", kind: "string" },
    active: { column: "active", kind: "boolean", defaultValue: "true" },
    keyLocation: { column: "auth_parameter", kind: "reference" },
  },
  naturalKey: ["name"],
  resolvers: { keyLocation: resolveKeyLocation },
  schema: (z) =>
    z.object({
      name: recordName(z),
      description: recordDescription(z).optional(),
      active: z.boolean().optional(),
      keyLocation: z.enum(["header", "query"], { message: 'must be "header" or "query"' }),
    }),
};

export const inboundProfileProvider = recordProvider(spec, providerReference("keywire/servicenow", "inboundProfileProvider"));

export interface InboundProfileArgs extends AdoptionInputs {
  name: pulumi.Input<string>;
  description?: pulumi.Input<string>;
  /** Defaults to true. */
  active?: pulumi.Input<boolean>;
  /** Where callers send the key: the `x-sn-apikey` header, or the query parameter (SNS). */
  keyLocation: pulumi.Input<KeyLocation>;
}

export class InboundProfile extends ReferencedResource {
  declare readonly sysId: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly active: pulumi.Output<boolean>;
  /** "header" or "query" while it points at a shipped row; the row's sys_id otherwise. */
  declare readonly keyLocation: pulumi.Output<string>;
  declare readonly recordUrl: pulumi.Output<string>;

  constructor(name: string, args: InboundProfileArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      inboundProfileProvider,
      name,
      { sysId: undefined, recordUrl: undefined, ...withSecretConnection(args), ...recordIdentity("InboundProfile", name) },
      opts,
      SERVICENOW_MODULE,
      "InboundProfile",
    );
  }
}
