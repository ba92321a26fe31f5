/**
 * InboundProfile: an API-key inbound authentication profile (`http_key_auth`).
 *
 * The profile decides where a caller puts the key: in the `x-sn-apikey` header, or
 * in the `x-sn-apikey` query parameter (the only choice for AWS SNS, which cannot
 * send custom headers). That choice is a reference to one of the two shipped
 * `sys_token_auth_parameter` rows; keywire finds the row by parameter name and type
 * on each instance rather than trusting a sys_id seen elsewhere.
 */
import type * as pulumi from "@pulumi/pulumi";
import { q } from "../client/encodedQuery";
import { EngineContext } from "../engine/runtime";
import type { ResolvedValue } from "../engine/spec";
import { RecordArgs, column, defineRecord } from "../engine/declaration";
import { recordProvider } from "../engine/recordEngine";
import { ownedRecordInputs, recordResource } from "../engine/recordResource";
import { providerReference } from "../../core/providerLoading/providerReference";
import { KeywireError } from "../../core/errors";
import { recordDescription, recordName } from "../engine/inputRules";

/** Where a caller puts the key. */
const KEY_LOCATIONS = ["header", "query"] as const;
export type KeyLocation = (typeof KEY_LOCATIONS)[number];

/** The parameter name every API-key profile uses. */
export const API_KEY_PARAMETER = "x-sn-apikey";

/**
 * Finds the shipped auth-parameter rows. The header row's type is `auth_header`
 * (well documented); the query row's type value is not (`query_parameter` is the
 * likely one), so the query row is "the x-sn-apikey row that is not the header one".
 */
async function resolveKeyLocation(ctx: EngineContext, location: string): Promise<ResolvedValue> {
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

export const inboundProfileRecord = defineRecord({
  typeName: "InboundProfile",
  table: "http_key_auth",
  naturalKey: ["name"],
  inputs: {
    /** 1–100 characters, one line. */
    name: column({ column: "name", kind: "string" }, (z) => recordName(z)),
    /** Up to 1000 characters. */
    description: column({ column: "description", kind: "string" }, (z) => recordDescription(z).optional()),
    /** An inactive profile admits nothing. */
    active: column({ column: "active", kind: "boolean", defaultValue: "true" }, (z) => z.boolean().optional()),
    /**
     * Where callers send the key: the `x-sn-apikey` header, or the `x-sn-apikey` query
     * parameter (SNS). Stored as a reference to the shipped `sys_token_auth_parameter` row.
     */
    keyLocation: column({ column: "auth_parameter", kind: "reference", resolve: resolveKeyLocation }, (z) =>
      z.enum(KEY_LOCATIONS, { message: 'must be "header" or "query"' }),
    ),
  },
});

export const inboundProfileProvider = recordProvider(inboundProfileRecord, providerReference("keywire/servicenow", "inboundProfileProvider"));

export type InboundProfileArgs = RecordArgs<typeof inboundProfileRecord>;

/** `keyLocation` is shown as "header" or "query" while it points at a shipped row; as the row's sys_id otherwise. */
export class InboundProfile extends recordResource(inboundProfileRecord) {
  constructor(name: string, args: InboundProfileArgs, opts?: pulumi.CustomResourceOptions) {
    super(inboundProfileProvider, name, ownedRecordInputs(inboundProfileRecord, name, args), opts);
  }
}
