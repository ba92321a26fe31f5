/** Public types of the ServiceNow emulator. Other code depends on these names. */

type Variant3 = "active" | "inactive" | "absent";
type TokenReadback = "none" | "display_value" | "input_display_value" | "both";
/** What a POST answers when its chosen sys_id is taken; the platform's answer is undocumented. */
export type DuplicateSysIdStatus = 403 | 400 | 409;

export interface EmulatorOptions {
  /** Default 0: the system picks a free port. */
  port?: number;
  /** JSON snapshot for persistence; absent = memory only. */
  dataFile?: string;
  /** Password of the seeded `admin` user; default "admin". */
  adminPassword?: string;
  /** `com.glide.tokenbased_auth`: "absent" = no sys_plugins row and the plugin's tables answer 400. */
  plugin?: Variant3;
  /**
   * The Event Management Connectors plugin (`sn_em_connector`): "inactive" = its sys_plugins row
   * and REST API inactive, `/api/sn_em_connector/em/…` an unknown resource, its tables absent.
   */
  eventManagement?: "active" | "inactive";
  /** The shipped "Table GET API Access Policy" and "Table POST API Access Policy". */
  shippedPolicies?: "active" | "inactive";
  /** The "Rest api key policy" http_key_auth profile named by the connector guide; default "absent". */
  restApiKeyProfile?: Variant3;
  /** Basic auth refused unless the user has snc_basic_auth_api_access or web_service_access_only=true. */
  basicAuthRestriction?: boolean;
  /** Which untested routes to the api_key token work; default "none". */
  tokenReadback?: TokenReadback;
  /** `type` of the query-variant sys_token_auth_parameter row; default "query_parameter". */
  queryParameterType?: string;
  /** Per-hour limit column of sys_rate_limit_rules; default "max_requests_per_hour". */
  rateLimitColumn?: string;
  /** api_key's auth-scope glide_list column; default "auth_scope". */
  authScopeColumn?: string;
  faults?: FaultSettings;
  /** Largest accepted request body; default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest file the Attachment API accepts; default 25 MiB. */
  maxAttachmentBytes?: number;
  /** Status of the "Operation Failed" answer to an insert whose sys_id exists; default 403. */
  duplicateSysIdStatus?: DuplicateSysIdStatus;
  /**
   * Whether an insert keeps the sys_id the client sent (`honoured`, confirmed on real instances
   * by ServiceNow's own Python client) or makes its own (`ignored`: an instance or a table
   * whose insert logic does not take it). Default `honoured`.
   */
  clientSysIds?: "honoured" | "ignored";
}

export interface FaultFilter {
  methods?: string[];
  table?: string;
}

export interface FaultSettings {
  latencyMs?: number;
  jitterMs?: number;
  /** Share (0..1) of requests answered 500/502/503, spread evenly by a counter per method and table (deterministic). */
  errorRate?: number;
  failNext?: { count: number; status: number; retryAfterSeconds?: number } & FaultFilter;
  dropNext?: { count: number } & FaultFilter;
  commitThenFailNext?: { count: number; mode: "drop" | "500" } & FaultFilter;
  /** Hold the next N matching writes uncommitted, commit each delayMs after it arrived, never answer. */
  lateCommitNext?: { count: number; delayMs: number } & FaultFilter;
  /** Send the status, headers and part of the body of the next N matching answers, then cut the connection. */
  resetMidBodyNext?: { count: number } & FaultFilter;
}

export interface EmulatorMetrics {
  total: number;
  byMethod: Record<string, number>;
  /** table -> method -> count */
  byTable: Record<string, Record<string, number>>;
  /** e.g. "POST /oauth_token.do", "POST em/inbound_event", "GET now/table/{sys_id}" */
  byRoute: Record<string, number>;
}

/** A stored record: every value is a string, as on the wire. */
export type GlideRecord = Record<string, string>;

export interface EmulatorStore {
  get(table: string, sysId: string): GlideRecord | undefined;
  query(table: string, predicate?: (r: GlideRecord) => boolean): GlideRecord[];
  insert(table: string, fields: Record<string, unknown>): GlideRecord;
  update(table: string, sysId: string, fields: Record<string, unknown>): GlideRecord | undefined;
  delete(table: string, sysId: string): boolean;
}

export interface RunningEmulator {
  url: string;
  stop(): Promise<void>;
  metrics(): EmulatorMetrics;
  resetMetrics(): void;
  setFaults(f: FaultSettings): void;
  /** Resolves once every late commit taken has landed, been refused or been cancelled. */
  lateWritesSettled(): Promise<void>;
  setOptions(o: Partial<EmulatorOptions>): void;
  reset(): void;
  store: EmulatorStore;
  tokenOf(apiKeySysId: string): string | undefined;
}
