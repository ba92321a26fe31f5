/**
 * The one HTTP pipeline every platform's client sends through, layered as a
 * middleware stack in the spirit of the AWS SDK v3's:
 *
 *   authenticate → retry → send, and on the way out: rebuild the error
 *
 * - authenticate (the platform's, optional): adds its credentials and sends; it may
 *   send once more (ServiceNow replaces an OAuth token refused with 401). It wraps
 *   the retry loop, so a credential source that makes requests of its own (the
 *   OAuth token client, itself a pipeline without this layer) never runs a retry
 *   loop inside another.
 * - retry: core/retry.ts, classifying failures the platform's way where it differs.
 * - send: one exchange (core/http.ts) with the attempt's deadline; the body parsed
 *   (`parseBody`); any status outside 2xx and the accepted ones is a failure; a
 *   request that got no answer is rebuilt through core/redact.ts at once.
 * - rebuild: the last failure's safe facts become the platform's typed error, with
 *   its reason and hint (`Platform.toError`).
 *
 * Each platform supplies a `Platform`: how it authenticates, how it classifies a
 * failure, how it reads a failed answer, how it words the error, and its secrets.
 */
import { CodedHttpError, HttpErrorDetails, KeywireError, KeywireHttpError, isKeywireError, isKeywireHttpError } from "./errors";
import { exchange } from "./http";
import { redactAndTrim, toSafeError, transportFailureInit } from "./redact";
import { GiveUpInfo, RetryPolicy, RetryVerdict, classifyKeywireError, resolveRetryPolicy, serverRequestedDelay, withRetry } from "./retry";
import { isLoopbackHost } from "./url";

export type QueryValue = string | number | boolean | undefined;

export interface PipelineRequest {
  method: string;
  /** An absolute path on the pipeline's origin, without query or fragment. */
  path: string;
  /** Query parameters; `undefined` values are left out. */
  query?: Record<string, QueryValue>;
  /** Extra headers; values under credential-like names are redacted from errors. */
  headers?: Record<string, string>;
  /** JSON body. */
  json?: unknown;
  /** `application/x-www-form-urlencoded` body. */
  form?: string;
  /** A body sent as it is, under its own content type (an SNS delivery is JSON sent as text/plain). */
  text?: { body: string; contentType: string };
  /** Send without the platform's credentials (probes, the OAuth token endpoint). */
  anonymous?: boolean;
  /** What the request does, for messages. */
  operation: string;
  table?: string;
  /** Safe to repeat whatever the outcome. */
  idempotent: boolean;
  /** Non-2xx statuses returned to the caller instead of thrown. */
  acceptStatus?: readonly number[];
  /** For non-idempotent writes: learns whether a write with unknown outcome landed. */
  wasCommitted?: () => Promise<Answer | undefined>;
  /** More values to redact from any error of this request. */
  secrets?: readonly string[];
  /** Deadline of one attempt; the pipeline's when absent. */
  timeoutMs?: number;
  /** Overrides of the pipeline's retry policy. */
  retry?: Partial<RetryPolicy>;
}

export interface Answer {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON, the text of a non-JSON answer, or `undefined` when empty. */
  data: unknown;
}

/** What the platform's error is built from: safe fields only, already redacted. */
export interface Failure extends HttpErrorDetails {
  status?: number;
  /** The platform's own error code, read from the answer by `Platform.readFailure`. */
  errorCode?: string;
  /** What went wrong, in words: the server's, or how a request without answer failed. */
  reason: string;
}

/** The request a failure belongs to, and how the retry loop ended. */
export interface FailureContext {
  operation: string;
  table?: string;
  /** URL path only: the query may hold secrets. */
  path: string;
  /** The request's deadline of one attempt. */
  timeoutMs: number;
  /** Whether the platform's credentials went with the request. */
  authenticated: boolean;
  info: GiveUpInfo;
}

/** How the retry loop ended: an answer, or the last attempt's failure. */
export type Settled = { ok: true; answer: Answer } | { ok: false; error: unknown; info: GiveUpInfo };

/** Sends the request with these credential headers through the retry loop. */
export type SendWith = (credentials: Record<string, string>) => Promise<Settled>;

/** What differs by platform. */
export interface Platform {
  /** `servicenow`, `freshservice`, `ivanti`. */
  readonly name: string;
  /** Adds the credentials and sends (`operation` names the request, for its own errors); absent, requests go without any. */
  authenticate?: (send: SendWith, operation: string) => Promise<Settled>;
  /** The retry verdict of a failed attempt; default `classifyKeywireError`. */
  classify?: (failure: KeywireHttpError) => RetryVerdict;
  /** The server's own words and error code in a failed answer's body; the pipeline redacts the words. */
  readFailure: (data: unknown) => { message?: string | undefined; code?: string | undefined };
  /** The platform's typed error for a failure. */
  toError: (failure: Failure, ctx: FailureContext) => KeywireError;
  /** Every secret the platform's requests may carry, for redaction. */
  secrets: () => readonly string[];
}

/** An observed exchange; carries no URL, header or body. */
export interface RequestEvent {
  method: string;
  table?: string;
  status?: number;
  attempt: number;
}

export interface PipelineSettings {
  /** Where every request goes: scheme, host and port. */
  origin: string;
  /** Deadline of one attempt, connection to last byte. */
  timeoutMs: number;
  /** No attempt's deadline is cut below this, whatever budget is left. */
  minTimeoutMs: number;
  /** Longest answer accepted. */
  maxBytes: number;
  retry: RetryPolicy;
  userAgent: string;
  /** Observer called after every exchange. */
  onRequest?: ((e: RequestEvent) => void) | undefined;
}

export interface Pipeline {
  readonly origin: string;
  /** The answer, or the platform's typed error. */
  send(req: PipelineRequest): Promise<Answer>;
}

/** Header and query names whose values are credentials. */
const SECRET_NAME = /authorization|apikey|api-key|token|secret|password|cookie/i;

/** A body as text becomes JSON when it says or looks so, else stays text; empty is `undefined`. */
export function parseBody(text: unknown, contentType: string | undefined): unknown {
  if (typeof text !== "string" || text.trim() === "") return undefined;
  if (!/json/i.test(contentType ?? "") && !/^\s*[{[]/.test(text)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Whether the platform refused the credentials (401), as an answer or as the last failure. */
export function refusedCredentials(s: Settled): boolean {
  if (s.ok) return s.answer.status === 401;
  return isKeywireHttpError(s.error) && s.error.kind === "http" && s.error.status === 401;
}

export function createPipeline(platform: Platform, settings: PipelineSettings): Pipeline {
  const origin = settings.origin;
  const loopback = isLoopbackHost(new URL(origin).hostname);

  function notify(e: RequestEvent): void {
    if (!settings.onRequest) return;
    try {
      settings.onRequest(e);
    } catch {
      // An observer must not change the outcome of a request.
    }
  }

  /** Secrets that any error of this request could contain. */
  function secretsOf(req: PipelineRequest, credentials: Record<string, string>): string[] {
    const out = [...platform.secrets(), ...(req.secrets ?? [])];
    for (const [k, v] of Object.entries({ ...req.headers, ...credentials })) if (SECRET_NAME.test(k)) out.push(v, v.replace(/^\S+\s+/, ""));
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined && SECRET_NAME.test(k)) out.push(String(v));
    return out;
  }

  async function send(req: PipelineRequest): Promise<Answer> {
    const url = new URL(req.path, `${origin}/`);
    if (!req.path.startsWith("/") || req.path.startsWith("//") || url.origin !== origin || url.search || url.hash) {
      // Credentials only ever go to the configured origin.
      throw new KeywireError({
        platform: platform.name,
        operation: req.operation,
        reason: "the request path must be an absolute path on the service's origin, without query",
        hint: "Pass query parameters in the request's query option",
      });
    }
    const policy = req.retry ? resolveRetryPolicy({ ...settings.retry, ...req.retry }) : settings.retry;
    const timeoutMs = Math.max(settings.minTimeoutMs, req.timeoutMs ?? settings.timeoutMs);
    const authenticate = req.anonymous ? undefined : platform.authenticate;
    const sendWith: SendWith = (credentials) => retried(req, url, policy, timeoutMs, credentials);
    const settled = authenticate ? await authenticate(sendWith, req.operation) : await sendWith({});
    if (settled.ok) return settled.answer;
    const ctx: FailureContext = {
      operation: req.operation,
      ...(req.table ? { table: req.table } : {}),
      path: url.pathname,
      timeoutMs,
      authenticated: authenticate !== undefined,
      info: settled.info,
    };
    throw rebuild(settled.error, req, ctx);
  }

  /** The retry loop around single sends; never throws, it reports how it ended. */
  async function retried(req: PipelineRequest, url: URL, policy: RetryPolicy, timeoutMs: number, credentials: Record<string, string>): Promise<Settled> {
    let last: { error: unknown; info: GiveUpInfo } | undefined;
    try {
      const answer = await withRetry<Answer>(
        ({ attempt, remainingMs }) => sendOnce(req, url, credentials, attempt, Math.max(settings.minTimeoutMs, Math.min(timeoutMs, remainingMs)), policy),
        {
          policy,
          idempotent: req.idempotent,
          ...(req.wasCommitted ? { wasCommitted: req.wasCommitted } : {}),
          // Only a send's own failures are judged; anything else thrown is a bug.
          classify: (err) => (isKeywireHttpError(err) ? (platform.classify ?? classifyKeywireError)(err) : { kind: "fatal" }),
          giveUp: (error, info) => {
            last = { error, info };
            return error;
          },
        },
      );
      return { ok: true, answer };
    } catch (thrown) {
      if (last) return { ok: false, ...last };
      throw thrown;
    }
  }

  /** One exchange: an accepted answer, or a thrown failure carrying safe facts. */
  async function sendOnce(
    req: PipelineRequest,
    url: URL,
    credentials: Record<string, string>,
    attempt: number,
    timeoutMs: number,
    policy: RetryPolicy,
  ): Promise<Answer> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) params.append(k, String(v));
    const qs = params.toString();
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": settings.userAgent, ...req.headers, ...credentials };
    let data: string | undefined;
    if (req.json !== undefined) {
      data = JSON.stringify(req.json);
      headers["Content-Type"] = "application/json";
    } else if (req.form !== undefined) {
      data = req.form;
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    } else if (req.text !== undefined) {
      data = req.text.body;
      headers["Content-Type"] = req.text.contentType;
    }
    const table = req.table ? { table: req.table } : {};
    const sent = await exchange({
      method: req.method,
      url: `${origin}${url.pathname}${qs ? `?${qs}` : ""}`,
      headers,
      ...(data !== undefined ? { data } : {}),
      timeoutMs,
      maxBytes: settings.maxBytes,
      loopback,
    });
    if (!sent.ok) {
      notify({ method: req.method, ...table, attempt });
      const ctx = {
        platform: platform.name,
        operation: req.operation,
        method: req.method,
        path: url.pathname,
        timeoutMs,
        hint: "",
        secrets: secretsOf(req, credentials),
      };
      throw new CodedHttpError({ ...transportFailureInit(sent.error, sent.timedOut, ctx), ...table });
    }
    notify({ method: req.method, ...table, status: sent.status, attempt });
    const answer: Answer = { status: sent.status, headers: sent.headers, data: parseBody(sent.body, sent.headers["content-type"]) };
    if ((answer.status >= 200 && answer.status < 300) || (req.acceptStatus ?? []).includes(answer.status)) return answer;
    throw answerFailure(answer, req, url.pathname, secretsOf(req, credentials), policy.now());
  }

  /** A failed answer as safe facts: the server's words redacted, and what the retry policy needs. */
  function answerFailure(res: Answer, req: PipelineRequest, path: string, secrets: string[], nowMs: number): CodedHttpError {
    const said = platform.readFailure(res.data);
    const serverMessage = said.message ? redactAndTrim(said.message, secrets) : "";
    const details: HttpErrorDetails = { kind: "http", method: req.method, path };
    if (serverMessage) details.serverMessage = serverMessage;
    const delay = serverRequestedDelay(res.headers, nowMs);
    if (delay !== undefined) details.retryAfterMs = delay;
    const rule = res.headers["x-ratelimit-rule"];
    if (rule) details.rateLimitRule = redactAndTrim(rule, secrets, 120);
    const reset = Number(res.headers["x-ratelimit-reset"]);
    if (Number.isFinite(reset) && reset > 0) details.rateLimitResetAt = new Date(reset * 1000).toISOString();
    else if (delay !== undefined && res.status === 429) details.rateLimitResetAt = new Date(nowMs + delay).toISOString();
    return new CodedHttpError({
      ...details,
      platform: platform.name,
      operation: req.operation,
      ...(req.table ? { table: req.table } : {}),
      status: res.status,
      reason: serverMessage || `the server answered ${res.status}`,
      hint: "",
      ...(said.code !== undefined ? { errorCode: said.code } : {}),
    });
  }

  /** The error the caller sees: the platform's, built from the last failure's facts. */
  function rebuild(error: unknown, req: PipelineRequest, ctx: FailureContext): KeywireError {
    if (isKeywireHttpError(error)) {
      const unknown = ctx.info.reason === "unknown-outcome" || ctx.info.reason === "commit-check-failed";
      return platform.toError({ ...failureOf(error), attempts: ctx.info.attempts, ...(unknown ? { outcomeUnknown: true } : {}) }, ctx);
    }
    if (isKeywireError(error)) return error;
    return toSafeError(error, {
      platform: platform.name,
      operation: req.operation,
      ...(req.table ? { table: req.table } : {}),
      secrets: secretsOf(req, {}),
      kind: "other",
    });
  }

  return { origin, send };
}

/** The facts a send's failure carries. */
function failureOf(e: KeywireHttpError): Failure {
  const { kind, networkCode, method, path, serverMessage, rateLimitRule, rateLimitResetAt, retryAfterMs, status, reason } = e;
  const errorCode = (e as { errorCode?: unknown }).errorCode;
  const all: Record<string, unknown> = { kind, networkCode, method, path, serverMessage, rateLimitRule, rateLimitResetAt, retryAfterMs, status, reason };
  if (typeof errorCode === "string") all.errorCode = errorCode;
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as unknown as Failure;
}
