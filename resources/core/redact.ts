/**
 * Secret redaction, and the one way a thrown value becomes something safe to rethrow.
 *
 * HTTP library errors (AxiosError above all) carry `config.headers.Authorization`,
 * `config.auth`, request bodies with client secrets, `request` objects with sockets and
 * `response.config`; printing or serializing one leaks credentials. `toSafeError` copies
 * out a few plain fields, redacts every piece of text it keeps, and drops the rest.
 */
import { HttpErrorDetails, HttpFailureKind, KeywireError, KeywireErrorInit, KeywireHttpError, isKeywireError, isKeywireHttpError } from "./errors";

export const REDACTED = "[REDACTED]";

/** Shorter values cannot be told apart from ordinary words, so they are not replaced literally. */
const MIN_SECRET_LENGTH = 3;
/** Text kept from a server or library message is cut to this length. */
const MAX_KEPT_TEXT = 300;

/**
 * Names whose value is a credential, whatever the syntax around them. Each is matched
 * as a whole name, case-insensitively, in every syntax `NAMED_VALUE_SYNTAXES` knows.
 */
const SECRET_NAMES: readonly string[] = [
  // HTTP authentication headers; Ivanti's header value is `rest_api_key=<key>`.
  "authorization",
  "proxy-authorization",
  // ServiceNow's API-key header and query parameter, and Ivanti's key name.
  "x-sn-apikey",
  "rest_api_key",
  "api_key",
  "apikey",
  // Passwords: sys_user.user_password is how ServiceNow names a user's password field.
  "password",
  "passwd",
  "user_password",
  // OAuth.
  "client_secret",
  "access_token",
  "refresh_token",
  "id_token",
  "token",
  // Session cookies: the headers that carry them, and the cookies ServiceNow and its
  // load balancer set, which are a logged-in session on their own.
  "cookie",
  "set-cookie",
  "jsessionid",
  "glide_user_route",
  "glide_user_session",
  "glide_user",
  "glide_session_store",
];

/** Headers whose whole value (to the end of the line) is cookies: every cookie in it goes. */
const COOKIE_HEADERS: readonly string[] = ["cookie", "set-cookie"];

/** Authorization schemes kept in front of a redacted value, so the text still says which one it was. */
const AUTH_SCHEME = String.raw`(?:basic|bearer|digest|negotiate)`;

/**
 * The start of a name: not the tail of a longer word (`password` is not found inside
 * `user_password`, which has its own entry), but found right after a URL-encoded
 * character (`%26password%3D…`).
 */
const NAME_START = String.raw`(?:(?<![A-Za-z0-9_-])|(?<=%[0-9A-Fa-f]{2}))`;

function namesPattern(names: readonly string[]): string {
  // Longest first, so `glide_user_route` is tried before `glide_user`.
  return [...names]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join("|");
}

/**
 * Every syntax a named value is written in, each built from the same name list, so a
 * name added to `SECRET_NAMES` is covered in all of them. In each pattern group 1 is
 * what is kept (the name, separator, opening quote and auth scheme); the rest of the
 * match is the value.
 */
function namedValueSyntaxes(names: readonly string[], cookieHeaders: readonly string[]): RegExp[] {
  const name = namesPattern(names);
  const cookie = namesPattern(cookieHeaders);
  const sep = String.raw`\s*[:=]\s*`;
  // A name as is or in quotes (inspect quotes names with a dash; JSON quotes all).
  const quotedName = (n: string) => String.raw`${NAME_START}(?<nameQuote>["']?)(?:${n})\k<nameQuote>`;
  const scheme = String.raw`(?:${AUTH_SCHEME}\s+)?`;
  // URL-encoded: `%3D` is `=`, `%3A` is `:`, `%20` or `+` a space, `%22`/`%27` quotes;
  // the value ends at an encoded space, quote, `&`, `,`, `;` or line break.
  const encSep = String.raw`%3[AaDd](?:%20|\+)*`;
  const encQuote = String.raw`(?:%2[27])?`;
  const encValueChar = String.raw`(?:[^\s&"'#,;%]|%(?!2[0267Cc]|3[Bb]|0[AaDd])[0-9A-Fa-f]{2})`;
  return [
    // Quoted values: Node inspect `'x-sn-apikey': 'now_…'`, `password: '…'`,
    // `Authorization: 'Bearer …'`; JSON `"client_secret":"…"`. The value runs to the
    // matching quote; an escaped quote does not end it.
    new RegExp(String.raw`(${quotedName(name)}${sep}(?<valueQuote>["'])${scheme})(?:(?!\k<valueQuote>)[^\\\r\n]|\\.)+`, "gi"),
    // Cookie header lines, `Cookie: JSESSIONID=…; glide_user_route=…` and
    // `Set-Cookie: …`: the whole rest of the line, whichever cookies it holds.
    new RegExp(String.raw`(${quotedName(cookie)}\s*:\s*)[^\r\n"']+`, "gi"),
    // Unquoted values: header `Authorization: Bearer …`, `x-sn-apikey: …`; form
    // bodies and queries `user_password=…`, `api_key=…`.
    new RegExp(String.raw`(${quotedName(name)}${sep}${scheme})[^\s,;"'}&]+`, "gi"),
    // URL-encoded: `x-sn-apikey%3D…`, `x-sn-apikey%3A%20…`, `%22password%22%3A%22…`.
    new RegExp(String.raw`(${NAME_START}${encQuote}(?:${name})${encQuote}${encSep}${encQuote}(?:${AUTH_SCHEME}(?:%20|\+)+)?)${encValueChar}+`, "gi"),
  ];
}

const NAMED_VALUE_SYNTAXES: readonly RegExp[] = namedValueSyntaxes(SECRET_NAMES, COOKIE_HEADERS);

/** Values that are credentials whatever name they are under. */
const SECRET_SHAPES: readonly [RegExp, string][] = [
  // ServiceNow API-key tokens: `now_` and base64url, 86 characters when issued, any
  // length in tests and other tools. A random token almost always has an upper-case
  // letter, a digit or a dash; snake_case identifiers that start with `now_` have none.
  [/(?<![A-Za-z0-9_])now_(?=[A-Za-z0-9_-]*[A-Z0-9-])[A-Za-z0-9_-]{8,}/g, REDACTED],
  // Userinfo in URLs: scheme://user:pass@host. Up to the last `@` before the path, so
  // a password with a raw `@` goes whole. The scheme must start a word and the userinfo
  // is bounded: otherwise a long run of letters costs time quadratic in its length.
  [/(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}:\/\/)[^\s/?#'"<>]{1,1024}@/gi, `$1${REDACTED}@`],
  // A scheme followed by something credential-shaped (has a digit or base64 punctuation),
  // so prose such as "Basic authentication" is left alone.
  [/(\b(?:basic|bearer)\s+)(?=[A-Za-z0-9+/._~-]*[0-9+/=])[A-Za-z0-9+/._~-]{8,}=*/gi, `$1${REDACTED}`],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every spelling of a secret that may appear in text: as-is, URL-encoded, form-encoded. */
function spellings(secret: string): string[] {
  const out = new Set<string>([secret]);
  try {
    out.add(encodeURIComponent(secret));
  } catch {
    // Lone surrogates cannot be URI-encoded; the literal form is still covered.
  }
  out.add(new URLSearchParams({ v: secret }).toString().slice(2));
  out.add(JSON.stringify(secret).slice(1, -1));
  return [...out].filter((s) => s.length >= MIN_SECRET_LENGTH);
}

/**
 * Replace every occurrence of the given secrets (and their encoded spellings), then
 * every value that looks like a credential, with `[REDACTED]`.
 */
export function redact(text: string, secrets: Iterable<string | undefined> = []): string {
  let out = String(text);
  const all: string[] = [];
  for (const s of secrets) if (typeof s === "string" && s.length >= MIN_SECRET_LENGTH) all.push(...spellings(s));
  // Longest first, so a secret that contains another is removed whole.
  all.sort((a, b) => b.length - a.length);
  for (const s of all) out = out.replace(new RegExp(escapeRegExp(s), "g"), REDACTED);
  for (const pattern of NAMED_VALUE_SYNTAXES) out = out.replace(pattern, (_match, kept: string) => `${kept}${REDACTED}`);
  for (const [re, replacement] of SECRET_SHAPES) out = out.replace(re, replacement);
  return out;
}

/** Redact, collapse whitespace, and shorten text that came from outside. */
export function redactAndTrim(text: string, secrets: Iterable<string | undefined> = [], max = MAX_KEPT_TEXT): string {
  const one = redact(text, secrets).replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** Strip a URL down to its path (no credentials, no query, no fragment). */
function safeUrlPath(url: string | undefined, base?: string): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url, base ?? "http://placeholder.invalid").pathname;
  } catch {
    return undefined;
  }
}

export interface SafeErrorContext {
  platform?: string;
  operation?: string;
  table?: string;
  hint?: string;
  /** Values known to be secret for this call (password, token, probe key, …). */
  secrets?: Iterable<string | undefined>;
  /** Override the failure kind (e.g. the caller's own deadline fired: `timeout`). */
  kind?: HttpFailureKind;
}

/** Node and axios error codes that mean the exchange timed out. */
const TIMEOUT_CODES: readonly string[] = ["ETIMEDOUT", "ECONNABORTED", "ESOCKETTIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "ERR_CANCELED"];

/**
 * How a thrown transport error failed (`timedOut`: the caller's own timer fired).
 * Only the error's code is read: never a message, header or body.
 */
function failureKind(err: unknown, timedOut: boolean): { kind: HttpFailureKind; networkCode?: string } {
  const raw = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  const networkCode = typeof raw === "string" && /^[A-Z][A-Z0-9_]{1,40}$/.test(raw) ? raw : undefined;
  const code = networkCode ? { networkCode } : {};
  if (timedOut || (networkCode !== undefined && TIMEOUT_CODES.includes(networkCode))) return { kind: "timeout", ...code };
  if (networkCode !== undefined && /^(E[A-Z]+|UND_ERR_\w+|ERR_SOCKET\w*)$/.test(networkCode)) return { kind: "network", ...code };
  return { kind: "other", ...code };
}
/** Only codes made of these characters are kept: they are identifiers, never data. */
const CODE_SHAPE = /^[A-Z][A-Z0-9_]{1,40}$/;

type Loose = Record<string, unknown>;

function isObject(v: unknown): v is Loose {
  return typeof v === "object" && v !== null;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Secret values an AxiosError carries in known places, so they are removed even if the caller forgot them. */
function secretsInsideAxiosError(err: Loose): string[] {
  const found: string[] = [];
  const config = isObject(err.config) ? err.config : undefined;
  if (!config) return found;
  if (isObject(config.auth)) {
    const user = str(config.auth.username) ?? "";
    const pass = str(config.auth.password);
    if (pass) {
      found.push(pass, Buffer.from(`${user}:${pass}`).toString("base64"));
    }
  }
  const headers = isObject(config.headers) ? config.headers : undefined;
  if (headers) {
    for (const [k, v] of Object.entries(headers)) {
      if (/^(proxy-)?authorization$|^x-sn-apikey$|^cookie$/i.test(k) && typeof v === "string") {
        found.push(v, v.replace(/^\S+\s+/, ""));
      }
    }
  }
  if (isObject(config.params)) {
    for (const [k, v] of Object.entries(config.params)) {
      if (/apikey|token|secret|password/i.test(k) && typeof v === "string") found.push(v);
    }
  }
  const data = str(config.data);
  if (data && /=/.test(data) && !/^\s*[{[]/.test(data)) {
    for (const [k, v] of new URLSearchParams(data)) {
      if (/secret|password|token|apikey/i.test(k)) found.push(v);
    }
  }
  return found;
}

function serverMessageOf(data: unknown): string | undefined {
  if (typeof data === "string") return data || undefined;
  if (!isObject(data)) return undefined;
  // ServiceNow: {"error":{"message":…,"detail":…},"status":"failure"}; OAuth: {"error":…,"error_description":…}
  const e = data.error;
  if (isObject(e)) {
    const parts = [str(e.message), str(e.detail)].filter((p): p is string => !!p);
    return parts.length ? parts.join(" — ") : undefined;
  }
  const parts = [str(e), str(data.error_description), str(data.message)].filter((p): p is string => !!p);
  return parts.length ? parts.join(": ") : undefined;
}

/**
 * Turn any thrown value into a `KeywireError` built from safe fields only.
 * A keywire error passes through unchanged; everything else becomes a `KeywireHttpError`.
 */
export function toSafeError(err: unknown, ctx: SafeErrorContext = {}): KeywireError {
  if (isKeywireError(err)) return err;
  const platform = ctx.platform ?? "http";
  const operation = ctx.operation ?? "request";
  const secrets: (string | undefined)[] = [...(ctx.secrets ?? [])];

  let message = "a non-Error value was thrown";
  let networkCode: string | undefined;
  let status: number | undefined;
  let method: string | undefined;
  let path: string | undefined;
  let serverMessage: string | undefined;

  if (isObject(err)) {
    if (err.isAxiosError === true) secrets.push(...secretsInsideAxiosError(err));
    const m = str(err.message);
    if (m) message = m;
    const code = str(err.code);
    if (code && CODE_SHAPE.test(code)) networkCode = code;
    const config = isObject(err.config) ? err.config : undefined;
    if (config) {
      method = str(config.method)?.toUpperCase();
      path = safeUrlPath(str(config.url), str(config.baseURL));
    }
    const response = isObject(err.response) ? err.response : undefined;
    if (response) {
      if (typeof response.status === "number") status = response.status;
      const sm = serverMessageOf(response.data);
      if (sm) serverMessage = redactAndTrim(sm, secrets);
    }
  } else if (typeof err === "string") {
    message = err;
  }

  const kind: HttpFailureKind =
    ctx.kind ??
    (status !== undefined
      ? "http"
      : networkCode && TIMEOUT_CODES.includes(networkCode)
        ? "timeout"
        : /timeout|timed out/i.test(message)
          ? "timeout"
          : networkCode && /^E[A-Z]+$/.test(networkCode)
            ? "network"
            : /socket hang up|network/i.test(message)
              ? "network"
              : "other");

  const reason = serverMessage ?? redactAndTrim(message, secrets);
  return new KeywireHttpError({
    platform,
    operation,
    ...(ctx.table !== undefined ? { table: ctx.table } : {}),
    ...(status !== undefined ? { status } : {}),
    reason: reason || "unknown failure",
    hint: ctx.hint ?? "",
    retryable: kind === "network" || kind === "timeout" || (status !== undefined && (status === 429 || status >= 500)),
    kind,
    ...(networkCode !== undefined ? { networkCode } : {}),
    ...(method !== undefined ? { method } : {}),
    ...(path !== undefined ? { path } : {}),
    ...(serverMessage !== undefined ? { serverMessage } : {}),
  });
}

/**
 * The constructor input of a safe error for a request that got no answer (a
 * timeout, a refused or broken connection): what went wrong in words, the code,
 * and whether a retry may help. Built from the library error's code only.
 */
export function transportFailureInit(
  err: unknown,
  timedOut: boolean,
  ctx: { platform: string; operation: string; method: string; path: string; timeoutMs: number; hint: string; secrets: Iterable<string | undefined> },
): KeywireErrorInit & HttpErrorDetails {
  const { kind, networkCode } = failureKind(err, timedOut);
  const safe = toSafeError(err, { platform: ctx.platform, operation: ctx.operation, secrets: ctx.secrets, hint: ctx.hint, kind });
  const what = kind === "timeout" ? `no answer within ${ctx.timeoutMs} ms` : kind === "network" ? "the connection failed" : "the request failed";
  return {
    ...(isKeywireHttpError(safe) ? safe.toInit() : { platform: ctx.platform, operation: ctx.operation, hint: ctx.hint, retryable: false }),
    kind,
    method: ctx.method,
    path: ctx.path,
    ...(networkCode ? { networkCode } : {}),
    retryable: kind !== "other",
    reason: `${what}${networkCode ? ` (${networkCode})` : ""}`,
  };
}
