/**
 * IvantiApiKey: a REST API key (the Reference ID of a key in a key group), created by a
 * person in the Configuration console and proven by keywire through OData.
 *
 * No Ivanti API creates, reads, edits or deletes keys, key groups or their IP lists; the
 * key is an operator-provided secret input. create and update prove it with
 * `GET <tenant>[/HEAT]/api/odata/businessobject/<probeObject>?$top=1`; read (every
 * `pulumi refresh`) proves it again, so a deleted or deactivated key, a key from another
 * tenant, a caller IP that is not on the key's list, or a role that lost access shows as
 * drift (`verified: false`). Nothing is created or deleted on the tenant.
 *
 * The id is `<tenant host>/<random>`: ids are stored in clear, so nothing in one comes
 * from the key. The `fingerprint` output (SHA-256 prefix of the key) tells keys apart; it
 * is a secret output, since a plain hash of a key is a guessing oracle.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  BUSINESS_OBJECT_PATTERN,
  IVANTI_MODULE,
  KEY_HINT,
  PLATFORM,
  createIvantiClient,
  errorCodeOf,
  odataBase,
  tenantOrigin,
  tenantUrlProblem,
} from "./client";
import { KeywireError } from "../core/errors";
import type { RetryPolicy } from "../core/retry";
import { UNKNOWN_INPUT, failuresFrom, knownOr } from "../core/checkInputs";
import { ProvidedKeyResource, keyFingerprint, providedKeyMethods } from "../core/providedKey";
import { NamedProvider, providerReference, referencedProvider } from "../core/providerLoading/providerReference";

export type IvantiKeyStatus = "valid" | "refused" | "forbidden" | "invalid_path";

export interface IvantiApiKeyInputs {
  tenantUrl: string;
  apiKey: string;
  heatPrefix?: boolean;
  probeObject?: string;
}

export interface IvantiKeyVerification {
  verified: boolean;
  /** `valid`; `refused` (401 ISM_4001); `forbidden` (403: the key's role cannot read the probe object); `invalid_path` (404). */
  status: IvantiKeyStatus;
  httpStatus: number;
  /** ISM code of a refusal; "" when verified. */
  errorCode: string;
}

export interface IvantiApiKeyOutputs extends IvantiKeyVerification {
  /** The tenant origin. */
  tenantUrl: string;
  heatPrefix: boolean;
  probeObject: string;
  /** `<tenant>[/HEAT]/api/odata`: where consumers send their calls. */
  odataBase: string;
  /**
   * Secret (additionalSecretOutputs): first 16 hex digits of the key's SHA-256, to tell a
   * new key from the stored one. States written before it was secret hold the same value.
   */
  fingerprint: string;
  /** Secret (additionalSecretOutputs): kept so a refresh can prove it again. */
  apiKey: string;
}

const DEFAULT_PROBE = "incidents";

/** The key's fingerprint (core/providedKey.ts), under the name this module has always exported. */
export const ivantiKeyFingerprint = keyFingerprint;

/** One OData call with the key; refusals are results, other failures throw. */
export async function verifyIvantiKey(inputs: IvantiApiKeyInputs, retry?: Partial<RetryPolicy>): Promise<IvantiKeyVerification> {
  const client = createIvantiClient({
    tenantUrl: inputs.tenantUrl,
    heatPrefix: inputs.heatPrefix ?? false,
    apiKey: inputs.apiKey,
    ...(retry ? { retry } : {}),
  });
  const probe = inputs.probeObject ?? DEFAULT_PROBE;
  const res = await client.get(`businessobject/${probe}`, {
    query: { $top: 1 },
    acceptStatus: [401, 403, 404],
    operation: `verify REST API key on ${new URL(client.origin).host}`,
  });
  const verified = res.status >= 200 && res.status < 300;
  const status: IvantiKeyStatus = verified ? "valid" : res.status === 401 ? "refused" : res.status === 403 ? "forbidden" : "invalid_path";
  return { verified, status, httpStatus: res.status, errorCode: verified ? "" : (errorCodeOf(res.data) ?? "") };
}

/**
 * The error create/update throw when the key does not work. For an Invalid Path it looks
 * at `$metadata` once to say whether the prefix or the object name is wrong.
 */
async function refusalError(inputs: IvantiApiKeyInputs, v: IvantiKeyVerification): Promise<KeywireError> {
  const host = new URL(tenantOrigin(inputs.tenantUrl)).host;
  const probe = inputs.probeObject ?? DEFAULT_PROBE;
  let reason: string;
  let hint: string;
  if (v.status === "refused") {
    reason = `the tenant refused the key${v.errorCode ? ` (${v.errorCode})` : ""}: it is deleted or not Activated, belongs to another tenant, or this machine's IP is not on its list`;
    hint = KEY_HINT;
  } else if (v.status === "forbidden") {
    reason = `the key works but its role (In Role) cannot read business object "${probe}"`;
    hint = `Give the key a role that can read ${probe} (console: Edit the key, In Role), or set probeObject to an object that role can read.`;
  } else {
    reason = `Invalid Path for business object "${probe}"${v.errorCode ? ` (${v.errorCode})` : ""}`;
    try {
      const sets = await createIvantiClient({ tenantUrl: inputs.tenantUrl, heatPrefix: inputs.heatPrefix ?? false, apiKey: inputs.apiKey }).entitySets();
      hint = sets.some((s) => s.toLowerCase() === probe.toLowerCase())
        ? "The object exists in $metadata; check the tenant's routing."
        : `No entity set "${probe}" in $metadata; set probeObject to one that exists (e.g. ${sets.slice(0, 5).join(", ")}).`;
    } catch {
      hint = `Neither the object nor $metadata answered under ${inputs.heatPrefix ? "/HEAT/api" : "/api"}: try heatPrefix: ${inputs.heatPrefix ? "false" : "true"}.`;
    }
  }
  return new KeywireError({ platform: PLATFORM, operation: `verify REST API key on ${host}`, status: v.httpStatus, reason, hint });
}

function normalize(i: IvantiApiKeyInputs): Required<IvantiApiKeyInputs> {
  return { tenantUrl: tenantOrigin(i.tenantUrl), apiKey: i.apiKey, heatPrefix: i.heatPrefix ?? false, probeObject: i.probeObject ?? DEFAULT_PROBE };
}

async function proveAndDescribe(raw: IvantiApiKeyInputs, mustWork: boolean): Promise<IvantiApiKeyOutputs> {
  const i = normalize(raw);
  const v = await verifyIvantiKey(i);
  if (mustWork && !v.verified) throw await refusalError(i, v);
  return { ...i, odataBase: odataBase(i.tenantUrl, i.heatPrefix), fingerprint: keyFingerprint(i.apiKey), ...v };
}

const keyProvider: NamedProvider = {
  typeName: "IvantiApiKey",
  async check(_olds: IvantiApiKeyInputs, news: IvantiApiKeyInputs): Promise<pulumi.dynamic.CheckResult> {
    const schema = z.object({
      tenantUrl: knownOr(
        z.string({ error: "is required: the tenant URL, e.g. https://mycompany.saasit.com" }).superRefine((v, ctx) => {
          const problem = tenantUrlProblem(v.trim());
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        }),
      ),
      apiKey: knownOr(
        z.string({ error: "is required: the key's Reference ID, stored as a stack secret" }).superRefine((v, ctx) => {
          if (v.trim() === "") ctx.addIssue({ code: "custom", message: "is required: the key's Reference ID, stored as a stack secret" });
          else if (/^rest_api_key=/i.test(v.trim()))
            ctx.addIssue({ code: "custom", message: "must be the Reference ID only, without the rest_api_key= prefix (value not shown)" });
          else if (v.length > 256 || /\s/.test(v))
            ctx.addIssue({ code: "custom", message: "must be one token without spaces, at most 256 characters (value not shown)" });
        }),
      ),
      heatPrefix: z.boolean({ error: "must be true or false" }).optional(),
      probeObject: z
        .string({ error: "must be a string" })
        .regex(BUSINESS_OBJECT_PATTERN, "must be a business object's plural OData name such as incidents or employees")
        .optional(),
    });
    const parsed = schema.safeParse(news);
    if (!parsed.success) return { inputs: news, failures: failuresFrom(parsed.error, "IvantiApiKey") };
    const inputs: Record<string, unknown> = { ...news, heatPrefix: news.heatPrefix ?? false, probeObject: news.probeObject ?? DEFAULT_PROBE };
    if (typeof news.tenantUrl === "string" && news.tenantUrl !== UNKNOWN_INPUT) inputs.tenantUrl = tenantOrigin(news.tenantUrl.trim());
    return { inputs };
  },

  async diff(_id: string, olds: IvantiApiKeyOutputs, news: IvantiApiKeyInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces: string[] = [];
    const changed: string[] = [];
    if (news.tenantUrl === UNKNOWN_INPUT || tenantOrigin(news.tenantUrl) !== olds.tenantUrl) replaces.push("tenantUrl");
    if (news.apiKey === UNKNOWN_INPUT || keyFingerprint(news.apiKey) !== olds.fingerprint) replaces.push("apiKey");
    if ((news.heatPrefix ?? false) !== olds.heatPrefix) changed.push("heatPrefix");
    if ((news.probeObject ?? DEFAULT_PROBE) !== olds.probeObject) changed.push("probeObject");
    // A refresh found the key refused: the next `up` proves it again (and fails with the fix).
    if (olds.verified === false) changed.push("verified");
    return { changes: replaces.length + changed.length > 0, replaces, deleteBeforeReplace: false };
  },

  ...providedKeyMethods<IvantiApiKeyInputs, IvantiApiKeyOutputs>({
    platform: PLATFORM,
    typeName: "IvantiApiKey",
    prove: proveAndDescribe,
    scopeOf: (outs) => new URL(outs.tenantUrl).host,
    storedInputs: (props) =>
      typeof props.apiKey === "string" && typeof props.tenantUrl === "string"
        ? { tenantUrl: props.tenantUrl, apiKey: props.apiKey, heatPrefix: props.heatPrefix, probeObject: props.probeObject }
        : undefined,
  }),
};

export const ivantiApiKeyProvider = referencedProvider(keyProvider, providerReference("keywire/ivanti", "ivantiApiKeyProvider"));

export interface IvantiApiKeyArgs {
  /** The tenant's origin, e.g. `https://mycompany.saasit.com` (HTTPS; loopback HTTP for the emulator). */
  tenantUrl: pulumi.Input<string>;
  /** The key's Reference ID. Always stored as a secret. */
  apiKey: pulumi.Input<string>;
  /** The tenant serves the API under `/HEAT/api`; default false. */
  heatPrefix?: pulumi.Input<boolean>;
  /** Business object read to prove the key (its role must be able to read it); default `incidents`. */
  probeObject?: pulumi.Input<string>;
}

export class IvantiApiKey extends ProvidedKeyResource<IvantiKeyStatus> {
  declare readonly tenantUrl: pulumi.Output<string>;
  declare readonly heatPrefix: pulumi.Output<boolean>;
  declare readonly probeObject: pulumi.Output<string>;
  declare readonly odataBase: pulumi.Output<string>;

  constructor(name: string, args: IvantiApiKeyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      ivantiApiKeyProvider,
      name,
      args.apiKey,
      { odataBase: undefined, tenantUrl: args.tenantUrl, heatPrefix: args.heatPrefix, probeObject: args.probeObject },
      opts,
      IVANTI_MODULE,
      "ApiKey",
    );
  }
}
