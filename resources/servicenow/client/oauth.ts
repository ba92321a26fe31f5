/**
 * OAuth client-credentials tokens for ServiceNow (`POST /oauth_token.do`).
 *
 * A token is cached in memory on its connection until shortly before it expires, and
 * concurrent callers share one fetch. The token client sends through a pipeline of
 * its own (resources/core/pipeline.ts, without the auth layer), so timeouts, retries
 * and redaction are those of every other request, and its failures are final.
 */
import { KeywireError } from "../../core/errors";
import { Pipeline, parseBody } from "../../core/pipeline";

export const OAUTH_TOKEN_PATH = "/oauth_token.do";

/** Refresh this long before expiry, so a token never expires mid-request. */
const MAX_EXPIRY_MARGIN_MS = 60_000;
/** When the server gives no lifetime, assume this one (ServiceNow's default is 30 min). */
const DEFAULT_LIFETIME_S = 1800;

export interface FetchedToken {
  accessToken: string;
  /** Lifetime in seconds, as `expires_in`. */
  expiresInS: number;
}

/** The form for a client-credentials grant. */
function clientCredentialsForm(clientId: string, clientSecret: string): string {
  return new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret }).toString();
}

/** Read `{access_token, expires_in}` from a token endpoint answer. */
export function parseTokenResponse(data: unknown): FetchedToken {
  const body = typeof data === "string" ? parseBody(data, undefined) : data;
  const token = isRecord(body) ? body.access_token : undefined;
  if (typeof token !== "string" || token === "") {
    throw new KeywireError({
      platform: "servicenow",
      operation: "fetch OAuth token",
      reason: "the token endpoint answered without an access_token",
      hint:
        "Check that the OAuth client (System OAuth > Application Registry) is active and allows the client credentials grant " +
        "(system property glide.oauth.inbound.client.credential.grant_type.enabled = true)",
    });
  }
  const raw = isRecord(body) ? body.expires_in : undefined;
  const n = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw) : NaN;
  return { accessToken: token, expiresInS: Number.isFinite(n) && n > 0 ? n : DEFAULT_LIFETIME_S };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/** The token endpoint's client. */
export interface TokenClient {
  /** A new token by the client-credentials grant. */
  fetch(clientId: string, clientSecret: string): Promise<FetchedToken>;
}

/** A token client sending through `endpoint`, the instance's pipeline without credentials. */
export function createTokenClient(endpoint: Pipeline): TokenClient {
  return {
    async fetch(clientId, clientSecret) {
      const answer = await endpoint.send({
        method: "POST",
        path: OAUTH_TOKEN_PATH,
        form: clientCredentialsForm(clientId, clientSecret),
        anonymous: true,
        // An extra token is harmless.
        idempotent: true,
        secrets: [clientSecret],
        operation: "fetch OAuth token",
      });
      return parseTokenResponse(answer.data);
    },
  };
}

interface CachedToken {
  value: string;
  /** Epoch ms after which the token is not used any more. */
  refreshAt: number;
}

/** Per-connection token cache. Holds secrets in closures: never log what `get` returns. */
export interface OAuthTokenCache {
  /** A valid cached token, or a fresh one from `fetch` (one fetch shared by concurrent callers). */
  get(now: () => number, fetch: () => Promise<FetchedToken>): Promise<string>;
  /** Forget `token` (after a 401), unless a newer one replaced it already. */
  invalidate(token: string): void;
  /** Every token handed out, for redaction (a stale one may still appear in an echo). */
  secrets(): string[];
}

/**
 * A token cache whose state lives in closures, not properties, so printing or
 * serializing the object shows no token.
 */
export function createOAuthTokenCache(): OAuthTokenCache {
  let current: CachedToken | undefined;
  let inflight: Promise<string> | undefined;
  const seen = new Set<string>();
  const cache: OAuthTokenCache = {
    async get(now, fetch) {
      if (current && now() < current.refreshAt) return current.value;
      inflight ??= (async () => {
        try {
          const t = await fetch();
          seen.add(t.accessToken);
          const lifetimeMs = t.expiresInS * 1000;
          // Half the lifetime for very short tokens, else a fixed margin.
          const margin = Math.min(MAX_EXPIRY_MARGIN_MS, lifetimeMs / 2);
          current = { value: t.accessToken, refreshAt: now() + lifetimeMs - margin };
          return t.accessToken;
        } finally {
          inflight = undefined;
        }
      })();
      return inflight;
    },
    invalidate(token) {
      if (current?.value === token) current = undefined;
    },
    secrets: () => [...seen],
  };
  Object.defineProperties(cache, {
    toJSON: { value: () => "[OAuth token cache]", enumerable: false },
    [Symbol.for("nodejs.util.inspect.custom")]: { value: () => "[OAuth token cache]", enumerable: false },
  });
  return cache;
}
