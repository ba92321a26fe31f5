/** The agent routes: list and read; create, update, deactivate, reactivate and forget for managing roles. */
import { readJson } from "./http";
import { listReply, unknownParams } from "./paging";
import { codeReply, notFound, validationReply, type Reply } from "./reply";
import type { ApiHandler, ApiRequest } from "./request";
import { publicAgent, type AccountState, type AgentEntry } from "./state";
import { parseAgentBody, parseAgentQuery, type AgentFilters, type AgentInput, type FieldError } from "./validation";

/** The parts of the account the agent routes read and change. */
export type AgentAccount = Pick<AccountState, "agents" | "roles" | "keys" | "keysOf" | "findAgentByEmail" | "createAgent" | "canManageAgents" | "nowIso">;

export interface AgentLimits {
  maxAgents: number;
  maxBodyBytes: number;
}

export function agentHandlers(account: AgentAccount, limits: AgentLimits): [string, ApiHandler][] {
  return [
    ["GET /agents", (r) => listAgents(account, r)],
    ["GET /agents/{id}", (r) => getAgent(account, r)],
    ["POST /agents", (r) => createAgent(account, limits, r)],
    ["PUT /agents/{id}", (r) => updateAgent(account, limits, r)],
    ["DELETE /agents/{id}", (r) => deactivateAgent(account, r)],
    ["PUT /agents/{id}/reactivate", (r) => reactivateAgent(account, r)],
    ["DELETE /agents/{id}/forget", (r) => forgetAgent(account, r)],
  ];
}

/** The list filters as given; `bad` names each one that is malformed. */
interface AgentListFilters {
  bad: FieldError[];
  email: string | null;
  active: string | null;
  state: string | null;
  clauses: AgentFilters["clauses"] | undefined;
}

function readAgentFilters(q: URLSearchParams): AgentListFilters {
  const bad = unknownParams(q, ["page", "per_page", "email", "active", "state", "query"]);
  const email = q.get("email");
  const active = q.get("active");
  const state = q.get("state");
  const query = q.get("query");
  if (active !== null && active !== "true" && active !== "false") bad.push({ field: "active", message: "It should be true or false", code: "invalid_value" });
  if (state !== null && state !== "fulltime" && state !== "occasional")
    bad.push({ field: "state", message: "It should be fulltime or occasional", code: "invalid_value" });
  const clauses = query === null ? [] : parseAgentQuery(query);
  if (clauses === undefined) bad.push({ field: "query", message: "It should be field:'value' terms joined by AND", code: "invalid_value" });
  if (email !== null && email.length > 254) bad.push({ field: "email", message: "It is too long", code: "invalid_value" });
  return { bad, email, active, state, clauses };
}

function listAgents(account: AgentAccount, r: ApiRequest): Reply {
  const { bad, email, active, state, clauses } = readAgentFilters(r.query);
  if (bad.length) return validationReply(bad);
  let list = [...account.agents.values()];
  if (email !== null) list = list.filter((a) => a.email.toLowerCase() === email.toLowerCase());
  if (active !== null) list = list.filter((a) => a.active === (active === "true"));
  if (state !== null) list = list.filter((a) => a.occasional === (state === "occasional"));
  for (const c of clauses ?? []) {
    list = list.filter((a) => {
      const v = (a as unknown as Record<string, unknown>)[c.field];
      return typeof v === "string" && typeof c.value === "string" ? v.toLowerCase() === c.value.toLowerCase() : v === c.value;
    });
  }
  return listReply(list, r, "agents", publicAgent);
}

function getAgent(account: AgentAccount, r: ApiRequest): Reply {
  const a = account.agents.get(r.id!);
  if (!a) return notFound();
  return { status: 200, body: { agent: publicAgent(a) } };
}

/** The 403 for a caller whose roles do not manage agents; undefined when they do. */
function refuseNonManager(account: AgentAccount, r: ApiRequest): Reply | undefined {
  if (account.canManageAgents(r.agent)) return undefined;
  r.req.resume();
  return codeReply(403, "access_denied");
}

function emailTaken(): Reply {
  return validationReply([{ field: "email", message: "An agent or requester already uses this email", code: "duplicate_value" }], 409);
}

async function createAgent(account: AgentAccount, limits: AgentLimits, r: ApiRequest): Promise<Reply> {
  const refused = refuseNonManager(account, r);
  if (refused) return refused;
  const body = await readJson(r.req, limits.maxBodyBytes);
  if (!body.ok) return body.reply;
  const parsed = parseAgentBody(body.value, "create", account);
  if (!parsed.ok) return validationReply(parsed.errors);
  const v = parsed.value;
  if (account.findAgentByEmail(v.email!)) return emailTaken();
  if (account.agents.size >= limits.maxAgents) return codeReply(409, "inconsistent_state", "The account has no room for more agents.");
  const a = account.createAgent({
    email: v.email!,
    first_name: v.first_name!,
    last_name: v.last_name,
    job_title: v.job_title,
    occasional: v.occasional,
    roles: v.roles,
    department_ids: v.department_ids,
  });
  return { status: 201, body: { agent: publicAgent(a) } };
}

async function updateAgent(account: AgentAccount, limits: AgentLimits, r: ApiRequest): Promise<Reply> {
  const refused = refuseNonManager(account, r);
  if (refused) return refused;
  const a = account.agents.get(r.id!);
  if (!a) {
    r.req.resume();
    return notFound();
  }
  const body = await readJson(r.req, limits.maxBodyBytes);
  if (!body.ok) return body.reply;
  const parsed = parseAgentBody(body.value, "update", account);
  if (!parsed.ok) return validationReply(parsed.errors);
  const v = parsed.value;
  if (v.email !== undefined) {
    const other = account.findAgentByEmail(v.email);
    if (other && other.id !== a.id) return emailTaken();
  }
  applyAgentChanges(a, v);
  a.updated_at = account.nowIso();
  return { status: 200, body: { agent: publicAgent(a) } };
}

/** An update sets only the fields it names. */
function applyAgentChanges(a: AgentEntry, v: AgentInput): void {
  if (v.email !== undefined) a.email = v.email;
  if (v.first_name !== undefined) a.first_name = v.first_name;
  if (v.last_name !== undefined) a.last_name = v.last_name;
  if (v.job_title !== undefined) a.job_title = v.job_title;
  if (v.occasional !== undefined) a.occasional = v.occasional;
  if (v.department_ids !== undefined) a.department_ids = v.department_ids;
  if (v.roles !== undefined) a.roles = v.roles;
}

/** DELETE /agents/{id} deactivates: the agent stays, inactive, and its keys stop working. */
function deactivateAgent(account: AgentAccount, r: ApiRequest): Reply {
  const refused = refuseNonManager(account, r);
  if (refused) return refused;
  const a = account.agents.get(r.id!);
  if (!a) return notFound();
  if (a.id === r.agent.id) return codeReply(409, "inconsistent_state", "An agent cannot deactivate itself.");
  a.active = false;
  a.updated_at = account.nowIso();
  return { status: 204 };
}

function reactivateAgent(account: AgentAccount, r: ApiRequest): Reply {
  const refused = refuseNonManager(account, r);
  if (refused) return refused;
  r.req.resume();
  const a = account.agents.get(r.id!);
  if (!a) return notFound();
  a.active = true;
  a.updated_at = account.nowIso();
  return { status: 200, body: { agent: publicAgent(a) } };
}

/** Forgetting removes the agent and every key it had. */
function forgetAgent(account: AgentAccount, r: ApiRequest): Reply {
  const refused = refuseNonManager(account, r);
  if (refused) return refused;
  const a = account.agents.get(r.id!);
  if (!a) return notFound();
  if (a.id === r.agent.id) return codeReply(409, "inconsistent_state", "An agent cannot forget itself.");
  account.agents.delete(a.id);
  for (const k of account.keysOf(a.id)) account.keys.delete(k);
  return { status: 204 };
}
