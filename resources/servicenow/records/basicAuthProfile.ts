/**
 * BasicAuthProfile: a Basic/OAuth inbound auth profile (`std_http_auth`), taken
 * over by name only so that it can be linked to a policy of keywire's own. keywire
 * never creates or changes these; destroy leaves them as they are.
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoptionInputs, RecordSpec, SERVICENOW_MODULE, withSecretConnection } from "../engine/spec";
import { recordProvider } from "../engine/recordEngine";
import { ReferencedResource, providerReference } from "../../core/providerReference";
import { recordName } from "../engine/inputRules";

const spec: RecordSpec = {
  typeName: "BasicAuthProfile",
  table: "std_http_auth",
  fields: {
    name: { column: "name", kind: "string" },
  },
  naturalKey: ["name"],
  schema: (z) => z.object({ name: recordName(z) }),
};

export const basicAuthProfileProvider = recordProvider(spec, providerReference("keywire/servicenow", "basicAuthProfileProvider"));

export interface BasicAuthProfileArgs {
  /** The profile's exact name (the shipped one ends with a space). */
  name: pulumi.Input<string>;
  connection?: AdoptionInputs["connection"];
}

export class BasicAuthProfile extends ReferencedResource {
  declare readonly sysId: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;

  constructor(name: string, args: BasicAuthProfileArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      basicAuthProfileProvider,
      name,
      { sysId: undefined, recordUrl: undefined, ...withSecretConnection(args), adopt: true, onDestroy: "retain" },
      opts,
      SERVICENOW_MODULE,
      "BasicAuthProfile",
    );
  }
}
