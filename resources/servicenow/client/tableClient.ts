/**
 * The ServiceNow Table API client.
 *
 * Built inside each provider method and holds no global state. Every request goes
 * through the HTTP pipeline (resources/core/pipeline.ts, with ServiceNow's pieces from
 * platform.ts): a deadline, the retry policy, and every failure rebuilt as a
 * `ServiceNowError` from safe fields, with the reason and hint failureHints.ts gives.
 * This file adds what the Table API needs: paging, `result` shape checks, and
 * creates whose unknown outcome is settled by the sys_id they chose.
 */
import { isKeywireHttpError, KeywireError } from "../../core/errors";
import { Answer, Pipeline, RequestEvent } from "../../core/pipeline";
import { redactAndTrim } from "../../core/redact";
import { RetryPolicy, resolveRetryPolicy } from "../../core/retry";
import { ServiceNowConnection } from "./connection";
import { EncodedQuery, q } from "./encodedQuery";
import { MIN_TIMEOUT_MS, PLATFORM, ServiceNowError, TABLE_PREFIX, serviceNowPipeline } from "./platform";
import { randomBytes } from "crypto";

export { ServiceNowError };
export type { RequestEvent };

/** A new record's sys_id: 32 lowercase hex characters from a CSPRNG, as the platform's own. */
function newSysId(): string {
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
  /** A body sent as it is, under its own content type. */
  text?: { body: string; contentType: string };
  /** `none` sends no connection credentials (probes). Default `connection`. */
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

/** An answer: status, lower-case headers, and the body as parsed JSON, text or `undefined`. */
export type HttpResult = Answer;

const DEFAULT_TIMEOUT_MS = 30_000;
/** How far before a create's POST its fallback look-up reaches, for clocks that differ. */
const CREATE_LOOKUP_MARGIN_MS = 120_000;
const DEFAULT_PAGE_SIZE = 1000;
const MAX_PAGE_SIZE = 10_000;
/** Lists are bounded: more rows than this means the query is too broad. */
const MAX_LIST_LIMIT = 100_000;
const TABLE_NAME = /^[a-z0-9_]{1,80}$/;
const SYS_ID = /^[0-9a-f]{32}$/;

function usageError(operation: string, reason: string, hint: string): KeywireError {
  return new KeywireError({ platform: PLATFORM, operation, reason, hint });
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

export class TableClient {
  private readonly conn: ServiceNowConnection;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly pageSize: number;
  private readonly pipeline: Pipeline;

  constructor(conn: ServiceNowConnection, opts: TableClientOptions = {}) {
    this.conn = conn;
    this.timeoutMs = Math.max(MIN_TIMEOUT_MS, opts.timeoutMs ?? conn.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.retry = resolveRetryPolicy(opts.retry);
    this.pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(opts.pageSize ?? DEFAULT_PAGE_SIZE)));
    this.pipeline = serviceNowPipeline(conn, {
      timeoutMs: this.timeoutMs,
      retry: this.retry,
      userAgent: opts.userAgent ?? "keywire",
      onRequest: opts.onRequest,
    });
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
  async get(table: string, sysId: string, opts: { fields?: string[]; displayValue?: DisplayValue } = {}): Promise<SnRecord | undefined> {
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
    opts: {
      fields?: string[];
      inputDisplayValue?: boolean;
      displayValue?: DisplayValue;
      sysId?: string;
      /** Told when the record came from the look-up by its sys_id, not from the POST's own answer. */
      onFound?: () => void;
      /**
       * Where the record is looked for when no record has the sys_id sent (an instance that
       * makes its own sys_ids): given the instance time the attempt began, minus a margin.
       */
      fallbackLookup?: (since: string) => Promise<SnRecord | undefined>;
      /**
       * On such an instance, after a create whose outcome was once unknown: removes the
       * records a write that landed late made beside `keep` (the retry cannot be refused
       * as a duplicate there). Called one request timeout after the create, so that write has landed.
       */
      removeLateTwins?: (keep: string, since: string) => Promise<void>;
    } = {},
  ): Promise<SnRecord> {
    const operation = `create ${table}`;
    checkTable(table, operation);
    const fields = checkFields(opts.fields, operation);
    const sysId = opts.sysId ?? newSysId();
    checkSysId(sysId, operation);
    const readBack = { ...(opts.fields ? { fields: opts.fields } : {}), ...(opts.displayValue ? { displayValue: opts.displayValue } : {}) };
    // Clocks differ between this machine and the instance: the window starts well before the POST.
    const since = new Date(Date.now() - CREATE_LOOKUP_MARGIN_MS).toISOString().replace("T", " ").slice(0, 19);
    let unknownOutcome = false;
    // The fallback is for a write whose outcome is unknown. A refusal (4xx) of a first attempt
    // made nothing, and the record it collides with may be another stack's; a refusal of a
    // retry may be a collision with this create's own late write.
    const lookUp = async (refused = false): Promise<SnRecord | undefined> => {
      const fallback = !refused || unknownOutcome;
      if (!refused) unknownOutcome = true;
      return (await this.get(table, sysId, readBack)) ?? (fallback ? await opts.fallbackLookup?.(since) : undefined);
    };
    // An instance that made its own sys_id cannot refuse a retry as a duplicate: a write that
    // landed late is found and removed once it has had time to land.
    const settled = async (record: SnRecord): Promise<SnRecord> => {
      if (unknownOutcome && record.sys_id !== sysId && opts.removeLateTwins) {
        await this.retry.sleep(this.timeoutMs);
        await opts.removeLateTwins(record.sys_id, since);
      }
      return record;
    };
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
          checked = await lookUp();
          return checked ? { status: 200, headers: {}, data: undefined } : undefined;
        },
      });
    } catch (err) {
      const found = await this.settleCreate(lookUp, err);
      if (found) {
        opts.onFound?.();
        return settled(found);
      }
      throw this.withSysId(err, sysId, table);
    }
    if (checked && res.data === undefined) {
      opts.onFound?.();
      return settled(checked);
    }
    return settled(toSnRecord(this.result(res, operation, table, "object")));
  }

  /**
   * The record a failed create may still have made, found by its sys_id (or, where the
   * instance made its own, by the caller's fallback look-up). Refusals
   * before any work (401, 429) cannot have written; an answer without a body may
   * hide a write in flight, so that check waits one request timeout first.
   */
  private async settleCreate(lookUp: (refused?: boolean) => Promise<SnRecord | undefined>, err: unknown): Promise<SnRecord | undefined> {
    if (!isKeywireHttpError(err)) return undefined;
    if (err.kind === "http" && (err.status === 401 || err.status === 429)) return undefined;
    if (err.kind === "other") return undefined;
    if (err.kind !== "http") await this.retry.sleep(this.timeoutMs);
    try {
      return await lookUp(err.kind === "http" && err.status !== undefined && err.status < 500);
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
          : `Check that ${this.conn.instanceSetting} points at a ServiceNow instance`,
      });
    }
    return result;
  }

  private call(method: HttpMethod, path: string, opts: RequestOptions): Promise<HttpResult> {
    return this.pipeline.send({
      method,
      path,
      // Never the raw path in messages: a caller may have put a secret in its query.
      operation: opts.operation ?? `${method} ${redactAndTrim(path.split(/[?#]/)[0] ?? "", [], 120)}`,
      query: opts.query,
      headers: opts.headers,
      json: opts.json,
      form: opts.form,
      text: opts.text,
      anonymous: opts.auth === "none",
      table: opts.table,
      idempotent: opts.idempotent ?? method !== "POST",
      acceptStatus: opts.acceptStatus,
      wasCommitted: opts.wasCommitted,
      secrets: opts.secrets,
      timeoutMs: opts.timeoutMs,
      retry: opts.retry,
    });
  }
}
