/** The emulated Freshservice account: agents, roles, API keys, tickets. */
import { randomBytes } from "node:crypto";
import type { AgentRecord, AgentRole, RoleRecord } from "./types";

export interface RoleEntry extends RoleRecord {
  /** Holders may create, change, deactivate and forget agents. Not exposed by the API. */
  manageAgents: boolean;
}

export interface AgentEntry extends AgentRecord {
  /** The "API Key" toggle on the agent's Permissions tab. Not exposed by the API. */
  apiKeyEnabled: boolean;
}

export interface TicketEntry {
  id: number;
  subject: string;
  status: number;
  priority: number;
  created_at: string;
  updated_at: string;
}

const MAX_KEYS = 1000;
const SEED_TIME = "2024-01-15T09:00:00Z";

export class AccountState {
  roles = new Map<number, RoleEntry>();
  agents = new Map<number, AgentEntry>();
  /** key -> agent id */
  keys = new Map<string, number>();
  tickets: TicketEntry[] = [];
  modules = { tickets: true };
  adminAgentId = 0;
  private nextAgentId = 1000;
  private nextRoleId = 1;

  constructor(
    readonly domain: string,
    private readonly clock: () => number,
  ) {
    this.seed();
  }

  nowIso(): string {
    return new Date(this.clock()).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  seed(): void {
    this.roles.clear();
    this.agents.clear();
    this.keys.clear();
    this.nextAgentId = 1000;
    this.nextRoleId = 1;
    const admin = this.addRole("Account Admin", "Full access to the account, billing and admin settings", true, true);
    this.addRole("Admin", "Manages the service desk configuration and agents", true, true);
    this.addRole("SD Supervisor", "Oversees agents and their work", false, true);
    this.addRole("SD Agent", "Works on tickets, problems and changes", false, true);
    const a = this.createAgent({
      email: `admin@${this.domain}.example`,
      first_name: "Account",
      last_name: "Admin",
      roles: [{ role_id: admin.id, assignment_scope: "entire_helpdesk", groups: [] }],
    });
    a.has_logged_in = true;
    a.apiKeyEnabled = true;
    this.adminAgentId = a.id;
    this.tickets = [1, 2, 3].map((n) => ({
      id: n,
      subject: `Seeded ticket ${n}`,
      status: 2,
      priority: 1 + (n % 3),
      created_at: SEED_TIME,
      updated_at: SEED_TIME,
    }));
    this.modules = { tickets: true };
  }

  addRole(name: string, description: string, manageAgents: boolean, isDefault = false): RoleEntry {
    const r: RoleEntry = {
      id: this.nextRoleId++,
      name,
      description,
      default: isDefault,
      created_at: SEED_TIME,
      updated_at: SEED_TIME,
      manageAgents,
    };
    this.roles.set(r.id, r);
    return r;
  }

  createAgent(f: {
    email: string;
    first_name: string;
    last_name?: string | null;
    job_title?: string | null;
    occasional?: boolean;
    roles?: AgentRole[];
    department_ids?: number[];
  }): AgentEntry {
    const now = this.nowIso();
    const a: AgentEntry = {
      id: this.nextAgentId++,
      first_name: f.first_name,
      last_name: f.last_name ?? null,
      email: f.email,
      job_title: f.job_title ?? null,
      occasional: f.occasional ?? false,
      active: true,
      department_ids: f.department_ids ?? [],
      roles: f.roles ?? [],
      member_of: [],
      observer_of: [],
      has_logged_in: false,
      last_login_at: null,
      created_at: now,
      updated_at: now,
      apiKeyEnabled: false,
    };
    this.agents.set(a.id, a);
    return a;
  }

  findAgentByEmail(email: string): AgentEntry | undefined {
    const e = email.toLowerCase();
    for (const a of this.agents.values()) if (a.email.toLowerCase() === e) return a;
    return undefined;
  }

  issueKey(agentId: number): string {
    if (this.keys.size >= MAX_KEYS) throw new Error("emulator key limit reached");
    const key = randomBytes(15).toString("base64url");
    this.keys.set(key, agentId);
    return key;
  }

  keysOf(agentId: number): string[] {
    return [...this.keys.entries()].filter(([, id]) => id === agentId).map(([k]) => k);
  }

  /** The agent a key authenticates, or undefined when the key is unknown, disabled or its agent inactive. */
  authenticate(key: string): AgentEntry | undefined {
    const id = this.keys.get(key);
    if (id === undefined) return undefined;
    const a = this.agents.get(id);
    if (!a || !a.active || !a.apiKeyEnabled) return undefined;
    return a;
  }

  canManageAgents(a: AgentEntry): boolean {
    return a.roles.some((r) => this.roles.get(r.role_id)?.manageAgents === true);
  }
}

/** The API view of an agent: internal flags removed, arrays copied. */
export function publicAgent(a: AgentEntry): AgentRecord {
  const { apiKeyEnabled: _hidden, ...rest } = a;
  return {
    ...rest,
    department_ids: [...a.department_ids],
    roles: a.roles.map((r) => ({ ...r, groups: [...r.groups] })),
    member_of: [...a.member_of],
    observer_of: [...a.observer_of],
  };
}

export function publicRole(r: RoleEntry): RoleRecord {
  const { manageAgents: _hidden, ...rest } = r;
  return { ...rest };
}
