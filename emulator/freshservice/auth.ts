/** Freshservice's Basic auth: the agent's API key as the user name, any password. */
import type { AccountState, AgentEntry } from "./state";

/** The key from `Authorization: Basic base64(<key>:<anything>)`. */
function keyFromAuthorization(h: string | undefined): string | undefined {
  if (!h || h.length > 2048) return undefined;
  const m = /^Basic ([A-Za-z0-9+/=]{4,2000})$/i.exec(h.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const i = decoded.indexOf(":");
  const user = i < 0 ? decoded : decoded.slice(0, i);
  return user.length > 0 ? user : undefined;
}

/** The agent whose key the request carries, or undefined when it carries none that works. */
export function authenticate(account: Pick<AccountState, "authenticate">, authorization: string | string[] | undefined): AgentEntry | undefined {
  const key = keyFromAuthorization(typeof authorization === "string" ? authorization : undefined);
  return key === undefined ? undefined : account.authenticate(key);
}
