/**
 * Task tables (task, incident, problem, change_request) and configuration items (cmdb_ci).
 */
import { HOLD_REASON_CHOICES, IMPACT_CHOICES, PRIORITY_CHOICES, URGENCY_CHOICES } from "../incident";
import { type Col, type TableSpec, F, ITIL, T } from "./definitions";

const taskColumns: Col[] = [
  ["number", "string", { readOnly: true, maxLength: 40 }],
  ["short_description", "string", { maxLength: 160 }],
  ["description", "string", { maxLength: 4000 }],
  ["state", "integer", { defaultValue: "1" }],
  ["active", "boolean", { defaultValue: T }],
  ["priority", "integer", { defaultValue: "4", choices: PRIORITY_CHOICES }],
  ["impact", "integer", { defaultValue: "3", choices: IMPACT_CHOICES }],
  ["urgency", "integer", { defaultValue: "3", choices: URGENCY_CHOICES }],
  ["assigned_to", "reference", { reference: "sys_user" }],
  ["assignment_group", "reference", { reference: "sys_user_group" }],
  ["opened_by", "reference", { reference: "sys_user" }],
  ["opened_at", "glide_date_time"],
  ["cmdb_ci", "reference", { reference: "cmdb_ci", label: "Configuration item" }],
  ["close_notes", "string", { maxLength: 4000 }],
];

export function taskTables(): TableSpec[] {
  return [
    { name: "task", label: "Task", displayField: "number", numberPrefix: "TASK", access: { read: ITIL, write: ITIL }, columns: taskColumns },
    {
      name: "incident",
      label: "Incident",
      superClass: "task",
      displayField: "number",
      numberPrefix: "INC",
      access: { read: ITIL, write: ITIL },
      columns: [
        ["caller_id", "reference", { reference: "sys_user", label: "Caller" }],
        ["category", "choice", { defaultValue: "inquiry" }],
        ["severity", "integer", { defaultValue: "3" }],
        ["hold_reason", "integer", { label: "On hold reason", choices: HOLD_REASON_CHOICES }],
        ["close_code", "choice", { label: "Resolution code", maxLength: 40 }],
        ["resolved_at", "glide_date_time", { label: "Resolved" }],
        ["resolved_by", "reference", { reference: "sys_user" }],
      ],
    },
    {
      name: "problem",
      label: "Problem",
      superClass: "task",
      displayField: "number",
      numberPrefix: "PRB",
      access: { read: ITIL, write: ITIL },
      columns: [["known_error", "boolean", { defaultValue: F }]],
    },
    {
      name: "change_request",
      label: "Change Request",
      superClass: "task",
      displayField: "number",
      numberPrefix: "CHG",
      access: { read: ITIL, write: ITIL },
      columns: [["type", "choice", { defaultValue: "normal" }]],
    },
    {
      name: "cmdb_ci",
      label: "Configuration Item",
      displayField: "name",
      access: { read: ITIL, write: ITIL },
      columns: [
        ["name", "string"],
        ["serial_number", "string"],
        ["ip_address", "string"],
        ["operational_status", "integer", { defaultValue: "1" }],
      ],
    },
  ];
}
