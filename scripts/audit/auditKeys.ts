/**
 * The API-key audit: every `api_key` on an instance, its owner and the owner's roles,
 * whether a keywire stack manages it, and what is wrong with it.
 *
 * Reads only; the number of calls does not grow with the number of keys but with
 * pages: one listing of `api_key` (1000 rows a page), then the owners and their role
 * grants in `IN` batches. The `token` column is never requested, so no token can reach
 * the report, a log or a CI comment.
 */
import { SnRecord, TableClient, q } from "../../resources/servicenow/client";
import { KeywireError } from "../../resources/core/errors";
import { LINK_REMEDY, isChainLinkId } from "../../resources/servicenow/checks/chainLinks";

export type Severity = "high" | "medium" | "low";

export type FindingCode =
  "unmanaged" | "expired-active" | "admin-owned" | "inactive-owner" | "expiring-soon" | "no-expiry" | "no-auth-scope" | "delivery-broken";

export interface Finding {
  code: FindingCode;
  severity: Severity;
  keySysId: string;
  keyName: string;
  /** What is wrong, in one line. */
  message: string;
  /** What to do about it, in one line. */
  remediation: string;
  /** On `delivery-broken`: the broken link's id, for the chain diagram. */
  link?: string;
}

export interface KeyOwner {
  sysId: string;
  /** False when the user record does not exist (deleted, or hidden by an ACL). */
  found: boolean;
  userName: string | null;
  active: boolean | null;
  lockedOut: boolean | null;
  /** Active role grants, sorted (inherited grants included: the platform stores them as rows too). */
  roles: string[];
}

export interface AuditedKey {
  sysId: string;
  name: string;
  active: boolean;
  /** ISO 8601 UTC; null = never expires. */
  expires: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  owner: KeyOwner;
  /** Auth scope names; null when the instance did not return the column (its name is not certain). */
  authScopes: string[] | null;
  /** The stack(s) managing the key, or null. */
  managedBy: string | null;
}

export interface AuditReport {
  instance: string;
  generatedAt: string;
  keys: AuditedKey[];
  findings: Finding[];
  summary: { keys: number; managed: number; unmanaged: number; high: number; medium: number; low: number };
}

/** A broken delivery chain as a stack's state recorded it (its ApiKeyVerification, at the last up or refresh). */
export interface RecordedBreak {
  stack: string;
  /** The broken link's id (resources/servicenow/checks/chainLinks.ts). */
  linkId: string;
  /** When the record that breaks it last changed, `YYYY-MM-DD HH:MM:SS` UTC; "" when unknown. */
  since: string;
  message: string;
}

export interface AuditOptions {
  /** api_key sys_id → name of the stack that manages it. */
  managed: Map<string, string>;
  /** api_key sys_id → the broken chain its stack recorded; keys whose chain was proven are absent. */
  broken?: Map<string, RecordedBreak>;
  now?: Date;
  /** A key expiring within this many days is reported (default 14). */
  expiringWithinDays?: number;
}

export const SEVERITY_ORDER: readonly Severity[] = ["high", "medium", "low"];
export const DEFAULT_EXPIRING_WITHIN_DAYS = 14;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Ids per `IN` list: about 3.5 KB of URL, well under the 8 KB many proxies allow. */
const IN_BATCH = 100;
/** The client's own ceiling; reaching it means the listing may be cut, and a partial audit would mislead. */
const MAX_KEYS = 100_000;
const MAX_GRANTS = 100_000;
/** The auth-scope column's name is not in ServiceNow's public docs: a row without it reports its scopes as unknown (null). */
const AUTH_SCOPE = "auth_scope";
/** Never `token`: the audit must not be able to leak what it audits. */
const KEY_FIELDS = ["sys_id", "name", "active", "expires", "user", "sys_updated_on", "sys_created_on", AUTH_SCOPE];
const USER_FIELDS = ["sys_id", "user_name", "active", "locked_out"];
const GRANT_FIELDS = ["user", "role.name", "state"];
const ADMIN_ROLE = "admin";

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** ServiceNow's `YYYY-MM-DD HH:MM:SS` (UTC) as ISO 8601; null when empty or not a date. */
export function glideToIso(value: string | undefined): string | null {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec((value ?? "").trim());
  if (!m) return null;
  const d = new Date(`${m[1]}T${m[2]}Z`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.000Z$/, "Z");
}

async function listKeys(client: TableClient): Promise<SnRecord[]> {
  // Display values too: the auth scopes' names come with the key, saving a call to sys_auth_scope.
  // No query: the client orders by sys_id when it pages, a stable order (names can repeat).
  const rows = await client.list("api_key", { fields: KEY_FIELDS, limit: MAX_KEYS, displayValue: "all" });
  if (rows.length >= MAX_KEYS) {
    throw new KeywireError({
      platform: "servicenow",
      operation: "audit api keys",
      reason: `the instance holds ${MAX_KEYS} or more API keys, more than one audit run reads`,
      hint: "Delete expired and inactive keys first; the platform's cleanup job removes expired ones after some days",
    });
  }
  return rows;
}

async function listOwners(client: TableClient, ids: string[]): Promise<Map<string, SnRecord>> {
  const out = new Map<string, SnRecord>();
  for (const batch of batches(ids, IN_BATCH)) {
    const rows = await client.list("sys_user", { query: q().in("sys_id", batch).build(), fields: USER_FIELDS, limit: batch.length });
    for (const r of rows) out.set(r.sys_id, r);
  }
  return out;
}

async function listRoles(client: TableClient, ids: string[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const batch of batches(ids, IN_BATCH)) {
    // An admin holds hundreds of inherited grants: this listing pages, the others rarely do.
    const rows = await client.list("sys_user_has_role", { query: q().in("user", batch).build(), fields: GRANT_FIELDS, limit: MAX_GRANTS });
    for (const r of rows) {
      // Pending or requested grants give no rights yet; an empty state is what older instances store.
      if ((r.state ?? "") !== "" && r.state !== "active") continue;
      const role = r["role.name"];
      if (!role) continue;
      const set = out.get(r.user) ?? new Set<string>();
      set.add(role);
      out.set(r.user, set);
    }
  }
  return out;
}

function ownerOf(userId: string, users: Map<string, SnRecord>, roles: Map<string, Set<string>>): KeyOwner {
  const u = userId ? users.get(userId) : undefined;
  if (!u) return { sysId: userId, found: false, userName: null, active: null, lockedOut: null, roles: [] };
  return {
    sysId: userId,
    found: true,
    userName: u.user_name || null,
    active: u.active === "true",
    lockedOut: u.locked_out === "true",
    roles: [...(roles.get(userId) ?? [])].sort(),
  };
}

function toKey(r: SnRecord, users: Map<string, SnRecord>, roles: Map<string, Set<string>>, managed: Map<string, string>): AuditedKey {
  const scopeDisplay = r[`dv_${AUTH_SCOPE}`] ?? r[AUTH_SCOPE];
  return {
    sysId: r.sys_id,
    name: r.name ?? "",
    active: r.active === "true",
    expires: glideToIso(r.expires),
    createdAt: glideToIso(r.sys_created_on),
    updatedAt: glideToIso(r.sys_updated_on),
    owner: ownerOf(r.user ?? "", users, roles),
    authScopes:
      AUTH_SCOPE in r
        ? (scopeDisplay ?? "")
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : null,
    managedBy: managed.get(r.sys_id) ?? null,
  };
}

function ownerLabel(o: KeyOwner): string {
  return o.userName ?? (o.sysId || "(none)");
}

/** The findings for one key, most severe first. Pure, so the rules can be read and tested in one place. */
export function findingsFor(k: AuditedKey, now: Date, expiringWithinDays: number, broken?: RecordedBreak): Finding[] {
  const out: Finding[] = [];
  const add = (code: FindingCode, severity: Severity, message: string, remediation: string, link?: string): void => {
    out.push({ code, severity, keySysId: k.sysId, keyName: k.name, message, remediation, ...(link ? { link } : {}) });
  };
  if (broken && k.managedBy) {
    const remedy = isChainLinkId(broken.linkId) ? LINK_REMEDY[broken.linkId] : "";
    add(
      "delivery-broken",
      "high",
      `stack ${broken.stack} recorded its delivery chain broken at ${broken.linkId}${broken.since ? ` (since ${broken.since} UTC)` : ""}: ${broken.message}`,
      `${remedy ? `${remedy[0].toUpperCase()}${remedy.slice(1)}; ` : ""}npm run drift -- --stack ${broken.stack} checks it again`,
      broken.linkId,
    );
  }
  if (!k.managedBy) {
    // An inactive key cannot authenticate, but its token survives a reactivation: still worth removing.
    add(
      "unmanaged",
      k.active ? "high" : "low",
      `no keywire stack manages this ${k.active ? "active" : "inactive"} key, so nobody rotates or revokes it`,
      "Adopt it into a stack (ApiKey with adopt) if something uses it; otherwise delete it",
    );
  }
  // The rest is about what a key can do now: an inactive key can do nothing.
  if (!k.active) return out;
  const o = k.owner;
  if (!o.found) {
    add(
      "inactive-owner",
      "high",
      `the owner ${ownerLabel(o)} does not exist (deleted, or hidden by an ACL)`,
      "Delete the key; create a new one for an active integration user",
    );
  } else if (!o.active || o.lockedOut) {
    const state = !o.active ? "inactive" : "locked out";
    add(
      "inactive-owner",
      "high",
      `the owner ${ownerLabel(o)} is ${state}: the key is unused and would work again if the user came back`,
      "Delete (revoke) the key",
    );
  }
  if (o.roles.includes(ADMIN_ROLE)) {
    add(
      "admin-owned",
      "high",
      `the owner ${ownerLabel(o)} has the admin role, so a leaked key controls the whole instance`,
      "Move the key to a dedicated integration user with only the roles it needs (evt_mgmt_integration for events)",
    );
  }
  const expires = k.expires ? new Date(k.expires) : undefined;
  if (!expires) {
    add("no-expiry", "medium", "the key never expires", "Set an expiry (ApiKey expiresInDays) and a rotation policy");
  } else if (expires.getTime() <= now.getTime()) {
    add("expired-active", "high", `the key expired on ${k.expires} but is still active`, "Deactivate or delete it, and move its consumers to a new key");
  } else if (expires.getTime() - now.getTime() <= expiringWithinDays * DAY_MS) {
    const days = Math.ceil((expires.getTime() - now.getTime()) / DAY_MS);
    add(
      "expiring-soon",
      "medium",
      `the key expires in ${days} day${days === 1 ? "" : "s"} (${k.expires})`,
      "Rotate it now (ApiKey rotation.trigger or rotateBeforeExpiryDays) so consumers move before it stops working",
    );
  }
  if (k.authScopes !== null && k.authScopes.length === 0) {
    add(
      "no-auth-scope",
      "low",
      "the key has no auth scope, so it can act with all of its user's rights",
      "Give it an auth scope (ApiKey authScopes) and keep the user's roles to what the integration calls",
    );
  }
  return out;
}

function bySeverityThenName(a: Finding, b: Finding): number {
  return SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.keyName.localeCompare(b.keyName) || a.code.localeCompare(b.code);
}

export async function auditKeys(client: TableClient, opts: AuditOptions): Promise<AuditReport> {
  const now = opts.now ?? new Date();
  const within = opts.expiringWithinDays ?? DEFAULT_EXPIRING_WITHIN_DAYS;
  if (!Number.isFinite(within) || within < 0) throw new Error("auditKeys: expiringWithinDays must be a number of days, 0 or more");

  const rows = await listKeys(client);
  // Only well-formed ids go into IN lists: a stray value cannot widen the query.
  const ownerIds = [...new Set(rows.map((r) => r.user ?? ""))].filter((id) => /^[0-9a-f]{32}$/.test(id)).sort();
  const users = await listOwners(client, ownerIds);
  const found = ownerIds.filter((id) => users.has(id));
  const roles = await listRoles(client, found);

  const keys = rows.map((r) => toKey(r, users, roles, opts.managed)).sort((a, b) => a.name.localeCompare(b.name) || a.sysId.localeCompare(b.sysId));
  const findings = keys.flatMap((k) => findingsFor(k, now, within, opts.broken?.get(k.sysId))).sort(bySeverityThenName);
  const count = (s: Severity): number => findings.filter((f) => f.severity === s).length;
  const managed = keys.filter((k) => k.managedBy !== null).length;
  return {
    instance: client.instanceUrl,
    generatedAt: now.toISOString(),
    keys,
    findings,
    summary: { keys: keys.length, managed, unmanaged: keys.length - managed, high: count("high"), medium: count("medium"), low: count("low") },
  };
}
