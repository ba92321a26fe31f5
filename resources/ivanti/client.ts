/**
 * Ivanti Service Manager (Neurons for ITSM) REST client for the OData API, authorized
 * with a REST API key: `Authorization: rest_api_key=<Reference ID>`.
 *
 * Requests go to the tenant URL (an HTTPS origin, or plain HTTP on a loopback address for
 * the bundled emulator), under `/api/odata` or, for tenants that need it, `/HEAT/api/odata`.
 * The key stays in a closure, is sent only to that origin and never put in a message.
 * Requests go through the HTTP pipeline (resources/core/pipeline.ts); a failure
 * becomes an `IvantiError` with the ISM error code.
 */
import { CodedHttpError, HttpErrorDetails, KeywireError, KeywireErrorInit } from "../core/errors";
import { apiKeyPipeline } from "../core/apiKeyPipeline";
import { Answer } from "../core/pipeline";
import { originProblem } from "../core/url";
import { UNKNOWN_INPUT } from "../core/checkInputs";
import { RetryPolicy } from "../core/retry";

export const PLATFORM = "ivanti";
/** Type tokens read `pulumi-nodejs:dynamic/keywire/ivanti:<Name>`. */
export const IVANTI_MODULE = "keywire/ivanti";

/** `$metadata` of a real tenant runs to megabytes; anything past this is refused. */
const MAX_RESPONSE_BYTES = 20 * 1024 * 1024;
export const BUSINESS_OBJECT_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** What only the Configuration console can change, and where. */
export const KEY_HINT =
  "Only the Configuration console can fix this (no API manages keys, key groups or IP lists): " +
  "Configure > Security Controls > API Keys, pick the key group, Edit the key and check that it is Activated, " +
  "that it was created in this tenant, and that this machine's address is on its IP list (Add New IP); " +
  "or create a new key for this tenant/IP with Add API Key and store its Reference ID as the stack secret.";

export { UNKNOWN_INPUT };

/** Why a tenant URL is unacceptable, or undefined: an origin, HTTPS unless loopback, no credentials. */
export function tenantUrlProblem(value: string): string | undefined {
  return originProblem(value, {
    notUrl: "is not a URL (e.g. https://mycompany.saasit.com)",
    path: (path) =>
      /^\/heat$/i.test(path)
        ? "must not include /HEAT: give the origin and set heatPrefix: true"
        : "must be the tenant origin only (scheme, host, port), without a path such as /api",
  });
}

/** The tenant's origin; inputs are expected to have passed `check`. */
export function tenantOrigin(tenantUrl: string): string {
  const problem = tenantUrlProblem(tenantUrl);
  if (problem)
    throw new KeywireError({
      platform: PLATFORM,
      operation: "resolve tenant URL",
      reason: `tenantUrl ${problem}`,
      hint: "Fix the resource's tenantUrl input.",
    });
  return new URL(tenantUrl).origin;
}

export function odataBase(tenantUrl: string, heatPrefix: boolean): string {
  return `${tenantOrigin(tenantUrl)}${heatPrefix ? "/HEAT" : ""}/api/odata`;
}

/** An HTTP failure with the ISM error code (`ISM_4001`, …). */
export class IvantiError extends CodedHttpError {
  constructor(init: KeywireErrorInit & HttpErrorDetails & { errorCode?: string }) {
    super(init);
    this.name = "IvantiError";
  }
}

/** `ISM_4001` etc. from an error body `{code, description, message: [...]}`. */
export function errorCodeOf(data: unknown): string | undefined {
  const code = typeof data === "object" && data !== null ? (data as { code?: unknown }).code : undefined;
  return typeof code === "string" && /^ISM_\d{4}$/.test(code) ? code : undefined;
}

function serverMessageOf(data: unknown): string | undefined {
  if (typeof data === "string") return data.trim() ? data : undefined;
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as { description?: unknown; message?: unknown };
  const parts: string[] = [];
  if (typeof d.description === "string") parts.push(d.description);
  if (Array.isArray(d.message)) parts.push(...d.message.slice(0, 5).map(String));
  else if (typeof d.message === "string") parts.push(d.message);
  return parts.length ? parts.join(": ") : undefined;
}

function hintFor(status: number | undefined, code: string | undefined): string {
  if (status === 401 || code === "ISM_4001") return KEY_HINT;
  if (status === 403)
    return "The key's role (In Role) cannot read this business object: pick a role with access for the key in the console, or verify with a business object that role can read.";
  if (status === 404 || code === "ISM_4004")
    return "Invalid Path: check the business object name, and whether this tenant serves the API under /HEAT (heatPrefix).";
  if (status === 400 || code === "ISM_4000") return "The request was refused as invalid: check the business object and query.";
  if (status === 429) return "The tenant throttled the calls; keywire waited as Retry-After asked. Run again later.";
  if (status !== undefined && status >= 500) return "The tenant had a server error; run again later.";
  return "Check the tenant URL and the network path to it, and try again.";
}

type IvantiResult = Answer;

export interface IvantiClientOptions {
  tenantUrl: string;
  heatPrefix?: boolean;
  apiKey: string;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
}

interface GetOptions {
  query?: Record<string, string | number | undefined>;
  acceptStatus?: number[];
  operation?: string;
}

export interface IvantiClient {
  readonly origin: string;
  /** `<origin>[/HEAT]/api/odata` */
  readonly odataBase: string;
  /** GET a path under the OData root, e.g. `businessobject/incidents` or `$metadata`. */
  get(path: string, opts?: GetOptions): Promise<IvantiResult>;
  /** Entity set names from `$metadata`. */
  entitySets(): Promise<string[]>;
  toJSON(): Record<string, string>;
}

/** Builds a client: a factory with the key in a closure, which neither `util.inspect` nor JSON sees. */
export function createIvantiClient(o: IvantiClientOptions): IvantiClient {
  const origin = tenantOrigin(o.tenantUrl);
  const base = odataBase(o.tenantUrl, o.heatPrefix ?? false);
  const apiKey = o.apiKey;
  const pipeline = apiKeyPipeline({
    platform: PLATFORM,
    origin,
    // The documented form: no space, no "Bearer".
    authorization: `rest_api_key=${apiKey}`,
    secrets: [apiKey, `rest_api_key=${apiKey}`],
    errorCodeOf,
    serverMessageOf,
    hintFor,
    make: (init) => new IvantiError(init),
    maxBytes: MAX_RESPONSE_BYTES,
    timeoutMs: o.timeoutMs,
    retry: o.retry,
  });

  async function get(path: string, opts: GetOptions = {}): Promise<IvantiResult> {
    const operation = opts.operation ?? `GET ${path}`;
    if (path.startsWith("/") || path.includes("?") || path.includes("#") || path.includes("..")) {
      throw new KeywireError({
        platform: PLATFORM,
        operation,
        reason: "the path must be relative to the OData root, without query",
        hint: "Pass query options in opts.query.",
      });
    }
    return pipeline.send({
      method: "GET",
      path: new URL(`${base}/${path}`).pathname,
      query: opts.query,
      operation,
      idempotent: true,
      acceptStatus: opts.acceptStatus,
    });
  }

  async function entitySets(): Promise<string[]> {
    const res = await get("$metadata", { operation: "read $metadata" });
    const text = typeof res.data === "string" ? res.data : "";
    const out: string[] = [];
    const re = /<EntitySet\s+Name="([^"]{1,128})"/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null && out.length < 5000) out.push(m[1]);
    return out;
  }

  return { origin, odataBase: base, get, entitySets, toJSON: () => ({ origin, odataBase: base }) };
}
