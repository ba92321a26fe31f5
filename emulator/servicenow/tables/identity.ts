/**
 * Users, roles, their grants and groups (sys_user, sys_user_role, sys_user_has_role,
 * sys_user_group).
 */
import { type TableSpec, ADMIN_ONLY, ANY, F, T, USER_ADMIN } from "./definitions";

export function identityTables(): TableSpec[] {
  return [
    {
      name: "sys_user",
      label: "User",
      displayField: "name",
      access: { read: ANY, write: USER_ADMIN },
      columns: [
        ["user_name", "string", { mandatory: true, unique: true, label: "User ID" }],
        ["first_name", "string"],
        ["last_name", "string"],
        ["name", "string", { readOnly: true }],
        ["email", "string"],
        ["title", "string"],
        ["active", "boolean", { defaultValue: T }],
        ["web_service_access_only", "boolean", { defaultValue: F }],
        ["internal_integration_user", "boolean", { defaultValue: F }],
        ["locked_out", "boolean", { defaultValue: F }],
        ["user_password", "password", { label: "Password" }],
      ],
    },
    {
      name: "sys_user_role",
      label: "Role",
      displayField: "name",
      access: { read: ANY, write: ADMIN_ONLY },
      columns: [
        ["name", "string", { mandatory: true, unique: true }],
        ["description", "string", { maxLength: 1000 }],
        ["elevated_privilege", "boolean", { defaultValue: F }],
      ],
    },
    {
      name: "sys_user_has_role",
      label: "User Role",
      displayField: "role",
      access: { read: ANY, write: USER_ADMIN },
      columns: [
        ["user", "reference", { reference: "sys_user", mandatory: true }],
        ["role", "reference", { reference: "sys_user_role", mandatory: true }],
        ["state", "choice", { defaultValue: "active" }],
        ["inherited", "boolean", { defaultValue: F }],
      ],
    },
    {
      name: "sys_user_group",
      label: "Group",
      displayField: "name",
      access: { read: ANY, write: USER_ADMIN },
      columns: [
        ["name", "string", { mandatory: true }],
        ["description", "string", { maxLength: 1000 }],
        ["active", "boolean", { defaultValue: T }],
        ["manager", "reference", { reference: "sys_user" }],
      ],
    },
  ];
}
