/** Public types of the Ivanti Service Manager emulator. */

export interface IvantiEmulatorOptions {
  /** Default 0: the system picks a free port. Always bound to 127.0.0.1. */
  port?: number;
  /** The tenant this server is, e.g. "keywire-test.ivanticloud.com" (the default). */
  tenant?: string;
  /** Serve the API under `/HEAT/api/…` instead of `/api/…`, as some tenants do. Default false. */
  heatPrefix?: boolean;
  /** Socket/request time limit in ms; default 10 s. */
  requestTimeoutMs?: number;
}

/** A REST API key as the Configuration console shows it (Configure > Security Controls > API Keys). */
export interface IvantiKeyRecord {
  /** The Reference ID: the key itself. */
  referenceId: string;
  /** The key group it lives in. */
  group: string;
  activated: boolean;
  description: string;
  /** The user the key acts for. */
  onBehalfOf: string;
  /** The role the key acts in. */
  role: string;
  /** The tenant the key was created in. */
  tenant: string;
  /** Extra IP addresses; when non-empty, calls must come from one of them. */
  ipList: string[];
}

export interface AddIvantiKeyOptions {
  /** Default "REST API"; created if missing. */
  group?: string;
  /** Default "Admin". One of the emulator's roles (see `roles()`). */
  role?: string;
  /** Default "InternalServices". */
  onBehalfOf?: string;
  /** Default true. */
  activated?: boolean;
  description?: string;
  ipList?: string[];
  /** Default the emulator's tenant. */
  tenant?: string;
}

export type IvantiKeyPatch = Partial<Pick<IvantiKeyRecord, "activated" | "description" | "onBehalfOf" | "role" | "tenant" | "ipList">>;

/** Why a request was refused, counted in metrics. */
export type RefusalReason = "missing_or_malformed" | "unknown_key" | "deactivated" | "wrong_tenant" | "ip_not_allowed" | "role_forbidden";

export interface IvantiEmulatorMetrics {
  total: number;
  byStatus: Record<string, number>;
  /** "GET businessobject/{object}", "GET $metadata", … */
  byRoute: Record<string, number>;
  refusals: Record<RefusalReason, number>;
}

export interface RunningIvantiEmulator {
  /** Tenant base URL (stands in for `https://<tenant>`); the API is under `/api` or `/HEAT/api`. */
  url: string;
  tenant: string;
  stop(): Promise<void>;
  metrics(): IvantiEmulatorMetrics;
  resetMetrics(): void;
  /** Back to the seeded state: records, no keys or groups, no faults, real client IP, start-time prefix. */
  reset(): void;

  addKeyGroup(name: string, description?: string): void;
  keyGroups(): { name: string; description: string }[];
  /** A person creates a key in the console; returns it with its Reference ID. */
  addKey(o?: AddIvantiKeyOptions): IvantiKeyRecord;
  /** A person edits the key (Activated, role, IP list, …). */
  editKey(referenceId: string, patch: IvantiKeyPatch): IvantiKeyRecord;
  deleteKey(referenceId: string): void;
  keys(): IvantiKeyRecord[];
  /** Roles and the business objects each may read. */
  roles(): Record<string, string[]>;
  /** The client address the server believes it sees; undefined = the socket's. */
  setClientIp(ip: string | undefined): void;
  setHeatPrefix(on: boolean): void;
  /** Adds a record to a business object; returns its RecId. */
  addRecord(object: string, fields: Record<string, string | number | boolean | null>): string;
  /** The next `count` API requests get `status` with an ISM error body. */
  failNext(f: { count: number; status: number; retryAfterSeconds?: number }): void;
}
