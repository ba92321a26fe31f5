/**
 * The shapes of the emulator's schema: a column's and a table's definition as the emulator
 * uses them (FieldDef, TableDef), as the table modules beside this one declare them (Col,
 * TableSpec), and the role rules those declarations share.
 */

export type FieldType =
  "GUID" | "string" | "boolean" | "integer" | "reference" | "glide_date_time" | "glide_list" | "choice" | "password" | "password2" | "sys_class_name";

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

export const ANY: RoleRule = [[]];
export const API_ADMIN: RoleRule = [["api_service_admin", "adaptive_auth_policy_admin"]];
export const ADMIN_ONLY: RoleRule = [];
export const ITIL: RoleRule = [["itil"]];
export const USER_ADMIN: RoleRule = [["user_admin"]];
export const EVENT_READ: RoleRule = [["evt_mgmt_integration"], ["evt_mgmt_user"], ["evt_mgmt_admin"], ["itil"]];
export const EVENT_WRITE: RoleRule = [["evt_mgmt_integration"], ["evt_mgmt_admin"]];
export const EVENT_ADMIN: RoleRule = [["evt_mgmt_admin"]];

export const SECURITY: TableAccess = { read: API_ADMIN, write: API_ADMIN };

export type Col = [name: string, type: FieldType, extra?: Partial<Omit<FieldDef, "name" | "type" | "declaredOn">>];

export interface TableSpec {
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

/** Boolean columns' stored values, as the Table API returns them. */
export const T = "true";
export const F = "false";
