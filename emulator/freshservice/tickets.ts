/** The ticket list: one of the two calls an API key is verified with (the agent list is the other), on a module an account can lack. */
import { listReply, unknownParams } from "./paging";
import { codeReply, validationReply, type Reply } from "./reply";
import type { ApiHandler, ApiRequest } from "./request";
import type { AccountState } from "./state";

export type TicketAccount = Pick<AccountState, "modules" | "tickets">;

export function ticketHandlers(account: TicketAccount): [string, ApiHandler][] {
  return [["GET /tickets", (r) => listTickets(account, r)]];
}

function listTickets(account: TicketAccount, r: ApiRequest): Reply {
  if (!account.modules.tickets) return codeReply(403, "require_feature");
  const bad = unknownParams(r.query, ["page", "per_page", "updated_since", "order_type"]);
  if (bad.length) return validationReply(bad);
  return listReply(account.tickets, r, "tickets", (t) => ({ ...t }));
}
