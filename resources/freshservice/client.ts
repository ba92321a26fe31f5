/**
 * Freshservice API v2 client: HTTP Basic with the agent's API key as user name, sent
 * through the HTTP pipeline (resources/core/pipeline.ts: retries on 429/503 honouring
 * Retry-After, errors rebuilt from safe parts only) as a `FreshserviceError` with the
 * platform's error code.
 *
 * Where requests go: `https://<domain>.freshservice.com`, or `baseUrl` when given
 * (an HTTPS origin, or plain HTTP on a loopback address for the bundled emulator). The
 * key lives in a closure; it is sent only to that origin (no redirects, Link targets on
 * other origins are not followed) and never put in a message. Providers build a client
 * inside each method and drop it afterwards.
 */
import { z } from "zod";
import { CodedHttpError, HttpErrorDetails, KeywireError, KeywireErrorInit } from "../core/errors";
import { apiKeyPipeline } from "../core/apiKeyPipeline";
import { Answer, QueryValue } from "../core/pipeline";
import { originProblem } from "../core/url";
import { UNKNOWN_INPUT, knownOr } from "../core/checkInputs";
import { keyFingerprint } from "../core/providedKey";
import { RetryPolicy } from "../core/retry";

export const PLATFORM = "freshservice";
const API_ROOT = "/api/v2";
const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
/** Pagination stops here whatever the server says (100 per page: 5,000 records). */
const MAX_PAGES = 50;
const MAX_PER_PAGE = 100;

/** A Freshservice subdomain: `mycompany` for `https://mycompany.freshservice.com`. */
const DOMAIN_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Where the fix for a refused key is made, in the words of the Freshservice admin UI. */
export const KEY_HINT =
  "An Account Admin must enable the agent's API key: Admin > User Management > Agents > <agent> > Permissions tab > API Key. " +
  "The agent then finds the current key under Profile Settings (right side, below Delegate Approvals); " +
  "a regenerated key replaces the old one, so store the new value as the stack secret again.";

export { UNKNOWN_INPUT, keyFingerprint };

/**
 * Why a base URL override is unacceptable, or undefined when it is fine: an origin
 * only, HTTPS unless the host is a loopback address, no credentials.
 */
function baseUrlProblem(value: string): string | undefined {
  return originProblem(value, { notUrl: "is not a URL", path: () => "must be an origin only (scheme, host, port), without a path" });
}

/** The origin requests go to. Inputs are expected to have passed `check` already. */
export function resolveBaseUrl(domain: string, baseUrl?: string): string {
  if (baseUrl !== undefined && baseUrl !== "") {
    const problem = baseUrlProblem(baseUrl);
    if (problem) {
      throw new KeywireError({
        platform: PLATFORM,
        operation: "resolve base URL",
        reason: `baseUrl ${problem}`,
        hint: "Fix the resource's baseUrl input, or drop it to use https://<domain>.freshservice.com.",
      });
    }
    return new URL(baseUrl).origin;
  }
  if (!DOMAIN_PATTERN.test(domain)) {
    throw new KeywireError({
      platform: PLATFORM,
      operation: "resolve base URL",
      reason: "domain is not a Freshservice subdomain",
      hint: "Give the subdomain only: mycompany for https://mycompany.freshservice.com.",
    });
  }
  return `https://${domain}.freshservice.com`;
}

/** The account's per-minute figures from the `X-RateLimit-*` headers. */
export interface RateLimitFigures {
  total?: number;
  remaining?: number;
  usedCurrentRequest?: number;
}

export function rateLimitFigures(headers: Record<string, string>): RateLimitFigures {
  const num = (v: string | undefined) => (v !== undefined && /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : undefined);
  const out: RateLimitFigures = {};
  const total = num(headers["x-ratelimit-total"]);
  const remaining = num(headers["x-ratelimit-remaining"]);
  const used = num(headers["x-ratelimit-used-currentrequest"]);
  if (total !== undefined) out.total = total;
  if (remaining !== undefined) out.remaining = remaining;
  if (used !== undefined) out.usedCurrentRequest = used;
  return out;
}

/** The plan a per-minute total belongs to, per the published table; `custom` otherwise. */
export function planForLimit(total: number | undefined): string {
  switch (total) {
    case 100:
      return "starter";
    case 200:
      return "growth";
    case 400:
      return "pro";
    case 500:
      return "enterprise";
    default:
      return total === undefined ? "unknown" : "custom";
  }
}

type FreshserviceResult = Answer;

/** An HTTP failure with the Freshservice error code (`invalid_credentials`, `access_denied`, …). */
export class FreshserviceError extends CodedHttpError {
  constructor(init: KeywireErrorInit & HttpErrorDetails & { errorCode?: string }) {
    super(init);
    this.name = "FreshserviceError";
  }
}

/** The error code of a Freshservice body: `{code}` or the first of `{errors:[{code}]}`. */
export function errorCodeOf(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as { code?: unknown; errors?: unknown };
  const code =
    typeof d.code === "string"
      ? d.code
      : Array.isArray(d.errors) && typeof (d.errors[0] as { code?: unknown })?.code === "string"
        ? (d.errors[0] as { code: string }).code
        : undefined;
  return code !== undefined && /^[a-z_]{1,60}$/.test(code) ? code : undefined;
}

function serverMessageOf(data: unknown): string | undefined {
  if (typeof data === "string") return data.trim() || undefined;
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as { message?: unknown; description?: unknown; errors?: unknown };
  const parts: string[] = [];
  if (typeof d.description === "string") parts.push(d.description);
  if (typeof d.message === "string") parts.push(d.message);
  if (Array.isArray(d.errors)) {
    for (const e of d.errors.slice(0, 5)) {
      const x = e as { field?: unknown; message?: unknown; code?: unknown };
      parts.push(`${String(x.field ?? "?")}: ${String(x.message ?? "")} (${String(x.code ?? "")})`);
    }
  }
  return parts.length ? parts.join("; ") : undefined;
}

/** What the operator should do about a failed call. */
export function hintFor(status: number | undefined, code: string | undefined): string {
  if (status === 401 || code === "invalid_credentials") return KEY_HINT;
  if (code === "require_feature") return 'The module is turned off or not in the account\'s plan: turn it on under Admin, or verify with probe "agents".';
  if (code === "account_suspended") return "The Freshservice account is suspended: an Account Admin must restore it (billing).";
  if (status === 403 || code === "access_denied") {
    return "The key's agent lacks the permission for this call: give the agent a role that can manage agents (e.g. Admin) under Admin > User Management > Agents, or use an admin agent's key.";
  }
  if (status === 429)
    return "The account's per-minute API limit is shared by every integration and was used up; keywire waited as Retry-After asked. Run again later, or slow other integrations.";
  if (status === 404) return "Check the domain (and baseUrl): the record or endpoint does not exist there.";
  if (status === 400 || status === 409) return "Fix the fields named above.";
  if (status !== undefined && status >= 500) return "Freshservice had a server error; run again later.";
  return "Check the domain, the network path to Freshservice, and try again.";
}

interface RequestOptions {
  query?: Record<string, QueryValue>;
  json?: unknown;
  /** Statuses returned instead of thrown (e.g. 401 when verifying). */
  acceptStatus?: number[];
  operation?: string;
  /** Default: every method but POST. */
  idempotent?: boolean;
  /** For a POST whose outcome is unknown: finds what it created, if it did. */
  wasCommitted?: () => Promise<FreshserviceResult | undefined>;
}

export interface FreshserviceClientOptions {
  domain: string;
  baseUrl?: string;
  apiKey: string;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
}

type Method = "GET" | "POST" | "PUT" | "DELETE";

/** The `rel="next"` target of a Link header. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(",").slice(0, 10)) {
    const m = /^\s*<([^>]{1,4000})>\s*;\s*rel="?next"?\s*$/i.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

export interface FreshserviceClient {
  readonly domain: string;
  readonly origin: string;
  request(method: Method, path: string, opts?: RequestOptions): Promise<FreshserviceResult>;
  /** GET a list endpoint, following `Link: rel="next"` on the same origin, at most MAX_PAGES pages. */
  listAll<T>(path: string, field: string, query?: Record<string, QueryValue>, operation?: string): Promise<T[]>;
  toJSON(): Record<string, string>;
}

/** Builds a client: a factory with the key in a closure, which neither `util.inspect` nor JSON sees. */
export function createFreshserviceClient(o: FreshserviceClientOptions): FreshserviceClient {
  const domain = o.domain;
  const origin = resolveBaseUrl(o.domain, o.baseUrl);
  const apiKey = o.apiKey;
  const basic = Buffer.from(`${apiKey}:X`).toString("base64");
  const pipeline = apiKeyPipeline({
    platform: PLATFORM,
    origin,
    authorization: `Basic ${basic}`,
    secrets: [apiKey, basic, `Basic ${basic}`],
    errorCodeOf,
    serverMessageOf,
    hintFor,
    make: (init) => new FreshserviceError(init),
    maxBytes: MAX_RESPONSE_BYTES,
    timeoutMs: o.timeoutMs,
    retry: o.retry,
  });

  async function request(method: Method, path: string, opts: RequestOptions = {}): Promise<FreshserviceResult> {
    const operation = opts.operation ?? `${method} ${path.split(/[?#]/)[0]}`;
    if (!path.startsWith(`${API_ROOT}/`) || path.includes("?") || path.includes("#") || path.includes("//")) {
      throw new KeywireError({
        platform: PLATFORM,
        operation,
        reason: "the request path must be an API v2 path without query",
        hint: "Pass query parameters in opts.query.",
      });
    }
    return pipeline.send({
      method,
      path,
      query: opts.query,
      json: opts.json,
      operation,
      idempotent: opts.idempotent ?? method !== "POST",
      acceptStatus: opts.acceptStatus,
      wasCommitted: opts.wasCommitted,
    });
  }

  async function listAll<T>(path: string, field: string, query: Record<string, QueryValue> = {}, operation?: string): Promise<T[]> {
    const op = operation ?? `list ${field}`;
    const out: T[] = [];
    let nextPath: string | undefined = path;
    let nextQuery: Record<string, QueryValue> = { per_page: MAX_PER_PAGE, ...query };
    for (let page = 0; page < MAX_PAGES && nextPath; page++) {
      const res = await request("GET", nextPath, { query: nextQuery, operation: op });
      const items = (res.data as Record<string, unknown> | undefined)?.[field];
      if (!Array.isArray(items)) {
        throw new KeywireError({
          platform: PLATFORM,
          operation: op,
          reason: `the answer has no "${field}" list`,
          hint: "Check that the domain (or baseUrl) points at Freshservice.",
        });
      }
      out.push(...(items as T[]));
      const link = nextLink(res.headers["link"]);
      nextPath = undefined;
      if (link) {
        const u = new URL(link, origin);
        // The key only ever goes to the configured origin.
        if (u.origin !== origin) break;
        nextPath = u.pathname;
        nextQuery = Object.fromEntries(u.searchParams.entries());
      }
    }
    return out;
  }

  return { domain, origin, request, listAll, toJSON: () => ({ domain, origin }) };
}

/** Type tokens read `pulumi-nodejs:dynamic/keywire/freshservice:<Name>`. */
export const FRESHSERVICE_MODULE = "keywire/freshservice";

/** The zod shape of the connection inputs every Freshservice resource takes (domain, apiKey, baseUrl). Messages never contain the key. */
export const connectionShape = {
  domain: knownOr(
    z
      .string({ error: "is required: the subdomain of your Freshservice URL (mycompany for https://mycompany.freshservice.com)" })
      .trim()
      .toLowerCase()
      .superRefine((v, ctx) => {
        if (v === "")
          ctx.addIssue({ code: "custom", message: "is required: the subdomain of your Freshservice URL (mycompany for https://mycompany.freshservice.com)" });
        else if (/[./:]/.test(v)) ctx.addIssue({ code: "custom", message: "must be the subdomain only: mycompany, not mycompany.freshservice.com or a URL" });
        else if (!DOMAIN_PATTERN.test(v)) ctx.addIssue({ code: "custom", message: "must be letters, digits and inner dashes (at most 63), as in mycompany" });
      }),
  ),
  apiKey: knownOr(
    z.string({ error: "is required: the agent's API key from Profile Settings, stored as a stack secret" }).superRefine((v, ctx) => {
      if (v.trim() === "") ctx.addIssue({ code: "custom", message: "is required: the agent's API key from Profile Settings, stored as a stack secret" });
      else if (v.length > 256 || /[\s:]/.test(v))
        ctx.addIssue({ code: "custom", message: "must be one token without spaces or colons, at most 256 characters (value not shown)" });
    }),
  ),
  baseUrl: knownOr(
    z.string({ error: "must be a URL string" }).superRefine((v, ctx) => {
      const problem = v === "" ? undefined : baseUrlProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  ).optional(),
};
