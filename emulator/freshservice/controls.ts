/**
 * The test controls: what a person does in the Freshservice UI (keys, agents, roles,
 * modules) and what the plan decides (rate limits), done directly on the account.
 */
import type { OffsetClock } from "./clock";
import type { RateLimiter } from "./rateLimit";
import { publicAgent, publicRole, type AccountState, type AgentEntry } from "./state";
import { PLAN_RATE_LIMITS, type RunningFreshserviceEmulator } from "./types";

const MAX_ROLES = 200;

type KeyControls = Pick<RunningFreshserviceEmulator, "addKey" | "regenerateKey" | "revokeKey" | "setApiKeyEnabled">;
type DirectoryControls = Pick<RunningFreshserviceEmulator, "addAgent" | "addRole" | "agent" | "agents" | "roles" | "setModuleEnabled">;
type LimitControls = Pick<RunningFreshserviceEmulator, "setPlan" | "setRateLimits" | "advanceClock">;

function mustAgent(account: Pick<AccountState, "agents">, id: number): AgentEntry {
  const a = account.agents.get(id);
  if (!a) throw new Error(`no agent ${id}`);
  return a;
}

export function keyControls(account: Pick<AccountState, "agents" | "adminAgentId" | "keys" | "keysOf" | "issueKey">): KeyControls {
  return {
    addKey(o = {}) {
      const agentId = o.agentId ?? account.adminAgentId;
      const a = mustAgent(account, agentId);
      a.apiKeyEnabled = true;
      return { key: account.issueKey(agentId), agentId };
    },
    regenerateKey(agentId) {
      mustAgent(account, agentId);
      for (const k of account.keysOf(agentId)) account.keys.delete(k);
      return account.issueKey(agentId);
    },
    revokeKey(key) {
      account.keys.delete(key);
    },
    setApiKeyEnabled(agentId, enabled) {
      mustAgent(account, agentId).apiKeyEnabled = enabled;
    },
  };
}

export function directoryControls(
  account: Pick<AccountState, "agents" | "roles" | "modules" | "findAgentByEmail" | "createAgent" | "addRole">,
  maxAgents: number,
): DirectoryControls {
  return {
    addAgent(a) {
      if (account.agents.size >= maxAgents) throw new Error("agent limit reached");
      if (account.findAgentByEmail(a.email)) throw new Error("email already used");
      const roles = (a.roleNames ?? ["SD Agent"]).map((n) => {
        const r = [...account.roles.values()].find((x) => x.name === n);
        if (!r) throw new Error(`no role named ${n}`);
        return { role_id: r.id, assignment_scope: "entire_helpdesk" as const, groups: [] };
      });
      const created = account.createAgent({ email: a.email, first_name: a.first_name, last_name: a.last_name, roles });
      if (a.active === false) created.active = false;
      return publicAgent(created);
    },
    addRole(r) {
      if (account.roles.size >= MAX_ROLES) throw new Error("role limit reached");
      return publicRole(account.addRole(r.name, r.description ?? "", r.manageAgents ?? false));
    },
    agent(id) {
      const a = account.agents.get(id);
      return a ? publicAgent(a) : undefined;
    },
    agents: () => [...account.agents.values()].map(publicAgent),
    roles: () => [...account.roles.values()].map(publicRole),
    setModuleEnabled(module, enabled) {
      account.modules[module] = enabled;
    },
  };
}

export function limitControls(limiter: Pick<RateLimiter, "limits">, clock: Pick<OffsetClock, "advance">): LimitControls {
  return {
    setPlan(plan) {
      limiter.limits = { ...PLAN_RATE_LIMITS[plan] };
    },
    setRateLimits(l) {
      const next = { ...limiter.limits, ...l };
      if (!(next.perMinute >= 1 && next.listAgentsPerMinute >= 1)) throw new Error("rate limits must be at least 1");
      limiter.limits = next;
    },
    advanceClock: (ms) => clock.advance(ms),
  };
}
