/**
 * PushConnector: the Event Management push connector instance
 * (`sn_em_connector_push_instance`) that the SNS endpoint's `sys_id` names.
 *
 * Either an existing one taken by name (`adopt: true`, left as found on destroy)
 * or one keywire creates for the push connector definition whose `source` is
 * `aws` (the value the endpoint's `source` parameter carries).
 */
import * as pulumi from "@pulumi/pulumi";
import { q } from "../client/encodedQuery";
import { AdoptionInputs, RecordSpec, ResolvedValue, SERVICENOW_MODULE, withSecretConnection, recordIdentity } from "../engine/spec";
import { EngineContext } from "../engine/runtime";
import { recordProvider } from "../engine/recordEngine";
import { ReferencedResource, providerReference } from "../../core/providerReference";
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

const spec: RecordSpec = {
  typeName: "PushConnector",
  table: "sn_em_connector_push_instance",
  fields: {
    name: { column: "name", kind: "string" },
    description: { column: "description", kind: "string" },
    active: { column: "active", kind: "boolean", defaultValue: "true" },
    source: { column: "push_connector_definition", kind: "reference" },
  },
  naturalKey: ["name"],
  resolvers: { source: resolveDefinition },
  schema: (z) =>
    z.object({
      name: recordName(z),
      description: recordDescription(z).optional(),
      active: z.boolean().optional(),
      source: z.string().regex(/^[a-z0-9_]+$/, 'must be a source value such as "aws"').optional(),
    }),
  hooks: {
    validate(inputs) {
      return !inputs.adopt && !inputs.source
        ? [{ property: "source", reason: 'PushConnector.source: required when keywire creates the connector (e.g. "aws")' }]
        : [];
    },
  },
};

export const pushConnectorProvider = recordProvider(spec, providerReference("keywire/servicenow", "pushConnectorProvider"));

export interface PushConnectorArgs extends AdoptionInputs {
  name: pulumi.Input<string>;
  description?: pulumi.Input<string>;
  active?: pulumi.Input<boolean>;
  /** The definition's source value (`aws`); required unless adopting. */
  source?: pulumi.Input<string>;
}

export class PushConnector extends ReferencedResource {
  declare readonly sysId: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly recordUrl: pulumi.Output<string>;

  constructor(name: string, args: PushConnectorArgs, opts?: pulumi.CustomResourceOptions) {
    super(pushConnectorProvider, name, { sysId: undefined, recordUrl: undefined, ...withSecretConnection(args), ...recordIdentity("PushConnector", name) }, opts, SERVICENOW_MODULE, "PushConnector");
  }
}
