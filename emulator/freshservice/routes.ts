/** The API's routes: which path is which route, the methods each serves, and the handler for each. */
import { agentHandlers, type AgentAccount, type AgentLimits } from "./agents";
import { codeReply, type Reply } from "./reply";
import type { ApiHandler } from "./request";
import { roleHandlers, type RoleAccount } from "./roles";
import { ticketHandlers, type TicketAccount } from "./tickets";

export interface ApiRoute {
  pattern: string;
  id?: number;
}

/** Which route a path (after /api/v2) is, for metrics, method checks and dispatch. */
export function routeOf(path: string): ApiRoute | undefined {
  let m: RegExpExecArray | null;
  if (path === "/agents") return { pattern: "/agents" };
  if ((m = /^\/agents\/(\d{1,15})$/.exec(path))) return { pattern: "/agents/{id}", id: Number(m[1]) };
  if ((m = /^\/agents\/(\d{1,15})\/reactivate$/.exec(path))) return { pattern: "/agents/{id}/reactivate", id: Number(m[1]) };
  if ((m = /^\/agents\/(\d{1,15})\/forget$/.exec(path))) return { pattern: "/agents/{id}/forget", id: Number(m[1]) };
  if (path === "/roles") return { pattern: "/roles" };
  if ((m = /^\/roles\/(\d{1,15})$/.exec(path))) return { pattern: "/roles/{id}", id: Number(m[1]) };
  if (path === "/tickets") return { pattern: "/tickets" };
  return undefined;
}

/** What a 405's Allow header lists for each route. */
export const ALLOWED_METHODS: Record<string, string[]> = {
  "/agents": ["GET", "POST"],
  "/agents/{id}": ["GET", "PUT", "DELETE"],
  "/agents/{id}/reactivate": ["PUT"],
  "/agents/{id}/forget": ["DELETE"],
  "/roles": ["GET"],
  "/roles/{id}": ["GET"],
  "/tickets": ["GET"],
};

/** The parts of the account the routes use. */
export type ApiAccount = AgentAccount & RoleAccount & TicketAccount;

/** Handlers keyed by `"<METHOD> <pattern>"`. */
export function apiHandlers(account: ApiAccount, limits: AgentLimits): ReadonlyMap<string, ApiHandler> {
  return new Map([...agentHandlers(account, limits), ...roleHandlers(account), ...ticketHandlers(account)]);
}

export function methodNotAllowed(pattern: string): Reply {
  return codeReply(405, "method_not_allowed", undefined, { Allow: (ALLOWED_METHODS[pattern] ?? []).join(", ") });
}
