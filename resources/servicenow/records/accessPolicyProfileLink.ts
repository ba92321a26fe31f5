/**
 * AccessPolicyProfileLink: admits an inbound auth profile on an access policy
 * (`sys_auth_profile_mapping`).
 *
 * A link cannot be edited into another link: changing the policy or the profile
 * replaces it. A policy that has links admits only the linked profiles, so linking
 * only an API-key profile to a shipped Table API policy locks Basic auth out of
 * that API; the components keep the basic profile linked unless told otherwise,
 * and warn when they do not.
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoptionInputs, RecordSpec, SERVICENOW_MODULE, withSecretConnection, recordIdentity } from "../engine/spec";
import { recordProvider } from "../engine/recordEngine";
import { ReferencedResource, providerReference } from "../../core/providerReference";

const SYS_ID = /^[0-9a-f]{32}$/;

const spec: RecordSpec = {
  typeName: "AccessPolicyProfileLink",
  table: "sys_auth_profile_mapping",
  fields: {
    policy: { column: "api_access_policy", kind: "reference", replaceOnChange: true },
    profile: { column: "inbound_auth_profile", kind: "reference", replaceOnChange: true },
  },
  naturalKey: ["policy", "profile"],
  schema: (z) =>
    z.object({
      policy: z.string().regex(SYS_ID, "must be the sys_id of a sys_api_access_policy record"),
      profile: z.string().regex(SYS_ID, "must be the sys_id of an inbound auth profile"),
    }),
};

export const accessPolicyProfileLinkProvider = recordProvider(spec, providerReference("keywire/servicenow", "accessPolicyProfileLinkProvider"));

export interface AccessPolicyProfileLinkArgs extends AdoptionInputs {
  /** sys_id of the access policy (e.g. `AccessPolicy.sysId`). */
  policy: pulumi.Input<string>;
  /** sys_id of the inbound auth profile (e.g. `InboundProfile.sysId`). */
  profile: pulumi.Input<string>;
}

export class AccessPolicyProfileLink extends ReferencedResource {
  declare readonly sysId: pulumi.Output<string>;
  declare readonly policy: pulumi.Output<string>;
  declare readonly profile: pulumi.Output<string>;
  declare readonly recordUrl: pulumi.Output<string>;

  constructor(name: string, args: AccessPolicyProfileLinkArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      accessPolicyProfileLinkProvider,
      name,
      { sysId: undefined, recordUrl: undefined, ...withSecretConnection(args), ...recordIdentity("AccessPolicyProfileLink", name) },
      opts,
      SERVICENOW_MODULE,
      "AccessPolicyProfileLink",
    );
  }
}
