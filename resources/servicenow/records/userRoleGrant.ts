/**
 * UserRoleGrant: one role held by one user (`sys_user_has_role`).
 *
 * A grant is either there or not: changing the user or the role replaces it.
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoptionInputs, RecordSpec, SERVICENOW_MODULE, withSecretConnection, recordIdentity } from "../engine/spec";
import { recordProvider } from "../engine/recordEngine";
import { ReferencedResource, providerReference } from "../../core/providerReference";

const spec: RecordSpec = {
  typeName: "UserRoleGrant",
  table: "sys_user_has_role",
  fields: {
    user: { column: "user", kind: "reference", replaceOnChange: true, lookup: { table: "sys_user", by: "user_name" } },
    role: { column: "role", kind: "reference", replaceOnChange: true, lookup: { table: "sys_user_role", by: "name" } },
  },
  naturalKey: ["user", "role"],
  schema: (z) =>
    z.object({
      user: z.string().min(1, "is required (user_name or sys_id)"),
      role: z.string().regex(/^[a-z0-9_.]+$/, "must be a role name such as evt_mgmt_integration, or a sys_id"),
    }),
};

export const userRoleGrantProvider = recordProvider(spec, providerReference("keywire/servicenow", "userRoleGrantProvider"));

export interface UserRoleGrantArgs extends AdoptionInputs {
  /** user_name or sys_id. */
  user: pulumi.Input<string>;
  /** Role name (e.g. `evt_mgmt_integration`) or sys_id. */
  role: pulumi.Input<string>;
}

export class UserRoleGrant extends ReferencedResource {
  declare readonly sysId: pulumi.Output<string>;
  declare readonly user: pulumi.Output<string>;
  declare readonly role: pulumi.Output<string>;

  constructor(name: string, args: UserRoleGrantArgs, opts?: pulumi.CustomResourceOptions) {
    super(userRoleGrantProvider, name, { sysId: undefined, recordUrl: undefined, ...withSecretConnection(args), ...recordIdentity("UserRoleGrant", name) }, opts, SERVICENOW_MODULE, "UserRoleGrant");
  }
}
