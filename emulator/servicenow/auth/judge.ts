/**
 * Authentication as the platform judges it: find the credentials, find the governing policy,
 * check the scheme is admitted by that policy's profiles, then check the credentials.
 */
import type { IncomingMessage } from "node:http";
import { parseGlideDateTime } from "../glide";
import { errorReply, notAuthenticated, type Reply } from "../http/reply";
import type { ResolvedOptions } from "../options";
import type { Store } from "../store";
import type { GlideRecord } from "../types";
import { userUsable, type Directory } from "./directory";
import type { OAuthTokens } from "./oauth";
import type { ApiCall, PolicyResolver } from "./policy";

type Scheme = "basic" | "oauth" | "apikey";

export interface Principal {
  user: GlideRecord;
  roles: Set<string>;
  scheme: Scheme;
  apiKey?: GlideRecord;
}

export type Judgement = { principal: Principal } | { reply: Reply };

/** What judging a request reads: the switches that change authentication, and the records behind it. */
export interface AuthContext {
  readonly opts: Pick<ResolvedOptions, "plugin" | "queryParameterType" | "basicAuthRestriction" | "authScopeColumn">;
  readonly store: Store;
  readonly directory: Directory;
  readonly policies: PolicyResolver;
  readonly oauth: Pick<OAuthTokens, "userForBearer">;
}

interface PresentedKey {
  token: string;
  /** The sys_token_auth_parameter row that describes how the key was sent. */
  parameter: GlideRecord;
}

function apiKeyRefusal(detail: string): Reply {
  return errorReply(401, "User is not authenticated", detail, { "WWW-Authenticate": 'BASIC realm="Service-now"' });
}

/** The API key carried by the request, looked for in every place an auth parameter row names. */
function presentedKey(em: AuthContext, req: IncomingMessage, query: URLSearchParams): PresentedKey | undefined {
  if (em.opts.plugin !== "active") return undefined;
  let viaQuery: PresentedKey | undefined;
  for (const p of em.store.scan("sys_token_auth_parameter")) {
    if (!p.parameter_name) continue;
    if (p.type === "auth_header") {
      const v = req.headers[p.parameter_name.toLowerCase()];
      const token = Array.isArray(v) ? v[0] : v;
      if (token) return { token, parameter: p };
    } else if (p.type === em.opts.queryParameterType && !viaQuery) {
      const token = query.get(p.parameter_name);
      if (token) viaQuery = { token, parameter: p };
    }
  }
  return viaQuery;
}

function profileAdmits(em: AuthContext, profile: GlideRecord, scheme: Scheme, key?: PresentedKey): boolean {
  if (profile.active !== "true") return false;
  switch (profile.sys_class_name) {
    case "http_key_auth":
      return scheme === "apikey" && em.opts.plugin === "active" && !!key && profile.auth_parameter === key.parameter.sys_id;
    case "std_http_auth":
      return (scheme === "basic" && profile.type === "basic_auth") || (scheme === "oauth" && profile.type === "oauth");
    default:
      return false;
  }
}

function keyUsable(apiKey: GlideRecord, now: number): boolean {
  if (apiKey.active !== "true") return false;
  if (apiKey.expires) {
    const d = parseGlideDateTime(apiKey.expires);
    if (!d || d.getTime() <= now) return false;
  }
  return true;
}

export function authenticate(em: AuthContext, req: IncomingMessage, query: URLSearchParams, call: ApiCall): Judgement {
  const key = presentedKey(em, req, query);
  const auth = req.headers.authorization ?? "";
  let scheme: Scheme | undefined;
  if (key) scheme = "apikey";
  else if (/^basic /i.test(auth)) scheme = "basic";
  else if (/^bearer /i.test(auth)) scheme = "oauth";
  if (!scheme) return { reply: notAuthenticated() };

  const policy = em.policies.resolve(call);

  if (scheme === "apikey") {
    if (!policy || policy.apply_global === "true") {
      return { reply: apiKeyRefusal("Token Based Auth isn't allowed in the Global REST API Policy") };
    }
    const profiles = em.policies.profilesOf(policy.sys_id);
    if (!profiles.some((p) => profileAdmits(em, p, "apikey", key))) {
      return { reply: apiKeyRefusal("No API key authentication profile of the REST API access policy accepts this key") };
    }
    const now = Date.now();
    let apiKey: GlideRecord | undefined;
    for (const k of em.store.scan("api_key")) {
      if (k.token === key!.token && keyUsable(k, now)) {
        apiKey = k;
        break;
      }
    }
    if (!apiKey) return { reply: apiKeyRefusal("Required to provide Auth information") };
    const user = em.directory.user(apiKey.user);
    if (!userUsable(user)) return { reply: apiKeyRefusal("Required to provide Auth information") };
    const scopeRefusal = checkAuthScope(em, apiKey, call);
    if (scopeRefusal) return { reply: scopeRefusal };
    return { principal: { user, roles: em.directory.rolesOf(user.sys_id), scheme, apiKey } };
  }

  let user: GlideRecord | undefined;
  if (scheme === "basic") {
    user = em.directory.verifyBasic(auth);
    if (user && em.opts.basicAuthRestriction) {
      // Basic Auth Restriction: same answer as a wrong password; admin is not exempt.
      const allowed = user.web_service_access_only === "true" || em.directory.rolesOf(user.sys_id).has("snc_basic_auth_api_access");
      if (!allowed) user = undefined;
    }
  } else {
    user = em.oauth.userForBearer(auth.slice(7).trim());
  }
  if (!user) return { reply: notAuthenticated() };

  // A policy with mappings admits only the mapped profiles; one without mappings, or none at all, admits basic and OAuth.
  if (policy) {
    const profiles = em.policies.profilesOf(policy.sys_id);
    if (profiles.length > 0 && !profiles.some((p) => profileAdmits(em, p, scheme!))) return { reply: notAuthenticated() };
  }
  return { principal: { user, roles: em.directory.rolesOf(user.sys_id), scheme } };
}

/**
 * Auth scopes: when an active sys_api_access_scope rule covers the API, the key must carry
 * that scope or `useraccount`. APIs without a rule are open to any scope.
 */
function checkAuthScope(em: AuthContext, apiKey: GlideRecord, call: ApiCall): Reply | undefined {
  const rules: GlideRecord[] = [];
  for (const r of em.store.scan("sys_api_access_scope")) {
    if (r.active !== "true") continue;
    if (em.policies.apiPathOf(r) !== call.apiPath) continue;
    if (r.http_method && r.http_method.toUpperCase() !== call.method) continue;
    rules.push(r);
  }
  if (rules.length === 0) return undefined;
  const held = new Set<string>();
  for (const id of (apiKey[em.opts.authScopeColumn] ?? "").split(",")) {
    const s = id ? em.store.get("sys_auth_scope", id) : undefined;
    if (s) held.add(s.sys_id);
    if (s?.name === "useraccount") return undefined;
  }
  if (rules.some((r) => held.has(r.auth_scope))) return undefined;
  return errorReply(403, "Insufficient scope", "The API key's auth scopes do not grant access to this API");
}
