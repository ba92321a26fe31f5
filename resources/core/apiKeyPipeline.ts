/**
 * The pipeline (pipeline.ts) of a service reached with one API key in one header,
 * whose failed answers carry an error code: Freshservice and Ivanti. Only the header,
 * the body's shape, the hints and the error class differ between them.
 */
import { HttpErrorDetails, KeywireError, KeywireErrorInit } from "./errors";
import { Failure, FailureContext, Pipeline, createPipeline } from "./pipeline";
import { RetryPolicy, resolveRetryPolicy } from "./retry";

const DEFAULT_TIMEOUT_MS = 30_000;
const MIN_TIMEOUT_MS = 1_000;

/** The constructor input of an error that carries the platform's own error code. */
type CodedErrorInit = KeywireErrorInit & HttpErrorDetails & { errorCode?: string };

export interface ApiKeyService {
  platform: string;
  /** Scheme, host and port. */
  origin: string;
  /** The `Authorization` header's value. */
  authorization: string;
  /** Every spelling of the key a request or an echo may carry. */
  secrets: readonly string[];
  /** The platform's error code in a failed answer's body. */
  errorCodeOf: (data: unknown) => string | undefined;
  /** The server's words in a failed answer's body. */
  serverMessageOf: (data: unknown) => string | undefined;
  /** What the operator should do, by status and error code. */
  hintFor: (status: number | undefined, code: string | undefined) => string;
  /** The platform's error class. */
  make: (init: CodedErrorInit) => KeywireError;
  /** Longest answer accepted. */
  maxBytes: number;
  /** Deadline of one attempt (default 30 s, never below 1 s). */
  timeoutMs?: number | undefined;
  retry?: Partial<RetryPolicy> | undefined;
}

export function apiKeyPipeline(s: ApiKeyService): Pipeline {
  return createPipeline(
    {
      name: s.platform,
      authenticate: (send) => send({ Authorization: s.authorization }),
      readFailure: (data) => ({ message: s.serverMessageOf(data), code: s.errorCodeOf(data) }),
      toError: (f, ctx) => s.make(codedErrorInit(s.platform, s.hintFor, f, ctx)),
      secrets: () => s.secrets,
    },
    {
      origin: s.origin,
      timeoutMs: Math.max(MIN_TIMEOUT_MS, s.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      minTimeoutMs: MIN_TIMEOUT_MS,
      maxBytes: s.maxBytes,
      retry: resolveRetryPolicy(s.retry),
      userAgent: "keywire",
    },
  );
}

/**
 * A coded error's input: the reason is `<code>: <the server's words>`, the hint comes
 * from the status and the code, and trying again may help after a 429, a 5xx or no
 * answer at all.
 */
function codedErrorInit(platform: string, hintFor: ApiKeyService["hintFor"], f: Failure, ctx: FailureContext): CodedErrorInit {
  const { status, errorCode, reason, ...details } = f;
  const answered = f.kind === "http" && status !== undefined;
  return {
    ...details,
    platform,
    operation: ctx.operation,
    ...(status !== undefined ? { status } : {}),
    reason: answered ? `${errorCode ? `${errorCode}: ` : ""}${f.serverMessage ?? "no message"}` : reason,
    hint: hintFor(status, errorCode),
    retryable: answered ? status === 429 || status >= 500 : f.kind !== "other",
    ...(errorCode !== undefined ? { errorCode } : {}),
  };
}
