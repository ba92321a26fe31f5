/**
 * ServiceNow's pieces of the HTTP pipeline (resources/core/pipeline.ts): basic or
 * OAuth credentials, a 5xx as an unknown outcome, the `{error: {message, detail}}`
 * body, and errors worded by failureHints.ts.
 *
 * The OAuth token endpoint has a pipeline of its own, without the auth layer, that
 * retries on its own; the auth layer of the instance's pipeline asks it for tokens.
 */
import { KeywireError, KeywireHttpError, isKeywireError } from "../../core/errors";
import { Failure, FailureContext, Pipeline, PipelineSettings, Platform, SendWith, Settled, createPipeline, refusedCredentials } from "../../core/pipeline";
import { RetryVerdict, classifyKeywireError } from "../../core/retry";
import { ServiceNowConnection } from "./connection";
import { DescribeInput, describeFailure } from "./failureHints";
import { TokenClient, createTokenClient } from "./oauth";

export const PLATFORM = "servicenow";
export const TABLE_PREFIX = "/api/now/table/";
/** A deadline shorter than this cannot complete a TLS handshake; budgets never cut below it. */
export const MIN_TIMEOUT_MS = 250;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A failed ServiceNow call, rebuilt from safe fields. */
export class ServiceNowError extends KeywireHttpError {
  constructor(init: Omit<ConstructorParameters<typeof KeywireHttpError>[0], "platform">) {
    super({ ...init, platform: PLATFORM });
    this.name = "ServiceNowError";
  }
}

/** The instance's pipeline: `settings` are the client's (deadline, retry policy, observer). */
export function serviceNowPipeline(conn: ServiceNowConnection, settings: Omit<PipelineSettings, "origin" | "minTimeoutMs" | "maxBytes">): Pipeline {
  const full: PipelineSettings = { ...settings, origin: conn.instanceUrl, minTimeoutMs: MIN_TIMEOUT_MS, maxBytes: MAX_RESPONSE_BYTES };
  const tokens = createTokenClient(createPipeline(serviceNowPlatform(conn, undefined), full));
  return createPipeline(serviceNowPlatform(conn, authenticate(conn, tokens, settings.retry.now)), full);
}

function serviceNowPlatform(conn: ServiceNowConnection, auth: Platform["authenticate"]): Platform {
  return {
    name: PLATFORM,
    ...(auth ? { authenticate: auth } : {}),
    classify,
    readFailure: (data) => ({ message: serverMessage(data) }),
    toError: (f, ctx) => toError(conn, f, ctx),
    secrets: () => conn.secrets(),
  };
}

/** Basic credentials as they are; OAuth with a cached token, replaced once when the instance refuses it. */
function authenticate(conn: ServiceNowConnection, tokens: TokenClient, now: () => number): (send: SendWith, operation: string) => Promise<Settled> {
  return async (send, operation) => {
    const creds = conn.credentials();
    if (creds.kind === "basic") return send({ Authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}` });
    const cache = conn.oauthTokens();
    if (!cache) {
      throw new KeywireError({
        platform: PLATFORM,
        operation,
        reason: "the OAuth connection has no token cache",
        hint: "Build the connection with resolveConnection",
      });
    }
    const fetch = () => tokens.fetch(creds.clientId, creds.clientSecret);
    const token = await cache.get(now, fetch);
    const first = await send({ Authorization: `Bearer ${token}` });
    if (!refusedCredentials(first)) return first;
    // A token refused before its expiry was revoked: one new token, one more try.
    cache.invalidate(token);
    const fresh = await cache.get(now, fetch);
    return send({ Authorization: `Bearer ${fresh}` });
  };
}

/**
 * The instance answers 500 when a business rule fails after the write committed: a
 * 5xx never shows that a request had no effect, so it is an unknown outcome
 * (repeated when idempotent, checked when not). 503 is a refusal before any work.
 */
function classify(e: KeywireHttpError): RetryVerdict {
  if (e.kind === "http" && (e.status ?? 0) >= 500 && e.status !== 503) return { kind: "unknown-outcome" };
  return classifyKeywireError(e);
}

/** The instance's words: `{error: {message, detail}}`, or OAuth's `{error, error_description}`. */
function serverMessage(data: unknown): string | undefined {
  if (typeof data === "string") return /<html|<!doctype/i.test(data) ? "an HTML page" : data || undefined;
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (typeof d.error === "object" && d.error !== null) {
    const e = d.error as Record<string, unknown>;
    const parts = [e.message, e.detail].filter((p): p is string => typeof p === "string" && p !== "");
    return parts.length ? [...new Set(parts)].join(" — ") : undefined;
  }
  const parts = [d.error, d.error_description].filter((p): p is string => typeof p === "string" && p !== "");
  return parts.length ? [...new Set(parts)].join(": ") : undefined;
}

/** A failure as a `ServiceNowError`, with the reason and hint failureHints.ts gives. */
function toError(conn: ServiceNowConnection, f: Failure, ctx: FailureContext): ServiceNowError {
  const { errorCode: _code, reason: _reason, ...details } = f;
  const creds = ctx.authenticated ? conn.credentials() : undefined;
  const auth: DescribeInput["auth"] = creds ? (creds.kind === "basic" ? { kind: "basic", username: creds.username } : { kind: "oauth" }) : { kind: "none" };
  const { info } = ctx;
  const d = describeFailure({
    ...details,
    operation: ctx.operation,
    ...(ctx.table ? { table: ctx.table } : {}),
    path: ctx.path,
    tablePath: ctx.path.startsWith(TABLE_PREFIX),
    instanceUrl: conn.instanceUrl,
    instanceSetting: conn.instanceSetting,
    auth,
    timeoutMs: ctx.timeoutMs,
    giveUp: {
      reason: info.reason,
      attempts: info.attempts,
      elapsedMs: info.elapsedMs,
      ...(info.nextDelayMs !== undefined ? { nextDelayMs: info.nextDelayMs } : {}),
    },
    ...(info.checkError !== undefined ? { checkError: isKeywireError(info.checkError) ? info.checkError.message : "the check failed" } : {}),
  });
  return new ServiceNowError({
    ...details,
    operation: ctx.operation,
    ...(ctx.table ? { table: ctx.table } : {}),
    reason: d.reason,
    hint: d.hint,
    retryable: d.retryable,
  });
}
