/**
 * The known tables: columns, types, references, defaults and who may read or write them.
 * The schema depends on two options (the names of two columns nobody has confirmed), so it
 * is built per emulator and rebuilt when those options change.
 */
import { HOLD_REASON_CHOICES, IMPACT_CHOICES, PRIORITY_CHOICES, URGENCY_CHOICES } from "./incident";

export type FieldType =
  | "GUID"
  | "string"
  | "boolean"
  | "integer"
  | "reference"
  | "glide_date_time"
  | "glide_list"
  | "choice"
  | "password"
  | "password2"
  | "sys_class_name";

export interface FieldDef {
  name: string;
  type: FieldType;
  label: string;
  /** Referenced table for reference fields and reference lists. */
  reference?: string;
  mandatory?: boolean;
  unique?: boolean;
  maxLength: number;
  defaultValue?: string | (() => string);
  /** System-maintained; values sent by clients are ignored. */
  readOnly?: boolean;
  /** Table that declares the column (for sys_dictionary). */
  declaredOn: string;
  /** Choice labels by value: the display value of a stored choice. Other values are still accepted. */
  choices?: Record<string, string>;
}

/** Role requirement: any one of the sets, each set needing all its roles; [] = any authenticated user. */
export type RoleRule = string[][];

export interface TableAccess {
  read: RoleRule;
  /** undefined = nobody may write over HTTP, admin included. */
  write?: RoleRule;
}

export interface TableDef {
  name: string;
  label: string;
  superClass?: string;
  fields: Map<string, FieldDef>;
  displayField?: string;
  display?: (r: Record<string, string>) => string;
  access: TableAccess;
  /** Tables that exist only when com.glide.tokenbased_auth is active. */
  tokenPlugin?: boolean;
  /** Tables that exist only when the Event Management Connectors plugin (sn_em_connector) is active. */
  connectorPlugin?: boolean;
  /** Rows generated from the schema itself (sys_dictionary, sys_db_object). */
  virtual?: boolean;
  numberPrefix?: string;
}

export interface SchemaColumns {
  rateLimitColumn: string;
  authScopeColumn: string;
}

const ANY: RoleRule = [[]];
const API_ADMIN: RoleRule = [["api_service_admin", "adaptive_auth_policy_admin"]];
const ADMIN_ONLY: RoleRule = [];
const ITIL: RoleRule = [["itil"]];
const USER_ADMIN: RoleRule = [["user_admin"]];
const EVENT_READ: RoleRule = [["evt_mgmt_integration"], ["evt_mgmt_user"], ["evt_mgmt_admin"], ["itil"]];
const EVENT_WRITE: RoleRule = [["evt_mgmt_integration"], ["evt_mgmt_admin"]];
const EVENT_ADMIN: RoleRule = [["evt_mgmt_admin"]];

const SECURITY: TableAccess = { read: API_ADMIN, write: API_ADMIN };

type Col = [name: string, type: FieldType, extra?: Partial<Omit<FieldDef, "name" | "type" | "declaredOn">>];

const SYSTEM_COLUMNS: Col[] = [
  ["sys_id", "GUID", { readOnly: true, maxLength: 32, label: "Sys ID" }],
  ["sys_created_on", "glide_date_time", { readOnly: true, label: "Created" }],
  ["sys_created_by", "string", { readOnly: true, label: "Created by" }],
  ["sys_updated_on", "glide_date_time", { readOnly: true, label: "Updated" }],
  ["sys_updated_by", "string", { readOnly: true, label: "Updated by" }],
  ["sys_mod_count", "integer", { readOnly: true, label: "Updates" }],
  ["sys_class_name", "sys_class_name", { readOnly: true, label: "Class" }],
];

interface TableSpec {
  name: string;
  label: string;
  superClass?: string;
  columns: Col[];
  displayField?: string;
  display?: (r: Record<string, string>) => string;
  access: TableAccess;
  tokenPlugin?: boolean;
  connectorPlugin?: boolean;
  virtual?: boolean;
  numberPrefix?: string;
}

function labelOf(name: string): string {
  return name
    .split("_")
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(" ");
}

const T = "true";
const F = "false";

/** Event and alert severities, as "Event field format for event collection" lists them. */
const SEVERITY_CHOICES: Record<string, string> = { "0": "Clear", "1": "Critical", "2": "Major", "3": "Minor", "4": "Warning", "5": "OK" };

const QUERY_TYPE_LABELS: Record<string, string> = { auth_header: "Auth Header" };

function tableSpecs(cols: SchemaColumns): TableSpec[] {
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
    {
      name: "api_key",
      label: "REST API Key",
      displayField: "name",
      access: SECURITY,
      tokenPlugin: true,
      columns: [
        ["name", "string", { mandatory: true }],
        ["description", "string", { maxLength: 1000 }],
        ["active", "boolean", { defaultValue: T }],
        ["user", "reference", { reference: "sys_user", mandatory: true }],
        ["expires", "glide_date_time", { label: "Expiry" }],
        ["token", "password2", { readOnly: true, maxLength: 255 }],
        [cols.authScopeColumn, "glide_list", { reference: "sys_auth_scope", label: "Auth Scope" }],
      ],
    },
    {
      name: "sys_token_auth_parameter",
      label: "Token Auth Parameter",
      display: (r) => `${r.parameter_name ?? ""}: ${QUERY_TYPE_LABELS[r.type ?? ""] ?? (r.type ? "Query Parameter" : "")}`,
      access: SECURITY,
      tokenPlugin: true,
      columns: [
        ["parameter_name", "string", { mandatory: true }],
        ["type", "choice", { mandatory: true }],
      ],
    },
    {
      name: "inbound_auth_profile",
      label: "Inbound Authentication Profile",
      displayField: "name",
      access: SECURITY,
      columns: [
        ["name", "string", { mandatory: true }],
        ["description", "string", { maxLength: 1000 }],
        ["active", "boolean", { defaultValue: T }],
      ],
    },
    {
      name: "http_key_auth",
      label: "API Key Authentication Profile",
      superClass: "inbound_auth_profile",
      displayField: "name",
      access: SECURITY,
      tokenPlugin: true,
      columns: [
        ["auth_parameter", "reference", { reference: "sys_token_auth_parameter", mandatory: true }],
        ["auth_processor", "boolean", { defaultValue: F }],
      ],
    },
    {
      name: "std_http_auth",
      label: "Standard HTTP Authentication Profile",
      superClass: "inbound_auth_profile",
      displayField: "name",
      access: SECURITY,
      columns: [["type", "choice", { mandatory: true }]],
    },
    {
      name: "sys_api_access_policy",
      label: "REST API Access Policy",
      displayField: "name",
      access: SECURITY,
      columns: [
        ["name", "string", { mandatory: true, unique: true }],
        ["active", "boolean", { defaultValue: T }],
        ["api", "reference", { reference: "sys_ws_definition", label: "REST API" }],
        ["api_path", "string"],
        ["http_method", "choice"],
        ["version", "string"],
        ["api_resource", "string"],
        ["api_tablename", "glide_list", { label: "Tables" }],
        ["apply_all", "boolean", { defaultValue: F }],
        ["apply_all_methods", "boolean", { defaultValue: T }],
        ["apply_all_resources", "boolean", { defaultValue: T }],
        ["apply_all_versions", "boolean", { defaultValue: T }],
        ["apply_all_tables", "boolean", { defaultValue: T }],
        ["apply_global", "boolean", { defaultValue: F, label: "Global" }],
        ["all_authn_scheme_authenticate_header", "boolean", { defaultValue: F, label: "Advertise all auth schemes" }],
      ],
    },
    {
      name: "sys_auth_profile_mapping",
      label: "Auth Profile Mapping",
      access: SECURITY,
      columns: [
        ["api_access_policy", "reference", { reference: "sys_api_access_policy", mandatory: true }],
        ["inbound_auth_profile", "reference", { reference: "inbound_auth_profile", mandatory: true }],
      ],
    },
    {
      name: "sys_auth_scope",
      label: "Auth Scope",
      displayField: "label",
      access: SECURITY,
      columns: [
        ["name", "string", { mandatory: true, unique: true }],
        ["label", "string"],
        ["description", "string", { maxLength: 1000 }],
      ],
    },
    {
      name: "sys_api_access_scope",
      label: "API Auth Scope",
      displayField: "name",
      access: SECURITY,
      columns: [
        ["name", "string", { mandatory: true }],
        ["active", "boolean", { defaultValue: T }],
        ["api", "reference", { reference: "sys_ws_definition" }],
        ["auth_scope", "reference", { reference: "sys_auth_scope" }],
        ["api_path", "string"],
        ["http_method", "choice"],
      ],
    },
    {
      name: "sys_rate_limit_rules",
      label: "Rate Limit Rule",
      displayField: "name",
      access: SECURITY,
      columns: [
        ["name", "string", { mandatory: true }],
        ["active", "boolean", { defaultValue: T }],
        ["type", "choice"],
        ["user", "reference", { reference: "sys_user" }],
        ["role", "reference", { reference: "sys_user_role" }],
        ["api", "reference", { reference: "sys_ws_definition", label: "REST API" }],
        ["api_resource", "string"],
        ["http_method", "choice"],
        [cols.rateLimitColumn, "integer", { label: "Maximum requests per hour" }],
      ],
    },
    {
      name: "oauth_entity",
      label: "Application Registry",
      displayField: "name",
      access: SECURITY,
      columns: [
        ["name", "string", { mandatory: true }],
        ["client_id", "string", { maxLength: 100 }],
        ["client_secret", "password2", { maxLength: 255 }],
        ["active", "boolean", { defaultValue: T }],
        ["type", "choice", { defaultValue: "client" }],
        ["access_token_lifespan", "integer", { defaultValue: "1800" }],
        ["refresh_token_lifespan", "integer", { defaultValue: "8640000" }],
        ["oauth_client_credentials_user", "reference", { reference: "sys_user", label: "OAuth Application User" }],
        ["redirect_url", "string"],
      ],
    },
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
    { name: "problem", label: "Problem", superClass: "task", displayField: "number", numberPrefix: "PRB", access: { read: ITIL, write: ITIL }, columns: [["known_error", "boolean", { defaultValue: F }]] },
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
    {
      // Written only through the Attachment API, so metadata and content stay together.
      name: "sys_attachment",
      label: "Attachment",
      displayField: "file_name",
      access: { read: ADMIN_ONLY },
      columns: [
        ["file_name", "string", { maxLength: 100 }],
        ["content_type", "string", { maxLength: 100 }],
        ["size_bytes", "integer"],
        ["table_name", "string", { maxLength: 80 }],
        ["table_sys_id", "string", { maxLength: 32 }],
        ["hash", "string", { maxLength: 64 }],
      ],
    },
    {
      name: "sys_attachment_doc",
      label: "Attachment Document",
      access: { read: ADMIN_ONLY },
      columns: [
        ["sys_attachment", "reference", { reference: "sys_attachment" }],
        ["position", "integer"],
        ["length", "integer"],
        // The whole file as base64 in one row; read-only so no write path truncates it.
        ["data", "string", { readOnly: true, maxLength: 2_147_483_647 }],
      ],
    },
    {
      name: "sys_dictionary",
      label: "Dictionary Entry",
      displayField: "element",
      virtual: true,
      access: { read: API_ADMIN },
      columns: [
        ["name", "string", { label: "Table" }],
        ["element", "string", { label: "Column name" }],
        ["column_label", "string"],
        ["internal_type", "string", { label: "Type" }],
        ["reference", "string"],
        ["mandatory", "boolean"],
        ["unique", "boolean"],
        ["read_only", "boolean"],
        ["max_length", "integer"],
        ["default_value", "string"],
        ["active", "boolean"],
      ],
    },
    {
      name: "sys_db_object",
      label: "Table",
      displayField: "name",
      virtual: true,
      access: { read: API_ADMIN },
      columns: [
        ["name", "string"],
        ["label", "string"],
        ["super_class", "reference", { reference: "sys_db_object", label: "Extends table" }],
      ],
    },
  ];
}

export class Schema {
  readonly tables = new Map<string, TableDef>();
  /** table -> itself and every table extending it, transitively */
  private readonly family = new Map<string, string[]>();

  constructor(readonly columns: SchemaColumns) {
    const specs = tableSpecs(columns);
    const byName = new Map(specs.map((s) => [s.name, s]));
    const build = (spec: TableSpec): TableDef => {
      const existing = this.tables.get(spec.name);
      if (existing) return existing;
      const fields = new Map<string, FieldDef>();
      if (spec.superClass) {
        const parent = build(byName.get(spec.superClass)!);
        for (const [k, v] of parent.fields) fields.set(k, v);
      } else {
        for (const c of SYSTEM_COLUMNS) fields.set(c[0], toField(c, spec.name));
      }
      for (const c of spec.columns) fields.set(c[0], toField(c, spec.name));
      const def: TableDef = {
        name: spec.name,
        label: spec.label,
        superClass: spec.superClass,
        fields,
        displayField: spec.displayField,
        display: spec.display,
        access: spec.access,
        tokenPlugin: spec.tokenPlugin,
        connectorPlugin: spec.connectorPlugin,
        virtual: spec.virtual,
        numberPrefix: spec.numberPrefix,
      };
      this.tables.set(spec.name, def);
      return def;
    };
    for (const s of specs) build(s);
    for (const name of this.tables.keys()) {
      const members: string[] = [];
      for (const t of this.tables.values()) if (this.extendsTable(t.name, name)) members.push(t.name);
      this.family.set(name, members);
    }
  }

  get(table: string): TableDef | undefined {
    return this.tables.get(table);
  }

  /** Whether `table` is `ancestor` or extends it. */
  extendsTable(table: string, ancestor: string): boolean {
    for (let t: string | undefined = table; t; t = this.tables.get(t)?.superClass) if (t === ancestor) return true;
    return false;
  }

  familyOf(table: string): string[] {
    return this.family.get(table) ?? [table];
  }

  /** Display value of a record of `table` (as stored in its own class). */
  displayOf(def: TableDef, r: Record<string, string>): string {
    if (def.display) return def.display(r);
    if (def.displayField) return r[def.displayField] ?? "";
    return r.sys_id ?? "";
  }
}

function toField(c: Col, declaredOn: string): FieldDef {
  const [name, type, extra] = c;
  return {
    name,
    type,
    label: extra?.label ?? labelOf(name),
    reference: extra?.reference,
    mandatory: extra?.mandatory,
    unique: extra?.unique,
    maxLength: extra?.maxLength ?? (type === "boolean" ? 40 : type === "reference" || type === "GUID" ? 32 : 255),
    defaultValue: extra?.defaultValue,
    readOnly: extra?.readOnly,
    declaredOn,
    choices: extra?.choices,
  };
}
