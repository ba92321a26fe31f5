/**
 * Typed errors that are safe to show, log, serialize and store.
 *
 * Every field is plain data built by keywire itself; dynamic text that came from a
 * server or a library (a server's error message, a URL) must already have been passed
 * through `redact` before it reaches one of these constructors. Errors never keep a raw
 * library object as `cause`: HTTP library errors carry request headers and bodies.
 */

/** The fields every keywire error carries, and the only ones `toJSON` returns. */
interface KeywireErrorFields {
  /** HTTP status, when the failure was an HTTP answer. */
  status?: number;
  /** `servicenow`, `freshservice`, `ivanti`, `aws`, … */
  platform: string;
  /** What keywire was doing, e.g. `create api_key`, `resolve connection`. */
  operation: string;
  table?: string;
  /** What the operator should do about it. */
  hint: string;
  /** Whether trying again later may succeed without changing anything. */
  retryable: boolean;
}

export interface KeywireErrorInit {
  platform: string;
  operation: string;
  table?: string;
  status?: number;
  /** Why it probably failed, without a trailing period. Already redacted. */
  reason: string;
  hint: string;
  retryable?: boolean;
  /** Only a sanitized error or a string: never a library error object. */
  cause?: KeywireError | string;
}

/** Safe JSON shape of a keywire error. */
export interface KeywireErrorJSON extends KeywireErrorFields {
  name: string;
  message: string;
  cause?: KeywireErrorJSON | string;
}

function trimPeriod(s: string): string {
  return s.trim().replace(/[.\s]+$/, "");
}

/** "what failed: why it probably failed. What to do." */
export function formatErrorMessage(init: KeywireErrorInit): string {
  const onTable = init.table && !init.operation.includes(init.table) ? ` on table ${init.table}` : "";
  const status = init.status !== undefined ? ` (HTTP ${init.status})` : "";
  const hint = init.hint.trim();
  const endedHint = hint && !/[.!?]$/.test(hint) ? `${hint}.` : hint;
  return `[${init.platform}] ${init.operation}${onTable} failed${status}: ${trimPeriod(init.reason)}.${endedHint ? ` ${endedHint}` : ""}`;
}

export class KeywireError extends Error implements KeywireErrorFields {
  // Optional fields are `declare`d and set only when defined, so inspect output stays short.
  declare readonly status?: number;
  readonly platform: string;
  readonly operation: string;
  declare readonly table?: string;
  /** Why it failed, as in the message; kept so a caller can rebuild the error with a better hint. */
  readonly reason: string;
  readonly hint: string;
  readonly retryable: boolean;
  declare readonly cause?: KeywireError | string;

  constructor(init: KeywireErrorInit) {
    const message = formatErrorMessage(init);
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "KeywireError";
    if (init.status !== undefined) this.status = init.status;
    this.platform = init.platform;
    this.operation = init.operation;
    if (init.table !== undefined) this.table = init.table;
    this.reason = init.reason;
    this.hint = init.hint;
    this.retryable = init.retryable ?? false;
  }

  toJSON(): KeywireErrorJSON {
    return baseErrorJSON(this);
  }
}

function baseErrorJSON(e: KeywireError): KeywireErrorJSON {
  const out: KeywireErrorJSON = {
    name: e.name,
    message: e.message,
    platform: e.platform,
    operation: e.operation,
    hint: e.hint,
    retryable: e.retryable,
  };
  if (e.status !== undefined) out.status = e.status;
  if (e.table !== undefined) out.table = e.table;
  if (e.cause !== undefined) out.cause = typeof e.cause === "string" ? e.cause : e.cause.toJSON();
  return out;
}

/** A configuration value is missing or invalid; `key` names it (`servicenow:instance`). */
export class KeywireConfigError extends KeywireError {
  declare readonly key?: string;
  constructor(init: Omit<KeywireErrorInit, "retryable"> & { key?: string }) {
    super({ ...init, retryable: false });
    this.name = "KeywireConfigError";
    if (init.key !== undefined) this.key = init.key;
  }
  override toJSON(): KeywireErrorJSON & { key?: string } {
    return configErrorJSON(this);
  }
}

function configErrorJSON(e: KeywireConfigError): KeywireErrorJSON & { key?: string } {
  return e.key === undefined ? baseErrorJSON(e) : { ...baseErrorJSON(e), key: e.key };
}

/** How an HTTP exchange failed. */
export type HttpFailureKind =
  /** The server answered with a status keywire treats as a failure. */
  | "http"
  /** The connection failed or dropped (`networkCode` says how). */
  | "network"
  /** No complete answer within the time limit. */
  | "timeout"
  /** Anything else (a bug, a bad option, a non-Error value thrown). */
  | "other";

export interface HttpErrorDetails {
  kind: HttpFailureKind;
  /** Node/axios error code such as `ECONNRESET`: never contains data. */
  networkCode?: string;
  method?: string;
  /** URL path only: the query string may hold secrets (`x-sn-apikey`). */
  path?: string;
  /** The server's own error text, redacted and shortened. */
  serverMessage?: string;
  /** How many attempts were made before giving up. */
  attempts?: number;
  /** True when a write may or may not have been applied. */
  outcomeUnknown?: boolean;
  /** Rate-limit information from a 429. */
  rateLimitRule?: string;
  /** ISO time when the rate limit resets. */
  rateLimitResetAt?: string;
  /** Delay the server asked for (Retry-After / X-RateLimit-Reset), in ms. */
  retryAfterMs?: number;
}

export type KeywireHttpErrorJSON = KeywireErrorJSON & HttpErrorDetails;

const HTTP_DETAIL_KEYS: readonly (keyof HttpErrorDetails)[] = [
  "kind",
  "networkCode",
  "method",
  "path",
  "serverMessage",
  "attempts",
  "outcomeUnknown",
  "rateLimitRule",
  "rateLimitResetAt",
  "retryAfterMs",
];

/** An HTTP failure rebuilt from safe parts only (see `toSafeError` in redact.ts). */
export class KeywireHttpError extends KeywireError implements HttpErrorDetails {
  readonly kind: HttpFailureKind;
  declare readonly networkCode?: string;
  declare readonly method?: string;
  declare readonly path?: string;
  declare readonly serverMessage?: string;
  declare readonly attempts?: number;
  declare readonly outcomeUnknown?: boolean;
  declare readonly rateLimitRule?: string;
  declare readonly rateLimitResetAt?: string;
  declare readonly retryAfterMs?: number;

  constructor(init: KeywireErrorInit & HttpErrorDetails) {
    super(init);
    this.name = "KeywireHttpError";
    this.kind = init.kind;
    // Copy only defined details so inspect/JSON output stays short.
    const self = this as unknown as Record<string, unknown>;
    for (const k of HTTP_DETAIL_KEYS) if (init[k] !== undefined) self[k] = init[k];
  }

  /**
   * The constructor input that rebuilds this error, for copies with changed fields.
   * (Not named `details`: gRPC reads an error's `details` as its message text, and
   * dynamic-provider errors travel to the engine over gRPC.)
   */
  toInit(): HttpErrorDetails & Omit<KeywireErrorInit, "reason"> {
    return httpErrorInit(this);
  }

  override toJSON(): KeywireHttpErrorJSON {
    return httpErrorJSON(this);
  }
}

function httpErrorInit(e: KeywireHttpError): HttpErrorDetails & Omit<KeywireErrorInit, "reason"> {
  const out: HttpErrorDetails & Omit<KeywireErrorInit, "reason"> = {
    kind: e.kind,
    platform: e.platform,
    operation: e.operation,
    hint: e.hint,
    retryable: e.retryable,
  };
  if (e.status !== undefined) out.status = e.status;
  if (e.table !== undefined) out.table = e.table;
  if (e.cause !== undefined) out.cause = e.cause;
  const src = e as unknown as Record<string, unknown>;
  const dst = out as unknown as Record<string, unknown>;
  for (const k of HTTP_DETAIL_KEYS) if (src[k] !== undefined) dst[k] = src[k];
  return out;
}

function httpErrorJSON(e: KeywireHttpError): KeywireHttpErrorJSON {
  const out: KeywireHttpErrorJSON = { ...baseErrorJSON(e), kind: e.kind };
  const src = e as unknown as Record<string, unknown>;
  const dst = out as unknown as Record<string, unknown>;
  for (const k of HTTP_DETAIL_KEYS) if (src[k] !== undefined) dst[k] = src[k];
  return out;
}

/**
 * An HTTP failure that also carries the platform's own error code (Freshservice's
 * `invalid_credentials`, Ivanti's `ISM_4001`, …).
 */
export class CodedHttpError extends KeywireHttpError {
  readonly errorCode?: string;
  constructor(init: KeywireErrorInit & HttpErrorDetails & { errorCode?: string }) {
    super(init);
    this.name = "CodedHttpError";
    if (init.errorCode !== undefined) this.errorCode = init.errorCode;
  }
  override toJSON(): KeywireHttpErrorJSON & { errorCode?: string } {
    return this.errorCode === undefined ? super.toJSON() : { ...super.toJSON(), errorCode: this.errorCode };
  }
}

/**
 * Whether a value is a keywire error. Checked by shape, not `instanceof`: a program
 * and the provider it loads may each hold their own copy of keywire's modules.
 */
export function isKeywireError(e: unknown): e is KeywireError {
  if (typeof e !== "object" || e === null) return false;
  const k = e as Partial<KeywireError>;
  return (
    typeof k.platform === "string" &&
    typeof k.operation === "string" &&
    typeof k.hint === "string" &&
    typeof k.message === "string" &&
    typeof k.toJSON === "function"
  );
}

/** Whether a value is a keywire HTTP error (shape check, see isKeywireError). */
export function isKeywireHttpError(e: unknown): e is KeywireHttpError {
  return isKeywireError(e) && typeof (e as Partial<KeywireHttpError>).kind === "string" && typeof (e as Partial<KeywireHttpError>).toInit === "function";
}
