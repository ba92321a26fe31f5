/** Users and their roles, cached until sys_user / sys_user_has_role / sys_user_role change. */
import type { Store } from "../store";
import type { GlideRecord } from "../types";
import type { RoleRule } from "../schema";
import { verifyPassword } from "../writeRules";

const BASIC_CACHE_SIZE = 1000;

export class Directory {
  private byNameVersion = -1;
  private byName = new Map<string, GlideRecord>();
  private rolesVersion = -1;
  private roles = new Map<string, Set<string>>();

  /** Authorization header -> the user row it was verified against (rows are replaced on change, so identity means unchanged). */
  private basicCache = new Map<string, GlideRecord>();

  constructor(private readonly store: Store) {}

  /** The active user whose name and password a Basic Authorization header carries. */
  verifyBasic(header: string): GlideRecord | undefined {
    const hit = this.basicCache.get(header);
    if (hit && this.userByName(hit.user_name) === hit && userUsable(hit)) return hit;
    const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i <= 0) return undefined;
    const user = this.userByName(decoded.slice(0, i));
    if (!userUsable(user) || !user.user_password || !verifyPassword(user.user_password, decoded.slice(i + 1))) return undefined;
    if (this.basicCache.size >= BASIC_CACHE_SIZE) this.basicCache.clear();
    this.basicCache.set(header, user);
    return user;
  }

  userByName(userName: string): GlideRecord | undefined {
    const v = this.store.version("sys_user");
    if (v !== this.byNameVersion) {
      this.byName.clear();
      for (const u of this.store.scan("sys_user")) if (!this.byName.has(u.user_name)) this.byName.set(u.user_name, u);
      this.byNameVersion = v;
    }
    return this.byName.get(userName);
  }

  user(sysId: string): GlideRecord | undefined {
    return this.store.get("sys_user", sysId);
  }

  /** Names of the roles granted to a user (active grants only). */
  rolesOf(userId: string): Set<string> {
    const v = this.store.version("sys_user_has_role") * 1_000_003 + this.store.version("sys_user_role");
    if (v !== this.rolesVersion) {
      this.roles.clear();
      this.rolesVersion = v;
    }
    let set = this.roles.get(userId);
    if (!set) {
      set = new Set();
      for (const g of this.store.scan("sys_user_has_role")) {
        if (g.user !== userId || (g.state !== "active" && g.state !== "")) continue;
        const role = this.store.get("sys_user_role", g.role);
        if (role) set.add(role.name);
      }
      this.roles.set(userId, set);
    }
    return set;
  }
}

/** Whether a set of roles satisfies a rule; `admin` satisfies every rule that allows anyone at all. */
export function rolesAllow(roles: Set<string>, rule: RoleRule | undefined): boolean {
  if (!rule) return false;
  if (roles.has("admin")) return true;
  return rule.some((set) => set.every((r) => roles.has(r)));
}

/** An active, unlocked user. */
export function userUsable(u: GlideRecord | undefined): u is GlideRecord {
  return !!u && u.active === "true" && u.locked_out !== "true";
}
