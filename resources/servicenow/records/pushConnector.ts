/**
 * PushConnector: the Event Management push connector instance
 * (`sn_em_connector_push_instance`) that the SNS endpoint's `sys_id` names.
 *
 * Either an existing one taken by name (`adopt: true`, left as found on destroy)
 * or one keywire creates for the push connector definition whose `source` is
 * `aws` (the value the endpoint's `source` parameter carries).
 */
import type * as pulumi from "@pulumi/pulumi";
import { q } from "../client/encodedQuery";
import type { ResolvedValue } from "../engine/spec";
import { RecordArgs, column, defineRecord } from "../engine/declaration";
import { EngineContext } from "../engine/runtime";
import { recordProvider } from "../engine/recordEngine";
import { ownedRecordInputs, recordResource } from "../engine/recordResource";
import { providerReference } from "../../core/providerLoading/providerReference";
import { KeywireError } from "../../core/errors";
import { recordDescription, recordName } from "../engine/inputRules";

/** The definition is found by its `source` value, which is what the endpoint must match. */
async function resolveDefinition(ctx: EngineContext, source: string): Promise<ResolvedValue> {
  const rows = await ctx.client.list("sn_em_connector_listener", {
    query: q().eq("source", source).build(),
    fields: ["sys_id", "source", "active"],
  });
  if (rows.length !== 1) {
    throw new KeywireError({
      platform: "servicenow",
      operation: "resolve source of PushConnector",
      table: "sn_em_connector_listener",
      reason: `expected one push connector definition with source "${source}", found ${rows.length}`,
      hint: "Event Management must be installed with its AWS push connector; or take over an existing connector instance by name.",
    });
  }
  return { input: source, column: rows[0].sys_id, aliases: { [rows[0].sys_id]: source } };
}

export const pushConnectorRecord = defineRecord({
  typeName: "PushConnector",
  table: "sn_em_connector_push_instance",
  naturalKey: ["name"],
  inputs: {
    /** 1–100 characters, one line; for adoption, the connector's exact name. */
    name: column({ column: "name", kind: "string" }, (z) => recordName(z)),
    /** Up to 1000 characters. */
    description: column({ column: "description", kind: "string" }, (z) => recordDescription(z).optional()),
    /** An inactive connector takes no events. */
    active: column({ column: "active", kind: "boolean", defaultValue: "true" }, (z) => z.boolean().optional()),
    /**
     * The definition's `source` value, e.g. `aws`: stored as a reference to the
     * `sn_em_connector_listener` row with that source. Required unless adopting.
     */
    source: column({ column: "push_connector_definition", kind: "reference", resolve: resolveDefinition }, (z) =>
      z
        .string()
        .regex(/^[a-z0-9_]+$/, 'must be a source value such as "aws"')
        .optional(),
    ),
  },
  hooks: {
    validate(inputs) {
      return !inputs.adopt && !inputs.source
        ? [{ property: "source", reason: 'PushConnector.source: required when keywire creates the connector (e.g. "aws")' }]
        : [];
    },
  },
});

export const pushConnectorProvider = recordProvider(pushConnectorRecord, providerReference("keywire/servicenow", "pushConnectorProvider"));

export type PushConnectorArgs = RecordArgs<typeof pushConnectorRecord>;

/** Its `sysId` is the `sys_id` the Event Management endpoint names. */
export class PushConnector extends recordResource(pushConnectorRecord) {
  constructor(name: string, args: PushConnectorArgs, opts?: pulumi.CustomResourceOptions) {
    super(pushConnectorProvider, name, ownedRecordInputs(pushConnectorRecord, name, args), opts);
  }
}
