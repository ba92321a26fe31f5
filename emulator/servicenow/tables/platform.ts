/**
 * The platform's plugins and its scripted REST API definitions (sys_plugins,
 * sys_ws_definition).
 */
import { type TableSpec, ADMIN_ONLY, SECURITY, T } from "./definitions";

export function platformTables(): TableSpec[] {
  return [
    {
      name: "sys_plugins",
      label: "Plugin",
      displayField: "name",
      access: { read: ADMIN_ONLY },
      columns: [
        ["id", "string", { mandatory: true }],
        ["name", "string"],
        ["active", "choice", { defaultValue: "inactive" }],
        ["version", "string"],
      ],
    },
    {
      name: "sys_ws_definition",
      label: "Scripted REST API",
      displayField: "name",
      access: SECURITY,
      columns: [
        ["name", "string", { mandatory: true }],
        ["namespace", "string"],
        ["service_id", "string"],
        ["base_uri", "string"],
        ["active", "boolean", { defaultValue: T }],
      ],
    },
  ];
}
