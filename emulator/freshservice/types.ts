/** Public types of the Freshservice emulator. */

export type FreshservicePlan = "starter" | "growth" | "pro" | "enterprise";

export interface RateLimits {
  /** Calls per minute for the whole account. */
  perMinute: number;
  /** Separate per-minute ceiling for `GET /agents` (list) calls, which also count to `perMinute`. */
  listAgentsPerMinute: number;
}

/** The plan figures the emulator uses; they follow the published plan table. */
export const PLAN_RATE_LIMITS: Readonly<Record<FreshservicePlan, RateLimits>> = {
  starter: { perMinute: 100, listAgentsPerMinute: 40 },
  growth: { perMinute: 200, listAgentsPerMinute: 70 },
  pro: { perMinute: 400, listAgentsPerMinute: 120 },
  enterprise: { perMinute: 500, listAgentsPerMinute: 140 },
};

export type AssignmentScope = "entire_helpdesk" | "member_groups" | "specified_groups" | "assigned_items";

export interface FreshserviceEmulatorOptions {
  /** Default 0: the system picks a free port. Always bound to 127.0.0.1. */
  port?: number;
  /** The account's subdomain (`<domain>.freshservice.com`); only reported, default "keywire-test". */
  domain?: string;
  /** Default "growth". */
  plan?: FreshservicePlan;
  /** Overrides the plan's figures. */
  rateLimits?: Partial<RateLimits>;
  /** Clock in ms; default Date.now. `advanceClock` adds to it. */
  now?: () => number;
  /** Largest accepted request body; default 64 KiB. */
  maxBodyBytes?: number;
  /** Most agents the account can hold; default 1000. */
  maxAgents?: number;
  /** Socket/request time limit in ms; default 10 s. */
  requestTimeoutMs?: number;
}

export interface AgentRole {
  role_id: number;
  assignment_scope: AssignmentScope;
  groups: number[];
}

/** An agent as the API returns it. */
export interface AgentRecord {
  id: number;
  first_name: string;
  last_name: string | null;
  email: string;
  job_title: string | null;
  occasional: boolean;
  active: boolean;
  department_ids: number[];
  roles: AgentRole[];
  member_of: number[];
  observer_of: number[];
  has_logged_in: boolean;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface RoleRecord {
  id: number;
  name: string;
  description: string;
  default: boolean;
  created_at: string;
  updated_at: string;
}

export interface FreshserviceEmulatorMetrics {
  total: number;
  /** "200" -> count */
  byStatus: Record<string, number>;
  /** "GET /agents", "PUT /agents/{id}/reactivate", … -> count */
  byRoute: Record<string, number>;
  /** Answers with 429. */
  rateLimited: number;
  /** Answers with 401. */
  authFailures: number;
}

interface AddKeyOptions {
  /** The agent the key belongs to; default the seeded Account Admin. */
  agentId?: number;
}

export interface FailNext {
  count: number;
  status: number;
  retryAfterSeconds?: number;
  /** Only requests whose path (after /api/v2) starts with this. */
  pathPrefix?: string;
}

export interface RunningFreshserviceEmulator {
  /** Base URL standing in for `https://<domain>.freshservice.com`; the API is under `/api/v2`. */
  url: string;
  domain: string;
  stop(): Promise<void>;
  metrics(): FreshserviceEmulatorMetrics;
  resetMetrics(): void;
  /** Back to the seeded state: agents, roles, no keys, fresh rate windows, no faults. */
  reset(): void;

  /** The agent turns on API access and reads the key in Profile Settings (a person does this in the UI). */
  addKey(o?: AddKeyOptions): { key: string; agentId: number };
  /** The agent regenerates the key: the old one stops working. Returns the new key. */
  regenerateKey(agentId: number): string;
  /** The key stops working (deleted/regenerated elsewhere). */
  revokeKey(key: string): void;
  /** An Account Admin turns the API key off (or on) on the agent's Permissions tab. */
  setApiKeyEnabled(agentId: number, enabled: boolean): void;
  /** Adds an agent directly (as an admin would in the UI). */
  addAgent(a: { email: string; first_name: string; last_name?: string; roleNames?: string[]; active?: boolean }): AgentRecord;
  /** Adds a role; `manageAgents` lets its holders create, change and deactivate agents. */
  addRole(r: { name: string; description?: string; manageAgents?: boolean }): RoleRecord;
  agent(id: number): AgentRecord | undefined;
  agents(): AgentRecord[];
  roles(): RoleRecord[];
  adminAgentId: number;

  setPlan(plan: FreshservicePlan): void;
  setRateLimits(l: Partial<RateLimits>): void;
  /** Moves the emulator's clock forward (rate-limit windows). */
  advanceClock(ms: number): void;
  /** Turns a module off: its endpoints answer 403 `require_feature`. */
  setModuleEnabled(module: "tickets", enabled: boolean): void;
  /** The next `count` matching requests get `status` with the documented body (429 carries Retry-After). */
  failNext(f: FailNext): void;
}
