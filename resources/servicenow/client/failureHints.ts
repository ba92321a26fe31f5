/**
 * Why a ServiceNow call probably failed and what the operator should do: the
 * reason and hint of every `ServiceNowError` the Table API client builds (a
 * missing plugin, a missing role, Basic Auth Restriction, a rate limit, a
 * deadline), from safe fields only.
 */
import type { HttpErrorDetails } from "../../core/errors";
import type { GiveUpReason } from "../../core/retry";
import { OAUTH_TOKEN_PATH } from "./oauth";

/** Tables of the API Key and HMAC Authentication plugin: "Invalid table" on one of them means the plugin is off. */
const TOKEN_AUTH_TABLES: readonly string[] = ["api_key", "http_key_auth", "sys_token_auth_parameter"];
/** Tables whose writes need admin, or api_service_admin + adaptive_auth_policy_admin. */
const SECURITY_TABLES: readonly string[] = [
  ...TOKEN_AUTH_TABLES,
  "inbound_auth_profile",
  "std_http_auth",
  "sys_api_access_policy",
  "sys_auth_profile_mapping",
  "sys_auth_scope",
  "sys_api_access_scope",
  "sys_rate_limit_rules",
];

export interface DescribeInput extends HttpErrorDetails {
  status?: number;
  operation: string;
  table?: string;
  path: string;
  /** Whether the path is the Table API's (`/api/now/table/...`). */
  tablePath: boolean;
  instanceUrl: string;
  /** The setting the instance came from (`servicenow:instanceUrl`, …): hints name the one the user set. */
  instanceSetting?: string;
  auth: { kind: "basic"; username: string } | { kind: "oauth" } | { kind: "none" };
  timeoutMs: number;
  giveUp?: { reason: GiveUpReason; attempts: number; elapsedMs: number; nextDelayMs?: number };
  checkError?: string;
}

/**
 * Whether the instance refused a write because a column that must be unique already holds
 * the value (ServiceNow answers 403 "Operation Failed", with the column named), not for a
 * missing role. `serverMessage` is the instance's own text.
 */
export function isTakenValue(status: number | undefined, serverMessage: string | undefined): boolean {
  return (
    (status === 403 || status === 400 || status === 409) &&
    serverMessage !== undefined &&
    /\bmust be unique\b|\bduplicate\b|\balready exists\b/i.test(serverMessage)
  );
}

/** Why a ServiceNow call probably failed, and what the operator should do. */
export function describeFailure(f: DescribeInput): { reason: string; hint: string; retryable: boolean } {
  const base = describeCause(f);
  const g = f.giveUp;
  if (!g || g.reason === "fatal") return base;
  const secs = (ms: number) => `${Math.ceil(ms / 1000)} s`;
  if (g.reason === "unknown-outcome") {
    return {
      reason: `${base.reason}; the write may or may not have been applied, so it was not repeated`,
      hint: `Look for the record${f.table ? ` in ${f.table}` : ""} before running again, so it is not created twice`,
      retryable: false,
    };
  }
  if (g.reason === "commit-check-failed") {
    return {
      reason: `${base.reason}; checking whether the write was applied failed too (${f.checkError ?? "unknown error"})`,
      hint: `Look for the record${f.table ? ` in ${f.table}` : ""} before running again, so it is not created twice`,
      retryable: false,
    };
  }
  const tries = g.attempts === 1 ? "1 attempt" : `${g.attempts} attempts`;
  if (g.reason === "budget" && g.nextDelayMs !== undefined && f.retryAfterMs !== undefined) {
    return {
      reason: `${base.reason}; the server asks to wait ${secs(g.nextDelayMs)}, beyond the retry time budget (gave up after ${tries})`,
      hint: base.hint,
      retryable: true,
    };
  }
  const why = g.reason === "budget" ? `gave up after ${tries} in ${secs(g.elapsedMs)}: the retry time budget is spent` : `gave up after ${tries}`;
  return { reason: `${base.reason} (${why})`, hint: base.hint, retryable: base.retryable };
}

function describeCause(f: DescribeInput): { reason: string; hint: string; retryable: boolean } {
  const server = f.serverMessage;
  const table = f.table;
  const host = new URL(f.instanceUrl).host;
  const setting = f.instanceSetting ?? "servicenow:instance";
  if (f.kind === "timeout") {
    return {
      reason: `no complete answer from ${host} within ${Math.round(f.timeoutMs / 1000)} s`,
      hint: "The instance is slow or unreachable; try again later, or raise the client timeout",
      retryable: true,
    };
  }
  if (f.kind === "network" || f.kind === "other") {
    const code = f.networkCode ?? "";
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
      return {
        reason: `the host ${host} does not resolve (${code})`,
        hint: `Check ${setting} (a short name such as dev12345 means https://dev12345.service-now.com) and DNS`,
        retryable: code === "EAI_AGAIN",
      };
    }
    if (code === "ECONNREFUSED") {
      return {
        reason: `nothing accepts connections at ${f.instanceUrl} (ECONNREFUSED)`,
        hint: `Check ${setting} and that the instance is up`,
        retryable: true,
      };
    }
    if (/CERT|SELF_SIGNED|TLS|SSL/.test(code)) {
      return {
        reason: `the TLS certificate of ${host} is not trusted (${code})`,
        hint: "If a proxy or private CA signs it, point NODE_EXTRA_CA_CERTS at the CA certificate",
        retryable: false,
      };
    }
    if (f.kind === "other") {
      return {
        reason: server ?? `the request could not be made${code ? ` (${code})` : ""}`,
        hint: "This is likely a keywire bug; please report it",
        retryable: false,
      };
    }
    return {
      reason: `the connection to ${host} failed${code ? ` (${code})` : ""}`,
      hint: "A network problem or an overloaded instance; try again later",
      retryable: true,
    };
  }

  const status = f.status ?? 0;
  const said = server ? `the instance says "${server}"` : undefined;
  const isTablePath = f.tablePath;
  if (status >= 300 && status < 400) {
    return {
      reason: `the instance redirected the request (${status})`,
      hint: `A sleeping (hibernating) developer instance redirects: wake it at developer.servicenow.com. Otherwise check ${setting}`,
      retryable: false,
    };
  }
  // A unique column (a user's user_name, a record's name) already taken is no missing role:
  // it is another record, perhaps another stack's with the same name prefix.
  if (isTakenValue(status, said)) {
    return {
      reason: `${said}: another ${table ? `${table} ` : ""}record already has that value`,
      hint:
        "It may belong to another stack or a person: keywire never takes a record over because of its name. Give this stack another " +
        "keywire:namePrefix (or the resource another name), or adopt that record by sys_id if it is this stack's own (docs/adoption.md)",
      retryable: false,
    };
  }
  if (status === 400) {
    if (server && /invalid table/i.test(server)) {
      const named = /invalid table\s+([a-z0-9_]+)/i.exec(server)?.[1]?.toLowerCase() ?? table ?? "";
      if (TOKEN_AUTH_TABLES.includes(named)) {
        return {
          reason: `table ${named} does not exist on the instance, so the plugin com.glide.tokenbased_auth (API Key and HMAC Authentication) is not installed or not active`,
          hint: "Activate it in System Applications > All Available Applications > All (Washington DC or later), then run again",
          retryable: false,
        };
      }
      if (/^(em_|sn_em_)/.test(named)) {
        return {
          reason: `table ${named} does not exist on the instance, so Event Management is not installed or not active`,
          hint: "Install and activate Event Management (ITOM) on the instance, then run again",
          retryable: false,
        };
      }
      return {
        reason: `table ${named || "(unknown)"} does not exist on the instance`,
        hint: "Check the table name; if a plugin or application provides it, activate that first",
        retryable: false,
      };
    }
    return { reason: said ?? "the instance refused the request as malformed", hint: `Check the values sent${table ? ` to ${table}` : ""}`, retryable: false };
  }
  if (status === 401) {
    if (f.path === OAUTH_TOKEN_PATH) {
      return {
        reason: `the OAuth token endpoint refused the client${server ? ` ("${server}")` : ""}`,
        hint:
          "Check servicenow:clientId and servicenow:clientSecret, that the Application Registry entry is active, that the client credentials grant is " +
          "enabled (system property glide.oauth.inbound.client.credential.grant_type.enabled = true) and that the entry names an OAuth application user",
        retryable: false,
      };
    }
    if (f.auth.kind === "basic") {
      return {
        reason: `the instance refused the basic-auth login of user "${f.auth.username}"${server ? ` ("${server}")` : ""}`,
        hint:
          "Either servicenow:username / servicenow:password is wrong, the user is inactive or locked out, or the instance's Basic Auth Restriction " +
          "refuses basic auth for this user: give the user the role snc_basic_auth_api_access, or tick Web service access only on its record",
        retryable: false,
      };
    }
    if (f.auth.kind === "oauth") {
      return {
        reason: `the instance refused the OAuth token, even after fetching a new one${server ? ` ("${server}")` : ""}`,
        hint: "Check that the OAuth application user of the Application Registry entry is active and has the roles this call needs",
        retryable: false,
      };
    }
    return {
      reason: `the instance did not accept the credentials sent with the request${server ? ` ("${server}")` : ""}`,
      hint: "Check the credentials",
      retryable: false,
    };
  }
  if (status === 403) {
    const security = table !== undefined && SECURITY_TABLES.includes(table);
    return {
      reason: `${said ?? "insufficient rights"}: the user lacks the roles for ${f.operation}`,
      hint: security
        ? "Give the user admin, or api_service_admin and adaptive_auth_policy_admin (the roles the API-key security tables need)"
        : `Give the user a role that the ACLs${table ? ` of ${table}` : ""} allow (admin always works)`,
      retryable: false,
    };
  }
  if (status === 404) {
    if (isTablePath && table) {
      return {
        reason: `the ${table} record does not exist (deleted outside Pulumi, or an ACL hides it)${server ? ` ("${server}")` : ""}`,
        hint: "Run pulumi refresh so the stack forgets the record, then run again",
        retryable: false,
      };
    }
    return {
      reason: `the endpoint ${f.path} does not exist on the instance`,
      hint: "The API or the plugin that provides it is not installed or not active on this instance",
      retryable: false,
    };
  }
  if (status === 429) {
    const rule = f.rateLimitRule ? `the rate limit rule "${f.rateLimitRule}"` : "a rate limit rule";
    const until = f.rateLimitResetAt ? ` until ${f.rateLimitResetAt}` : "";
    return {
      reason: `${rule} refuses more requests${until}`,
      hint: `Wait${f.rateLimitResetAt ? ` until ${f.rateLimitResetAt}` : ""} and run again, or raise the limit in System Web Services > REST API Rate Limits (sys_rate_limit_rules)`,
      retryable: true,
    };
  }
  if (status === 500) {
    return {
      reason: said ?? "the instance failed while processing the request",
      hint: "A business rule or script on the instance failed; its System Log says more",
      retryable: false,
    };
  }
  if (status >= 500) {
    return {
      reason: `the instance answered ${status}${server ? ` ("${server}")` : ""}: it is unhealthy, overloaded or being upgraded`,
      hint: "Try again later; a developer instance may be waking up or upgrading",
      retryable: true,
    };
  }
  return { reason: said ?? `unexpected answer ${status}`, hint: "Check the request against the ServiceNow REST API documentation", retryable: false };
}
