/** The role routes: read only, as in the API (roles are made in the UI). */
import { listReply, unknownParams } from "./paging";
import { notFound, validationReply, type Reply } from "./reply";
import type { ApiHandler, ApiRequest } from "./request";
import { publicRole, type AccountState } from "./state";

export type RoleAccount = Pick<AccountState, "roles">;

export function roleHandlers(account: RoleAccount): [string, ApiHandler][] {
  return [
    ["GET /roles", (r) => listRoles(account, r)],
    ["GET /roles/{id}", (r) => getRole(account, r)],
  ];
}

function listRoles(account: RoleAccount, r: ApiRequest): Reply {
  const bad = unknownParams(r.query, ["page", "per_page"]);
  if (bad.length) return validationReply(bad);
  return listReply([...account.roles.values()], r, "roles", publicRole);
}

function getRole(account: RoleAccount, r: ApiRequest): Reply {
  const role = account.roles.get(r.id!);
  if (!role) return notFound();
  return { status: 200, body: { role: publicRole(role) } };
}
