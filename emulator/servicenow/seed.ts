/** The records of a fresh instance, and the switches that vary them. */
import type { ResolvedOptions } from "./options";
import type { Store } from "./store";
import type { GlideRecord } from "./types";
import type { WriteContext } from "./writeContext";

const TOKEN_PLUGIN_ID = "com.glide.tokenbased_auth";
/** "Event Management Connectors (sn_em_connector)", the plugin the AWS integration guide requires. */
const CONNECTOR_PLUGIN_ID = "sn_em_connector";
const CONNECTOR_PLUGIN_NAME = "Event Management Connectors";
const EVENT_MANAGEMENT_API_NAME = "Event Management Connector API";
/** The API path of the push connector endpoint, as policies name it. */
export const EVENT_MANAGEMENT_API = "sn_em_connector/em";
export const BASIC_PROFILE_NAME = "BasicAuth for none public processors ";
const OAUTH_PROFILE_NAME = "OAuth inbound profile";
const REST_API_KEY_PROFILE_NAME = "Rest api key policy";
const SHIPPED_POLICY_NAMES = ["Table GET API Access Policy", "Table POST API Access Policy"] as const;
const SHIPPED_POLICY_TABLES = "incident,problem,change_request,task,sys_user,sys_user_group,cmdb_ci";
export const PUSH_INSTANCE_NAME = "AWS SNS push connector";

const SEED_CTX: WriteContext = { userName: "system", trusted: true, acceptToken: true };

const SEED_ROLES: Array<[string, string]> = [
  ["admin", "Full access to the instance"],
  ["itil", "Fulfiller access to incidents, problems and changes"],
  ["evt_mgmt_integration", "Sends events to Event Management"],
  ["evt_mgmt_user", "Reads Event Management records"],
  ["evt_mgmt_admin", "Administers Event Management"],
  ["api_service_admin", "Manages API keys, inbound authentication profiles and REST API policies"],
  ["adaptive_auth_policy_admin", "Manages authentication policies"],
  ["snc_basic_auth_api_access", "Allowed to use basic authentication when Basic Auth Restriction is on"],
  ["user_admin", "Manages users and groups"],
];

function ins(store: Store, table: string, fields: Record<string, unknown>): GlideRecord {
  return store.insert(store.schema.get(table)!, fields, SEED_CTX);
}

function findOne(store: Store, table: string, pred: (r: GlideRecord) => boolean): GlideRecord | undefined {
  for (const r of store.scan(table)) if (pred(r)) return r;
  return undefined;
}

export function seedStore(store: Store, opts: ResolvedOptions): void {
  store.clear();
  const roles = new Map<string, string>();
  for (const [name, description] of SEED_ROLES) roles.set(name, ins(store, "sys_user_role", { name, description }).sys_id);

  const admin = ins(store, "sys_user", {
    user_name: "admin",
    first_name: "System",
    last_name: "Administrator",
    email: "admin@example.com",
    user_password: opts.adminPassword,
  });
  ins(store, "sys_user_has_role", { user: admin.sys_id, role: roles.get("admin") });
  const caller = ins(store, "sys_user", { user_name: "abel.tuter", first_name: "Abel", last_name: "Tuter", email: "abel.tuter@example.com" });
  const group = ins(store, "sys_user_group", { name: "Service Desk", description: "First line support" });
  const ci = ins(store, "cmdb_ci", { name: "web-01", ip_address: "10.0.0.11" });

  ins(store, "sys_plugins", { id: TOKEN_PLUGIN_ID, name: "API Key and HMAC Authentication", active: "active", version: "1.0.0" });
  ins(store, "sys_plugins", { id: CONNECTOR_PLUGIN_ID, name: CONNECTOR_PLUGIN_NAME, active: "active", version: "1.0.0" });

  const tableApi = ins(store, "sys_ws_definition", { name: "Table API", namespace: "now", service_id: "table", base_uri: "/api/now/table" });
  ins(store, "sys_ws_definition", {
    name: EVENT_MANAGEMENT_API_NAME,
    namespace: "sn_em_connector",
    service_id: "em",
    base_uri: `/api/${EVENT_MANAGEMENT_API}`,
  });
  ins(store, "sys_ws_definition", { name: "Attachment API", namespace: "now", service_id: "attachment", base_uri: "/api/now/attachment" });

  ins(store, "sys_token_auth_parameter", { parameter_name: "x-sn-apikey", type: "auth_header" });
  ins(store, "sys_token_auth_parameter", { parameter_name: "x-sn-apikey", type: opts.queryParameterType });

  const basic = ins(store, "std_http_auth", { name: BASIC_PROFILE_NAME, type: "basic_auth", active: true });
  const oauth = ins(store, "std_http_auth", { name: OAUTH_PROFILE_NAME, type: "oauth", active: true });

  for (const name of SHIPPED_POLICY_NAMES) {
    const policy = ins(store, "sys_api_access_policy", {
      name,
      active: true,
      api: tableApi.sys_id,
      api_path: "now/table",
      http_method: name.includes("GET") ? "GET" : "POST",
      apply_all: false,
      apply_all_methods: false,
      apply_all_resources: true,
      apply_all_versions: true,
      apply_all_tables: false,
      api_tablename: SHIPPED_POLICY_TABLES,
      apply_global: false,
    });
    ins(store, "sys_auth_profile_mapping", { api_access_policy: policy.sys_id, inbound_auth_profile: basic.sys_id });
    ins(store, "sys_auth_profile_mapping", { api_access_policy: policy.sys_id, inbound_auth_profile: oauth.sys_id });
  }

  ins(store, "sys_auth_scope", { name: "useraccount", label: "UserAccount", description: "Access to every API the user's roles allow" });

  const listener = ins(store, "sn_em_connector_listener", {
    name: "AWS SNS",
    source: "aws",
    active: true,
    description: "Receives Amazon SNS notifications carrying CloudWatch alarms",
  });
  ins(store, "sn_em_connector_push_instance", {
    name: PUSH_INSTANCE_NAME,
    description: "Push connector instance for AWS CloudWatch alarms through SNS",
    push_connector_definition: listener.sys_id,
    active: true,
  });

  // Priority follows from impact and urgency (the priority lookup): 1, 3 and 4 here.
  const incidents: Array<[string, number, number]> = [
    ["Email server is not responding", 1, 1],
    ["Unable to connect to VPN", 2, 2],
    ["Printer on floor 2 jams", 2, 3],
  ];
  for (const [short_description, impact, urgency] of incidents) {
    ins(store, "incident", { short_description, impact, urgency, caller_id: caller.sys_id, assignment_group: group.sys_id, cmdb_ci: ci.sys_id });
  }

  applyVariants(store, opts, ["plugin", "eventManagement", "shippedPolicies", "restApiKeyProfile", "queryParameterType"]);
}

export type VariantKey = "plugin" | "eventManagement" | "shippedPolicies" | "restApiKeyProfile" | "queryParameterType" | "adminPassword";

/** Makes the seeded rows match the given switches (also used when switches change at run time). */
export function applyVariants(store: Store, opts: ResolvedOptions, keys: VariantKey[]): void {
  const upd = (table: string, r: GlideRecord, fields: Record<string, unknown>): void => {
    store.update(store.schema.get(table)!, r.sys_id, fields, SEED_CTX);
  };
  for (const key of keys) {
    switch (key) {
      case "plugin": {
        const row = findOne(store, "sys_plugins", (r) => r.id === TOKEN_PLUGIN_ID);
        if (opts.plugin === "absent") {
          if (row) store.delete("sys_plugins", row.sys_id);
        } else if (row) {
          if (row.active !== opts.plugin) upd("sys_plugins", row, { active: opts.plugin });
        } else {
          ins(store, "sys_plugins", { id: TOKEN_PLUGIN_ID, name: "API Key and HMAC Authentication", active: opts.plugin, version: "1.0.0" });
        }
        break;
      }
      case "eventManagement": {
        const row = findOne(store, "sys_plugins", (r) => r.id === CONNECTOR_PLUGIN_ID);
        if (row) {
          if (row.active !== opts.eventManagement) upd("sys_plugins", row, { active: opts.eventManagement });
        } else {
          ins(store, "sys_plugins", { id: CONNECTOR_PLUGIN_ID, name: CONNECTOR_PLUGIN_NAME, active: opts.eventManagement, version: "1.0.0" });
        }
        // The plugin brings its REST API: without it the API's definition is inactive.
        const api = findOne(store, "sys_ws_definition", (r) => r.name === EVENT_MANAGEMENT_API_NAME);
        const active = opts.eventManagement === "active" ? "true" : "false";
        if (api && api.active !== active) upd("sys_ws_definition", api, { active });
        break;
      }
      case "shippedPolicies":
        for (const name of SHIPPED_POLICY_NAMES) {
          const row = findOne(store, "sys_api_access_policy", (r) => r.name === name);
          const active = opts.shippedPolicies === "active" ? "true" : "false";
          if (row && row.active !== active) upd("sys_api_access_policy", row, { active });
        }
        break;
      case "restApiKeyProfile": {
        const row = findOne(store, "http_key_auth", (r) => r.name === REST_API_KEY_PROFILE_NAME);
        if (opts.restApiKeyProfile === "absent") {
          if (row) store.delete("http_key_auth", row.sys_id);
        } else if (row) {
          upd("http_key_auth", row, { active: opts.restApiKeyProfile === "active" });
        } else {
          const header = findOne(store, "sys_token_auth_parameter", (r) => r.type === "auth_header");
          ins(store, "http_key_auth", {
            name: REST_API_KEY_PROFILE_NAME,
            active: opts.restApiKeyProfile === "active",
            auth_parameter: header?.sys_id ?? "",
          });
        }
        break;
      }
      case "queryParameterType": {
        const row = findOne(store, "sys_token_auth_parameter", (r) => r.parameter_name === "x-sn-apikey" && r.type !== "auth_header");
        if (row && row.type !== opts.queryParameterType) upd("sys_token_auth_parameter", row, { type: opts.queryParameterType });
        break;
      }
      case "adminPassword": {
        const admin = findOne(store, "sys_user", (r) => r.user_name === "admin");
        if (admin) upd("sys_user", admin, { user_password: opts.adminPassword });
        break;
      }
    }
  }
}
