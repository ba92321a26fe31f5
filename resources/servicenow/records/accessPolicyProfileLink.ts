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
import type * as pulumi from "@pulumi/pulumi";
import { RecordArgs, column, defineRecord } from "../engine/declaration";
import { recordProvider } from "../engine/recordEngine";
import { ownedRecordInputs, recordResource } from "../engine/recordResource";
import { providerReference } from "../../core/providerLoading/providerReference";

const SYS_ID = /^[0-9a-f]{32}$/;

export const accessPolicyProfileLinkRecord = defineRecord({
  typeName: "AccessPolicyProfileLink",
  table: "sys_auth_profile_mapping",
  naturalKey: ["policy", "profile"],
  inputs: {
    /** The sys_id of the access policy (e.g. `AccessPolicy.sysId`): 32 lower-case hex digits; names are not looked up. */
    policy: column({ column: "api_access_policy", kind: "reference", replaceOnChange: true }, (z) =>
      z.string().regex(SYS_ID, "must be the sys_id of a sys_api_access_policy record"),
    ),
    /**
     * The sys_id of the inbound auth profile, an `http_key_auth` or `std_http_auth` row (e.g.
     * `InboundProfile.sysId`, `BasicAuthProfile.sysId`): 32 lower-case hex digits; names are not looked up.
     */
    profile: column({ column: "inbound_auth_profile", kind: "reference", replaceOnChange: true }, (z) =>
      z.string().regex(SYS_ID, "must be the sys_id of an inbound auth profile"),
    ),
  },
});

export const accessPolicyProfileLinkProvider = recordProvider(
  accessPolicyProfileLinkRecord,
  providerReference("keywire/servicenow", "accessPolicyProfileLinkProvider"),
);

export type AccessPolicyProfileLinkArgs = RecordArgs<typeof accessPolicyProfileLinkRecord>;

export class AccessPolicyProfileLink extends recordResource(accessPolicyProfileLinkRecord) {
  constructor(name: string, args: AccessPolicyProfileLinkArgs, opts?: pulumi.CustomResourceOptions) {
    super(accessPolicyProfileLinkProvider, name, ownedRecordInputs(accessPolicyProfileLinkRecord, name, args), opts);
  }
}
