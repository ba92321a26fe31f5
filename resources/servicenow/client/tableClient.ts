/**
 * The ServiceNow Table API client.
 *
 * Built inside each provider method and holds no global state. Every request has a
 * deadline, goes through the retry policy, and every failure is rebuilt as a
 * `ServiceNowError` from safe fields, with the reason and hint failureHints.ts
 * gives: library errors, headers and bodies never leave this file.
 */
import { isKeywireHttpError, KeywireError, KeywireHttpError, HttpErrorDetails, isKeywireError } from "../../core/errors";
import { redactAndTrim, toSafeError } from "../../core/redact";
import {
  GiveUpInfo,
  RetryPolicy,
  classifyHttpFailure,
  resolveRetryPolicy,
  serverRequestedDelay,
  withRetry,
} from "../../core/retry";
import { ServiceNowConnection } from "./connection";
import { EncodedQuery, q } from "./encodedQuery";
import { exchange } from "../../core/http";
import { describeFailure } from "./failureHints";
import { OAUTH_TOKEN_PATH, fetchClientCredentialsToken } from "./oauth";
import { randomBytes } from "crypto";

/** A new record's sys_id: 32 lowercase hex characters from a CSPRNG, as the platform's own. */
export function newSysId(): string {
  return randomBytes(16).toString("hex");
}

/** Every value a string: references are flattened by `sysparm_exclude_reference_link=true`. */
export type SnRecord = Record<string, string>;
export type DisplayValue = "true" | "false" | "all";
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";

export interface ListOptions {
  query?: EncodedQuery;
  fields?: string[];
  /** Rows wanted in total (default: one page). More than a page → several GETs. */
  limit?: number;
  offset?: number;
  displayValue?: DisplayValue;
}

export interface RequestEvent {
  method: string;
  table?: string;
  status?: number;
  attempt: number;
}

export interface TableClientOptions {
  /** Per-request deadline, connection to last byte (default 30 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  userAgent?: string;
  /** Observer called after every HTTP exchange; receives no URL, header or body. */
  onRequest?: (e: RequestEvent) => void;
  /** Rows per GET when listing (default 1000). */
  pageSize?: number;
}

export interface RequestOptions {
  /** Query parameters; `undefined` values are left out. */
  query?: Record<string, string | undefined>;
  /** Extra headers (e.g. `x-sn-apikey` for probes: treated as secrets). */
  headers?: Record<string, string>;
  /** JSON body. */
  json?: unknown;
  /** `application/x-www-form-urlencoded` body. */
  form?: string;
  /** `none` sends no connection credentials (probes, the token endpoint). Default `connection`. */
  auth?: "connection" | "none";
  /** More values to redact from any error (probe tokens, …). */
  secrets?: readonly string[];
  /** For error messages, e.g. `probe api key`. Default `<METHOD> <path>`. */
  operation?: string;
  table?: string;
  /** Safe to repeat whatever the outcome. Default: every method but POST. */
  idempotent?: boolean;
  /** Non-2xx statuses returned to the caller instead of thrown. */
  acceptStatus?: readonly number[];
  /** For non-idempotent writes: learns whether a write with unknown outcome landed. */
  wasCommitted?: () => Promise<HttpResult | undefined>;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

export interface HttpResult {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON, the text of a non-JSON answer, or `undefined` when empty. */
  data: unknown;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** A deadline shorter than this cannot complete a TLS handshake; budgets never cut below it. */
const MIN_TIMEOUT_MS = 250;
const DEFAULT_PAGE_SIZE = 1000;
const MAX_PAGE_SIZE = 10_000;
/** Lists are bounded: more rows than this means the query is too broad. */
const MAX_LIST_LIMIT = 100_000;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const TABLE_NAME = /^[a-z0-9_]{1,80}$/;
const SYS_ID = /^[0-9a-f]{32}$/;
const TABLE_PREFIX = "/api/now/table/";
/** Header and query names whose values are credentials. */
const SECRET_NAME = /authorization|apikey|api-key|token|secret|password|cookie/i;

/** A failed ServiceNow call, rebuilt from safe fields. */
export class ServiceNowError extends KeywireHttpError {
  constructor(init: Omit<ConstructorParameters<typeof KeywireHttpError>[0], "platform">) {
    super({ ...init, platform: "servicenow" });
    this.name = "ServiceNowError";
  }
}

function usageError(operation: string, reason: string, hint: string): KeywireError {
  return new KeywireError({ platform: "servicenow", operation, reason, hint });
}

function checkTable(table: string, operation: string): void {
  if (typeof table !== "string" || !TABLE_NAME.test(table)) {
    throw usageError(operation, "the table name is not a ServiceNow table name", "Table names are lower-case letters, digits and underscores");
  }
}

function checkSysId(sysId: string, operation: string): void {
  if (typeof sysId !== "string" || !SYS_ID.test(sysId)) {
    throw usageError(operation, "the sys_id is not 32 lower-case hex characters", "Pass the record's sys_id as returned by the instance");
  }
}

function checkFields(fields: readonly string[] | undefined, operation: string): string | undefined {
  if (!fields || fields.length === 0) return undefined;
  for (const f of fields) {
    if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/.test(f)) {
      throw usageError(operation, `the field name ${JSON.stringify(f).slice(0, 60)} is not valid`, "Field names are lower-case, dot-walked with '.'");
    }
  }
  return fields.join(",");
}

/**
 * Flatten a result object into strings. Under `sysparm_display_value=all` each field is
 * `{value, display_value}`: the value stays under the field name and the display value is
 * added as `dv_<field>` (the prefix ServiceNow's own JSONv2 output uses).
 */
export function toSnRecord(raw: unknown): SnRecord {
  const out: SnRecord = {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return out;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === "string") out[k] = v;
    else if (v === null || v === undefined) out[k] = "";
    else if (typeof v === "number" || typeof v === "boolean") out[k] = String(v);
    else if (typeof v === "object" && !Array.isArray(v) && ("value" in v || "display_value" in v)) {
      const o = v as Record<string, unknown>;
      out[k] = o.value === undefined || o.value === null ? "" : String(o.value);
      if ("display_value" in o) out[`dv_${k}`] = o.display_value === null ? "" : String(o.display_value);
    } else out[k] = JSON.stringify(v);
  }
  return out;
}

function parseBody(text: unknown, contentType: string | undefined): { data: unknown; jsonError: boolean } {
  if (typeof text !== "string" || text === "") return { data: undefined, jsonError: false };
  const looksJson = /json/i.test(contentType ?? "") || /^\s*[{[]/.test(text);
  if (!looksJson) return { data: text, jsonError: false };
  try {
    return { data: JSON.parse(text) as unknown, jsonError: false };
  } catch {
    return { data: text, jsonError: /json/i.test(contentType ?? "") };
  }
}

function isLoopback(origin: string): boolean {
  const h = new URL(origin).hostname;
  return h === "localhost" || h === "[::1]" || /^127\./.test(h);
}

export class TableClient {
  // TS `private`, not `#private`: Pulumi's closure serializer emits methods one by one, which breaks `#` names.
  private readonly conn: ServiceNowConnection;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly userAgent: string;
  private readonly onRequest: ((e: RequestEvent) => void) | undefined;
  private readonly pageSize: number;
  /** Errors already final (e.g. from the nested token fetch): not retried or rebuilt again by an outer call. */
  private readonly finalErrors: WeakSet<object>;

  // Fields are set here, not by initializers: Pulumi's closure serializer keeps only the constructor's code.
  constructor(conn: ServiceNowConnection, opts: TableClientOptions = {}) {
    this.conn = conn;
    this.finalErrors = new WeakSet<object>();
    this.timeoutMs = Math.max(MIN_TIMEOUT_MS, opts.timeoutMs ?? conn.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.retry = resolveRetryPolicy(opts.retry);
    this.userAgent = opts.userAgent ?? "keywire";
    this.onRequest = opts.onRequest;
    this.pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(opts.pageSize ?? DEFAULT_PAGE_SIZE)));
  }

  get instanceUrl(): string {
    return this.conn.instanceUrl;
  }

  /** Records matching `query`. One GET unless more rows than a page are asked for. */
  async list(table: string, opts: ListOptions = {}): Promise<SnRecord[]> {
    const operation = `list ${table}`;
    checkTable(table, operation);
    const limit = opts.limit ?? this.pageSize;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw usageError(operation, `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`, "Narrow the query instead of raising the limit");
    }
    const pageSize = Math.min(limit, this.pageSize);
    const paginating = limit > pageSize;
    // Offset paging needs a stable order, or rows can be skipped or repeated between pages.
    let query = opts.query;
    if (paginating) query = query ? query.orderedBy("sys_id") : q().orderBy("sys_id").build();
    const fields = checkFields(opts.fields, operation);

    const out: SnRecord[] = [];
    let offset = opts.offset ?? 0;
    // Bounded: at most ceil(limit / pageSize) pages.
    for (let page = 0; out.length < limit && page < Math.ceil(limit / pageSize); page++) {
      const want = Math.min(pageSize, limit - out.length);
      const res = await this.call("GET", TABLE_PREFIX + table, {
        operation,
        table,
        // Only the retired /v1/ path answers 404 for an empty result; accept it anyway.
        acceptStatus: [404],
        query: {
          sysparm_query: query?.toString() || undefined,
          sysparm_fields: fields,
          sysparm_limit: String(want),
          sysparm_offset: offset > 0 ? String(offset) : undefined,
          sysparm_display_value: opts.displayValue,
          sysparm_exclude_reference_link: "true",
        },
      });
      if (res.status === 404) break;
      const rows = this.result(res, operation, table, "array") as unknown[];
      out.push(...rows.map(toSnRecord));
      if (rows.length < want) break;
      offset += rows.length;
    }
    return out;
  }

  /** One record, or `undefined` when it does not exist (or an ACL hides it). */
  async get(
    table: string,
    sysId: string,
    opts: { fields?: string[]; displayValue?: DisplayValue } = {},
  ): Promise<SnRecord | undefined> {
    const operation = `get ${table}`;
    checkTable(table, operation);
    checkSysId(sysId, operation);
    const res = await this.call("GET", `${TABLE_PREFIX}${table}/${sysId}`, {
      operation,
      table,
      acceptStatus: [404],
      query: {
        sysparm_fields: checkFields(opts.fields, operation),
        sysparm_display_value: opts.displayValue,
        sysparm_exclude_reference_link: "true",
      },
    });
    if (res.status === 404) return undefined;
    return toSnRecord(this.result(res, operation, table, "object"));
  }

  /**
   * Insert one record (one POST) under a sys_id the client chooses, so that an
   * unknown outcome is settled by asking for that sys_id, never by guessing.
   *
   * After a dropped connection, a timeout or a 5xx the record is looked up by its
   * sys_id before any retry; the retry re-sends the same sys_id, which the instance
   * refuses if the first write landed after all, so a late write can never make a
   * second record. A refusal is also checked by sys_id (a retry refused as a
   * duplicate is the first write's record). When the request got no answer at all,
   * the final check waits one request timeout first, for a write still in flight.
   */
  async create(
    table: string,
    body: Record<string, string>,
    opts: { fields?: string[]; inputDisplayValue?: boolean; displayValue?: DisplayValue; sysId?: string } = {},
  ): Promise<SnRecord> {
    const operation = `create ${table}`;
    checkTable(table, operation);
    const fields = checkFields(opts.fields, operation);
    const sysId = opts.sysId ?? newSysId();
    checkSysId(sysId, operation);
    const readBack = { ...(opts.fields ? { fields: opts.fields } : {}), ...(opts.displayValue ? { displayValue: opts.displayValue } : {}) };
    let checked: SnRecord | undefined;
    let res: HttpResult;
    try {
      res = await this.call("POST", TABLE_PREFIX + table, {
        operation,
        table,
        json: { ...body, sys_id: sysId },
        query: {
          sysparm_fields: fields,
          sysparm_display_value: opts.displayValue,
          sysparm_input_display_value: opts.inputDisplayValue ? "true" : undefined,
          sysparm_exclude_reference_link: "true",
        },
        wasCommitted: async () => {
          checked = await this.get(table, sysId, readBack);
          return checked ? { status: 200, headers: {}, data: undefined } : undefined;
        },
      });
    } catch (err) {
      const found = await this.settleCreate(table, sysId, readBack, err);
      if (found) return found;
      throw this.withSysId(err, sysId, table);
    }
    if (checked && res.data === undefined) return checked;
    return toSnRecord(this.result(res, operation, table, "object"));
  }

  /**
   * The record a failed create may still have made, found by its sys_id. Refusals
   * before any work (401, 429) cannot have written; an answer without a body may
   * hide a write in flight, so that check waits one request timeout first.
   */
  private async settleCreate(table: string, sysId: string, readBack: { fields?: string[]; displayValue?: DisplayValue }, err: unknown): Promise<SnRecord | undefined> {
    if (!isKeywireHttpError(err)) return undefined;
    if (err.kind === "http" && (err.status === 401 || err.status === 429)) return undefined;
    if (err.kind === "other") return undefined;
    if (err.kind !== "http") await this.retry.sleep(this.timeoutMs);
    try {
      return await this.get(table, sysId, readBack);
    } catch {
      // The check failed too: the caller reports the write's outcome as unknown.
      return undefined;
    }
  }

  /** The create's failure, naming the sys_id it was sent with so a person can look for it. */
  private withSysId(err: unknown, sysId: string, table: string): unknown {
    if (!isKeywireHttpError(err)) return err;
    const mayHaveLanded = err.kind !== "http" || (err.status !== undefined && err.status >= 500);
    if (!mayHaveLanded) return err;
    return new ServiceNowError({
      ...err.toInit(),
      outcomeUnknown: true,
      reason: err.reason,
      hint:
        `keywire sent it with sys_id ${sysId} and did not find that record afterwards. If it appears on ${table} later, ` +
        `delete it or adopt it (\`adopt: "${sysId}"\`); otherwise run again. ${err.hint ?? ""}`.trim(),
    });
  }

  /** Change fields of one record (one PATCH; repeating it is harmless, so it is retried). */
  async update(table: string, sysId: string, body: Record<string, string>, opts: { fields?: string[] } = {}): Promise<SnRecord> {
    const operation = `update ${table}`;
    checkTable(table, operation);
    checkSysId(sysId, operation);
    const res = await this.call("PATCH", `${TABLE_PREFIX}${table}/${sysId}`, {
      operation,
      table,
      json: body,
      query: { sysparm_fields: checkFields(opts.fields, operation), sysparm_exclude_reference_link: "true" },
    });
    return toSnRecord(this.result(res, operation, table, "object"));
  }

  /** Delete one record (one DELETE). A record already gone is `absent`, not an error. */
  async delete(table: string, sysId: string): Promise<"deleted" | "absent"> {
    const operation = `delete ${table}`;
    checkTable(table, operation);
    checkSysId(sysId, operation);
    const res = await this.call("DELETE", `${TABLE_PREFIX}${table}/${sysId}`, { operation, table, acceptStatus: [404] });
    return res.status === 404 ? "absent" : "deleted";
  }

  /** Escape hatch for non-table endpoints (probes, OAuth, inbound_event), with the same safety. */
  async request(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<HttpResult> {
    return this.call(method, path, opts);
  }

  /** `result` of a Table API answer, checked for shape. */
  private result(res: HttpResult, operation: string, table: string, shape: "array" | "object"): unknown {
    const body = res.data;
    const result = typeof body === "object" && body !== null ? (body as Record<string, unknown>).result : undefined;
    const ok = shape === "array" ? Array.isArray(result) : typeof result === "object" && result !== null && !Array.isArray(result);
    if (!ok) {
      const html = typeof body === "string" && /<html|<!doctype/i.test(body);
      throw new ServiceNowError({
        kind: "http",
        status: res.status,
        operation,
        table,
        reason: html ? "the instance answered with an HTML page instead of JSON" : "the answer has no usable result",
        hint: html
          ? "A sleeping (hibernating) developer instance answers this way: wake it at developer.servicenow.com, then run again"
          : "Check that servicenow:instance points at a ServiceNow instance",
      });
    }
    return result;
  }

  /** Secrets that any error of this request could contain. */
  private secretsFor(opts: RequestOptions): string[] {
    const out = [...this.conn.secrets(), ...(opts.secrets ?? [])];
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (SECRET_NAME.test(k)) out.push(v, v.replace(/^\S+\s+/, ""));
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v && SECRET_NAME.test(k)) out.push(v);
    return out;
  }

  private notify(e: RequestEvent): void {
    if (!this.onRequest) return;
    try {
      this.onRequest(e);
    } catch {
      // An observer must not change the outcome of a request.
    }
  }

  private async call(method: HttpMethod, path: string, opts: RequestOptions): Promise<HttpResult> {
    // Never the raw path in messages: a caller may have put a secret in its query.
    const operation = opts.operation ?? `${method} ${redactAndTrim(path.split(/[?#]/)[0] ?? "", [], 120)}`;
    const url = new URL(path, this.conn.instanceUrl + "/");
    if (!path.startsWith("/") || path.startsWith("//") || url.origin !== this.conn.instanceUrl || url.search || url.hash) {
      // Credentials must only ever go to the configured instance.
      throw usageError(operation, "the request path must be an absolute path on the instance, without query", "Pass query parameters in opts.query");
    }
    const accepted = new Set(opts.acceptStatus ?? []);
    const idempotent = opts.idempotent ?? method !== "POST";
    const policy = opts.retry ? resolveRetryPolicy({ ...this.retry, ...opts.retry }) : this.retry;
    const timeoutMs = Math.max(MIN_TIMEOUT_MS, opts.timeoutMs ?? this.timeoutMs);
    const ctx = { method, path: url.pathname, operation, table: opts.table, timeoutMs };

    return withRetry<HttpResult>(
      async ({ attempt, remainingMs }) => {
        const res = await this.sendAuthenticated(method, url, opts, attempt, Math.max(MIN_TIMEOUT_MS, Math.min(timeoutMs, remainingMs)));
        if ((res.status >= 200 && res.status < 300) || accepted.has(res.status)) return res;
        throw this.httpFailure(res, opts, ctx, policy.now());
      },
      {
        policy,
        idempotent,
        ...(opts.wasCommitted ? { wasCommitted: opts.wasCommitted } : {}),
        // The instance answers 500 when a business rule fails after the write
        // committed: a 5xx never shows that a request had no effect, so it is an
        // unknown outcome (repeated when idempotent, checked when not).
        classify: (err) =>
          isKeywireHttpError(err) && !this.finalErrors.has(err) && err.kind === "http" && (err.status ?? 0) >= 500 && err.status !== 503
            ? { kind: "unknown-outcome" }
            : isKeywireHttpError(err) && !this.finalErrors.has(err)
            ? classifyHttpFailure({
                kind: err.kind,
                ...(err.status !== undefined ? { status: err.status } : {}),
                ...(err.networkCode !== undefined ? { networkCode: err.networkCode } : {}),
                ...(err.retryAfterMs !== undefined ? { serverDelayMs: err.retryAfterMs } : {}),
              })
            : { kind: "fatal" },
        giveUp: (err, info) => this.finalError(err, info, opts, ctx),
      },
    );
  }

  /** Send once with the connection's credentials; for OAuth, refresh the token once on a 401. */
  private async sendAuthenticated(method: HttpMethod, url: URL, opts: RequestOptions, attempt: number, timeoutMs: number): Promise<HttpResult> {
    const useConn = (opts.auth ?? "connection") === "connection";
    const creds = useConn ? this.conn.credentials() : undefined;
    if (!creds) return this.sendOnce(method, url, opts, attempt, timeoutMs, undefined);
    if (creds.kind === "basic") {
      const basic = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
      return this.sendOnce(method, url, opts, attempt, timeoutMs, basic);
    }
    const tokens = this.conn.oauthTokens();
    if (!tokens) throw usageError(opts.operation ?? method, "the OAuth connection has no token cache", "Build the connection with resolveConnection");
    const fetchToken = () =>
      fetchClientCredentialsToken(
        async (form, secrets) =>
          (
            await this.call("POST", OAUTH_TOKEN_PATH, {
              form,
              auth: "none",
              idempotent: true, // an extra token is harmless
              secrets: [...secrets, ...(opts.secrets ?? [])],
              operation: "fetch OAuth token",
            })
          ).data,
        creds.clientId,
        creds.clientSecret,
      );
    const now = () => this.retry.now();
    const token = await tokens.get(now, fetchToken);
    const res = await this.sendOnce(method, url, opts, attempt, timeoutMs, `Bearer ${token}`);
    if (res.status !== 401) return res;
    tokens.invalidate(token);
    const fresh = await tokens.get(now, fetchToken);
    return this.sendOnce(method, url, opts, attempt, timeoutMs, `Bearer ${fresh}`);
  }

  private async sendOnce(
    method: HttpMethod,
    url: URL,
    opts: RequestOptions,
    attempt: number,
    timeoutMs: number,
    authorization: string | undefined,
  ): Promise<HttpResult> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) params.append(k, v);
    const qs = params.toString();
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": this.userAgent,
      ...(opts.headers ?? {}),
    };
    if (authorization) headers.Authorization = authorization;
    let data: string | undefined;
    if (opts.json !== undefined) {
      data = JSON.stringify(opts.json);
      headers["Content-Type"] = "application/json";
    } else if (opts.form !== undefined) {
      data = opts.form;
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    }

    const sent = await exchange({
      method,
      url: `${url.origin}${url.pathname}${qs ? `?${qs}` : ""}`,
      headers,
      ...(data !== undefined ? { data } : {}),
      timeoutMs,
      maxBytes: MAX_RESPONSE_BYTES,
      loopback: isLoopback(url.origin),
    });
    if (!sent.ok) {
      this.notify({ method, ...(opts.table ? { table: opts.table } : {}), attempt });
      throw toSafeError(sent.error, {
        platform: "servicenow",
        operation: opts.operation ?? `${method} ${url.pathname}`,
        ...(opts.table ? { table: opts.table } : {}),
        secrets: [...this.secretsFor(opts), ...(authorization ? [authorization] : [])],
        ...(sent.timedOut ? { kind: "timeout" as const } : {}),
      });
    }
    this.notify({ method, ...(opts.table ? { table: opts.table } : {}), status: sent.status, attempt });
    const { data: parsed } = parseBody(sent.body, sent.headers["content-type"]);
    return { status: sent.status, headers: sent.headers, data: parsed };
  }

  /** A non-accepted answer as a safe error carrying what the retry policy needs. */
  private httpFailure(res: HttpResult, opts: RequestOptions, ctx: FailureContext, nowMs: number): ServiceNowError {
    const secrets = this.secretsFor(opts);
    const raw = serverMessage(res.data);
    const details: HttpErrorDetails = { kind: "http", method: ctx.method, path: ctx.path };
    if (raw) details.serverMessage = redactAndTrim(raw, secrets);
    const delay = serverRequestedDelay(res.headers, nowMs);
    if (delay !== undefined) details.retryAfterMs = delay;
    const rule = res.headers["x-ratelimit-rule"];
    if (rule) details.rateLimitRule = redactAndTrim(rule, secrets, 120);
    const reset = Number(res.headers["x-ratelimit-reset"]);
    if (Number.isFinite(reset) && reset > 0) details.rateLimitResetAt = new Date(reset * 1000).toISOString();
    else if (delay !== undefined && res.status === 429) details.rateLimitResetAt = new Date(nowMs + delay).toISOString();
    return this.build(details, res.status, opts, ctx, undefined);
  }

  private finalError(err: unknown, info: GiveUpInfo, opts: RequestOptions, ctx: FailureContext): KeywireError {
    if (typeof err === "object" && err !== null && this.finalErrors.has(err)) return err as KeywireError;
    const final = this.finalErrorOf(err, info, opts, ctx);
    this.finalErrors.add(final);
    return final;
  }

  private finalErrorOf(err: unknown, info: GiveUpInfo, opts: RequestOptions, ctx: FailureContext): KeywireError {
    if (!(isKeywireHttpError(err))) {
      return isKeywireError(err) ? err : toSafeError(err, { platform: "servicenow", operation: ctx.operation, secrets: this.secretsFor(opts) });
    }
    const details: HttpErrorDetails = { ...pickDetails(err), attempts: info.attempts };
    const unknown = info.reason === "unknown-outcome" || info.reason === "commit-check-failed";
    if (unknown) details.outcomeUnknown = true;
    return this.build(details, err.status, opts, ctx, info);
  }

  private build(details: HttpErrorDetails, status: number | undefined, opts: RequestOptions, ctx: FailureContext, info: GiveUpInfo | undefined): ServiceNowError {
    const creds = (opts.auth ?? "connection") === "connection" ? this.conn.credentials() : undefined;
    const d = describeFailure({
      ...details,
      ...(status !== undefined ? { status } : {}),
      operation: ctx.operation,
      ...(ctx.table ? { table: ctx.table } : {}),
      path: ctx.path,
      tablePath: ctx.path.startsWith(TABLE_PREFIX),
      instanceUrl: this.conn.instanceUrl,
      auth: creds ? (creds.kind === "basic" ? { kind: "basic", username: creds.username } : { kind: "oauth" }) : { kind: "none" },
      timeoutMs: ctx.timeoutMs,
      ...(info ? { giveUp: { reason: info.reason, attempts: info.attempts, elapsedMs: info.elapsedMs, ...(info.nextDelayMs !== undefined ? { nextDelayMs: info.nextDelayMs } : {}) } } : {}),
      ...(info?.checkError !== undefined ? { checkError: isKeywireError(info.checkError) ? info.checkError.message : "the check failed" } : {}),
    });
    return new ServiceNowError({
      ...details,
      ...(status !== undefined ? { status } : {}),
      operation: ctx.operation,
      ...(ctx.table ? { table: ctx.table } : {}),
      reason: d.reason,
      hint: d.hint,
      retryable: d.retryable,
    });
  }
}

interface FailureContext {
  method: string;
  path: string;
  operation: string;
  table: string | undefined;
  timeoutMs: number;
}

function pickDetails(e: KeywireHttpError): HttpErrorDetails {
  const { kind, networkCode, method, path, serverMessage, attempts, outcomeUnknown, rateLimitRule, rateLimitResetAt, retryAfterMs } = e;
  const all: HttpErrorDetails = { kind, networkCode, method, path, serverMessage, attempts, outcomeUnknown, rateLimitRule, rateLimitResetAt, retryAfterMs } as HttpErrorDetails;
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as unknown as HttpErrorDetails;
}

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
