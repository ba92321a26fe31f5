/**
 * Event Management: the push connector's listener, instances and log, and the events and
 * alerts its inbound endpoint records.
 */
import { type TableSpec, EVENT_ADMIN, EVENT_READ, EVENT_WRITE, T } from "./definitions";

/** Event and alert severities, as "Event field format for event collection" lists them. */
const SEVERITY_CHOICES: Record<string, string> = { "0": "Clear", "1": "Critical", "2": "Major", "3": "Minor", "4": "Warning", "5": "OK" };

export function eventManagementTables(): TableSpec[] {
  return [
    {
      name: "sn_em_connector_listener",
      label: "Push Connector Definition",
      displayField: "name",
      access: { read: EVENT_ADMIN, write: EVENT_ADMIN },
      connectorPlugin: true,
      columns: [
        ["name", "string", { mandatory: true }],
        ["source", "string", { mandatory: true }],
        ["active", "boolean", { defaultValue: T }],
        ["description", "string", { maxLength: 1000 }],
        ["script", "string", { maxLength: 65000 }],
      ],
    },
    {
      name: "sn_em_connector_push_instance",
      label: "Push Connector Instance",
      displayField: "name",
      access: { read: EVENT_ADMIN, write: EVENT_ADMIN },
      connectorPlugin: true,
      columns: [
        ["name", "string", { mandatory: true }],
        ["description", "string", { maxLength: 1000 }],
        ["push_connector_definition", "reference", { reference: "sn_em_connector_listener", mandatory: true }],
        ["active", "boolean", { defaultValue: T }],
        ["url", "string", { maxLength: 1000 }],
      ],
    },
    {
      name: "sn_em_connector_push_log",
      label: "Push Connector Log",
      access: { read: EVENT_ADMIN, write: EVENT_ADMIN },
      connectorPlugin: true,
      columns: [
        ["push_connector_instance", "reference", { reference: "sn_em_connector_push_instance" }],
        ["message_type", "string"],
        ["message_id", "string"],
        ["topic_arn", "string"],
        ["subscribe_url", "string", { maxLength: 2000 }],
        ["subscription_arn", "string"],
        ["status", "choice"],
        ["detail", "string", { maxLength: 4000 }],
      ],
    },
    {
      name: "em_event",
      label: "Event",
      displayField: "description",
      access: { read: EVENT_READ, write: EVENT_WRITE },
      columns: [
        ["source", "string"],
        ["node", "string"],
        ["type", "string"],
        ["resource", "string"],
        ["metric_name", "string"],
        ["event_class", "string"],
        ["message_key", "string", { maxLength: 1024 }],
        ["severity", "choice", { defaultValue: "5", choices: SEVERITY_CHOICES }],
        ["description", "string", { maxLength: 4000 }],
        ["additional_info", "string", { maxLength: 65000 }],
        ["time_of_event", "glide_date_time"],
        ["state", "choice", { defaultValue: "Ready" }],
        ["processing_notes", "string", { maxLength: 4000 }],
        ["alert", "reference", { reference: "em_alert" }],
      ],
    },
    {
      name: "em_alert",
      label: "Alert",
      displayField: "number",
      numberPrefix: "Alert",
      access: { read: EVENT_READ, write: EVENT_ADMIN },
      columns: [
        ["number", "string", { readOnly: true, maxLength: 40 }],
        ["source", "string"],
        ["node", "string"],
        ["type", "string"],
        ["resource", "string"],
        ["metric_name", "string"],
        ["message_key", "string", { maxLength: 1024 }],
        ["severity", "choice", { choices: SEVERITY_CHOICES }],
        ["state", "choice", { defaultValue: "Open" }],
        ["description", "string", { maxLength: 4000 }],
        ["additional_info", "string", { maxLength: 65000 }],
        ["initial_remote_time", "glide_date_time"],
        ["last_remote_time", "glide_date_time"],
      ],
    },
  ];
}
