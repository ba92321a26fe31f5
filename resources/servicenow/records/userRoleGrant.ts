/**
 * UserRoleGrant: one role held by one user (`sys_user_has_role`).
 *
 * A grant is either there or not: changing the user or the role replaces it.
 */
import type * as pulumi from "@pulumi/pulumi";
import { RecordArgs, column, defineRecord } from "../engine/declaration";
import { recordProvider } from "../engine/recordEngine";
import { ownedRecordInputs, recordResource } from "../engine/recordResource";
import { providerReference } from "../../core/providerLoading/providerReference";

export const userRoleGrantRecord = defineRecord({
  typeName: "UserRoleGrant",
  table: "sys_user_has_role",
  naturalKey: ["user", "role"],
  inputs: {
    /** The user, as `user_name` or sys_id. */
    user: column({ column: "user", kind: "reference", replaceOnChange: true, lookup: { table: "sys_user", by: "user_name" } }, (z) =>
      z.string().min(1, "is required (user_name or sys_id)"),
    ),
    /** The role, by name (lower-case letters, digits, `_`, `.`, such as `evt_mgmt_integration`) or sys_id. */
    role: column({ column: "role", kind: "reference", replaceOnChange: true, lookup: { table: "sys_user_role", by: "name" } }, (z) =>
      z.string().regex(/^[a-z0-9_.]+$/, "must be a role name such as evt_mgmt_integration, or a sys_id"),
    ),
  },
});

export const userRoleGrantProvider = recordProvider(userRoleGrantRecord, providerReference("keywire/servicenow", "userRoleGrantProvider"));

export type UserRoleGrantArgs = RecordArgs<typeof userRoleGrantRecord>;

export class UserRoleGrant extends recordResource(userRoleGrantRecord) {
  constructor(name: string, args: UserRoleGrantArgs, opts?: pulumi.CustomResourceOptions) {
    super(userRoleGrantProvider, name, ownedRecordInputs(userRoleGrantRecord, name, args), opts);
  }
}
