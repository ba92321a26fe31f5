/**
 * BasicAuthProfile: a Basic/OAuth inbound auth profile (`std_http_auth`), taken
 * over by name only so that it can be linked to a policy of keywire's own. keywire
 * never creates or changes these; destroy leaves them as they are.
 */
import type * as pulumi from "@pulumi/pulumi";
import { AdoptionInputs, withSecretConnection } from "../engine/spec";
import { DeclaredArgs, column, defineRecord } from "../engine/declaration";
import { recordProvider } from "../engine/recordEngine";
import { recordResource } from "../engine/recordResource";
import { providerReference } from "../../core/providerLoading/providerReference";
import { recordName } from "../engine/inputRules";

export const basicAuthProfileRecord = defineRecord({
  typeName: "BasicAuthProfile",
  table: "std_http_auth",
  naturalKey: ["name"],
  inputs: {
    /** The profile's exact name, trailing space included (the shipped one ends with a space); at most 100 characters, one line. */
    name: column({ column: "name", kind: "string" }, (z) => recordName(z)),
  },
});

export const basicAuthProfileProvider = recordProvider(basicAuthProfileRecord, providerReference("keywire/servicenow", "basicAuthProfileProvider"));

/** Only the instance is the program's to choose: the profile is always taken over, and left as it is. */
export type BasicAuthProfileArgs = DeclaredArgs<typeof basicAuthProfileRecord.inputs> & Pick<AdoptionInputs, "connection">;

export class BasicAuthProfile extends recordResource(basicAuthProfileRecord) {
  constructor(name: string, args: BasicAuthProfileArgs, opts?: pulumi.CustomResourceOptions) {
    // Never created, so no identity: a create's sys_id is all it is for.
    super(basicAuthProfileProvider, name, { ...withSecretConnection(args), adopt: true, onDestroy: "retain" }, opts);
  }
}
