/**
 * FreshserviceApiKey: an agent's API key, created by a person, proven by keywire.
 *
 * Freshservice has no API that creates, reads, regenerates or enables a key, so the key
 * is an operator-provided secret input. create and update prove it with one cheap,
 * documented call (`GET /api/v2/agents?per_page=1`, or the ticket list); read (every
 * `pulumi refresh`) proves it again, so a regenerated key, a deactivated agent or an API
 * key switched off under Admin > Agents > Permissions shows as drift (`verified: false`).
 * Nothing is created or deleted on Freshservice.
 *
 * The id is `<domain>/<random>`: ids are stored in clear, so nothing in one comes from
 * the key. The `fingerprint` output (the first 16 hex digits of the key's SHA-256) tells
 * keys apart; it is a secret output, since a plain hash of a key is a guessing oracle.
 * A different key is a different resource (replace); so is another domain.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  FRESHSERVICE_MODULE,
  createFreshserviceClient,
  KEY_HINT,
  PLATFORM,
  connectionShape,
  errorCodeOf,
  hintFor,
  planForLimit,
  rateLimitFigures,
  resolveBaseUrl,
} from "./client";
import type { RetryPolicy } from "../core/retry";
import { KeywireError } from "../core/errors";
import { UNKNOWN_INPUT, failuresFrom } from "../core/checkInputs";
import { ProvidedKeyResource, keyFingerprint, providedKeyMethods } from "../core/providedKey";
import { NamedProvider, providerReference, referencedProvider } from "../core/providerLoading/providerReference";

export type VerificationProbe = "agents" | "tickets";

/** `valid`, or why the key does not work (the Freshservice error code where there is one). */
export type FreshserviceKeyStatus = "valid" | "invalid_credentials" | "access_denied" | "require_feature" | "account_suspended" | "not_found";

export interface FreshserviceApiKeyInputs {
  domain: string;
  apiKey: string;
  baseUrl?: string;
  probe?: VerificationProbe;
}

export interface FreshserviceKeyVerification {
  verified: boolean;
  status: FreshserviceKeyStatus;
  /** HTTP status of the verification call. */
  httpStatus: number;
  /** Freshservice error code of a refusal; "" when verified. */
  errorCode: string;
  /** `X-RateLimit-Total`: the account's calls per minute (0 when the header is missing). */
  rateLimitPerMinute: number;
  /** Plan that per-minute figure belongs to: starter, growth, pro, enterprise, custom or unknown. */
  plan: string;
}

export interface FreshserviceApiKeyOutputs extends FreshserviceKeyVerification {
  domain: string;
  /** Origin calls go to: `https://<domain>.freshservice.com` or the override. */
  baseUrl: string;
  /** The `baseUrl` input as given ("" when absent), to tell a changed override from the default. */
  baseUrlInput: string;
  probe: VerificationProbe;
  /**
   * Secret (additionalSecretOutputs): first 16 hex digits of the key's SHA-256, to tell a
   * new key from the stored one. States written before it was secret hold the same value.
   */
  fingerprint: string;
  /** Secret (additionalSecretOutputs): kept so a refresh can prove it again. */
  apiKey: string;
}

const PROBE_PATHS: Record<VerificationProbe, string> = { agents: "/api/v2/agents", tickets: "/api/v2/tickets" };

/** One cheap call with the key; refusals are results, other failures throw. */
export async function verifyFreshserviceKey(inputs: FreshserviceApiKeyInputs, retry?: Partial<RetryPolicy>): Promise<FreshserviceKeyVerification> {
  const client = createFreshserviceClient({ domain: inputs.domain, baseUrl: inputs.baseUrl, apiKey: inputs.apiKey, ...(retry ? { retry } : {}) });
  const probe = inputs.probe ?? "agents";
  const res = await client.request("GET", PROBE_PATHS[probe], {
    query: { per_page: 1 },
    acceptStatus: [401, 403, 404],
    operation: `verify API key for ${inputs.domain}`,
  });
  const figures = rateLimitFigures(res.headers);
  const code = errorCodeOf(res.data);
  const verified = res.status >= 200 && res.status < 300;
  let status: FreshserviceKeyStatus = "valid";
  if (res.status === 401) status = "invalid_credentials";
  else if (res.status === 404) status = "not_found";
  else if (res.status === 403) status = code === "require_feature" || code === "account_suspended" ? code : "access_denied";
  return {
    verified,
    status,
    httpStatus: res.status,
    errorCode: verified ? "" : (code ?? ""),
    rateLimitPerMinute: figures.total ?? 0,
    plan: planForLimit(figures.total),
  };
}

/** The error create/update throw when the key does not work. Says what failed and what to do, never the key. */
function refusalError(domain: string, v: FreshserviceKeyVerification): KeywireError {
  const what =
    v.status === "invalid_credentials"
      ? "Freshservice did not accept the key: it was regenerated, its agent was deactivated, or its API access is switched off"
      : v.status === "not_found"
        ? "the verification endpoint was not found: the domain (or baseUrl) is probably wrong"
        : `Freshservice refused the call (${v.errorCode || v.status})`;
  return new KeywireError({
    platform: PLATFORM,
    operation: `verify API key for ${domain}`,
    status: v.httpStatus,
    reason: `${what}${v.errorCode ? ` [${v.errorCode}]` : ""}`,
    hint: v.status === "invalid_credentials" ? KEY_HINT : hintFor(v.httpStatus, v.errorCode || undefined),
  });
}

function normalize(inputs: FreshserviceApiKeyInputs): FreshserviceApiKeyInputs {
  return {
    domain: inputs.domain.trim().toLowerCase(),
    apiKey: inputs.apiKey,
    ...(inputs.baseUrl ? { baseUrl: inputs.baseUrl } : {}),
    probe: inputs.probe ?? "agents",
  };
}

async function proveAndDescribe(raw: FreshserviceApiKeyInputs, mustWork: boolean): Promise<FreshserviceApiKeyOutputs> {
  const inputs = normalize(raw);
  const v = await verifyFreshserviceKey(inputs);
  if (mustWork && !v.verified) throw refusalError(inputs.domain, v);
  return {
    domain: inputs.domain,
    baseUrl: resolveBaseUrl(inputs.domain, inputs.baseUrl),
    baseUrlInput: inputs.baseUrl ?? "",
    probe: inputs.probe ?? "agents",
    fingerprint: keyFingerprint(inputs.apiKey),
    apiKey: inputs.apiKey,
    ...v,
  };
}

const keyProvider: NamedProvider = {
  typeName: "FreshserviceApiKey",
  async check(_olds: FreshserviceApiKeyInputs, news: FreshserviceApiKeyInputs): Promise<pulumi.dynamic.CheckResult> {
    const schema = z.object({ ...connectionShape, probe: z.enum(["agents", "tickets"], { error: 'must be "agents" or "tickets"' }).optional() });
    const parsed = schema.safeParse(news);
    if (!parsed.success) return { inputs: news, failures: failuresFrom(parsed.error, "FreshserviceApiKey") };
    const d = parsed.data;
    const inputs: Record<string, unknown> = { ...news, domain: d.domain, probe: d.probe ?? "agents" };
    if (d.baseUrl === "" || d.baseUrl === undefined) delete inputs.baseUrl;
    return { inputs };
  },

  async diff(_id: string, olds: FreshserviceApiKeyOutputs, news: FreshserviceApiKeyInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces: string[] = [];
    const changed: string[] = [];
    if (news.domain !== olds.domain) replaces.push("domain");
    if ((news.baseUrl ?? "") !== (olds.baseUrlInput ?? "")) replaces.push("baseUrl");
    if (news.apiKey === UNKNOWN_INPUT || keyFingerprint(news.apiKey) !== olds.fingerprint) replaces.push("apiKey");
    if ((news.probe ?? "agents") !== olds.probe) changed.push("probe");
    // A refresh found the key refused: the next `up` proves it again (and fails with the fix).
    if (olds.verified === false) changed.push("verified");
    return { changes: replaces.length + changed.length > 0, replaces, deleteBeforeReplace: false };
  },

  ...providedKeyMethods<FreshserviceApiKeyInputs, FreshserviceApiKeyOutputs>({
    platform: PLATFORM,
    typeName: "FreshserviceApiKey",
    prove: proveAndDescribe,
    scopeOf: (outs) => outs.domain,
    storedInputs: (props) =>
      typeof props.apiKey === "string" && typeof props.domain === "string"
        ? { domain: props.domain, apiKey: props.apiKey, ...(props.baseUrlInput ? { baseUrl: props.baseUrlInput } : {}), probe: props.probe }
        : undefined,
  }),
};

export const freshserviceApiKeyProvider = referencedProvider(keyProvider, providerReference("keywire/freshservice", "freshserviceApiKeyProvider"));

export interface FreshserviceApiKeyArgs {
  /** The subdomain of the Freshservice URL: `mycompany` for `https://mycompany.freshservice.com`. */
  domain: pulumi.Input<string>;
  /** The agent's API key (Profile Settings). Always stored as a secret. */
  apiKey: pulumi.Input<string>;
  /**
   * Send calls to this origin instead of `https://<domain>.freshservice.com`: HTTPS, or
   * plain HTTP on a loopback address (the bundled emulator).
   */
  baseUrl?: pulumi.Input<string>;
  /** The verification call: `agents` (default, `GET /agents?per_page=1`) or `tickets`. */
  probe?: pulumi.Input<VerificationProbe>;
}

export class FreshserviceApiKey extends ProvidedKeyResource<FreshserviceKeyStatus> {
  declare readonly domain: pulumi.Output<string>;
  declare readonly baseUrl: pulumi.Output<string>;
  declare readonly probe: pulumi.Output<VerificationProbe>;
  declare readonly rateLimitPerMinute: pulumi.Output<number>;
  declare readonly plan: pulumi.Output<string>;

  constructor(name: string, args: FreshserviceApiKeyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      freshserviceApiKeyProvider,
      name,
      args.apiKey,
      { baseUrlInput: undefined, rateLimitPerMinute: undefined, plan: undefined, domain: args.domain, baseUrl: args.baseUrl, probe: args.probe },
      opts,
      FRESHSERVICE_MODULE,
      "ApiKey",
    );
  }
}
