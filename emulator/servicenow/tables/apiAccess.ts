/**
 * API keys and the REST API access they are judged by: the key, its token parameter,
 * inbound auth profiles (API key, basic), access policies and their profile mappings, auth
 * scopes, rate-limit rules and OAuth clients. Two column names come from the options
 * (SchemaColumns): nobody has confirmed them.
 */
import { type SchemaColumns, type TableSpec, F, SECURITY, T } from "./definitions";

const QUERY_TYPE_LABELS: Record<string, string> = { auth_header: "Auth Header" };

export function apiAccessTables(cols: SchemaColumns): TableSpec[] {
  return [
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
  ];
}
