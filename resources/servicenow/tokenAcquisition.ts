/**
 * Getting a usable token for a new `api_key` record.
 *
 * The instance generates the token on insert and, as far as anyone has seen, a
 * Table API read returns an encrypted blob instead of it. Two routes *might* work
 * on a given instance, and a person can always copy it from the form:
 *
 * 1. `operator` — a token the operator copied from the record and set in config;
 * 2. `input_display_value` — keywire generates a token of the instance's own shape
 *    and writes it on insert with `sysparm_input_display_value=true`;
 * 3. `display_value` — a privileged read with `sysparm_display_value=true`.
 *
 * Each candidate is trusted only after a probe request authenticated with it
 * (`x-sn-apikey`) is accepted. When no route yields a proven token, keywire stops
 * with the record's URL and the exact `pulumi config set --secret` command; it
 * never stores a token that failed the probe.
 */
import { randomBytes } from "crypto";
import { KeywireError } from "../shared/errors";
import type { EngineContext } from "./recordEngine";

export type TokenStrategy = "auto" | "operator" | "input_display_value" | "display_value";
export type TokenSource = "operator" | "input_display_value" | "display_value";

export interface ProbeSettings {
  /** Path (and query) of a GET the key's user may call; any answer but 401 proves the key. */
  path: string;
  /** How the probe sends the key; must match the inbound profile linked for that API. */
  via: "header" | "query";
}

export const DEFAULT_PROBE: ProbeSettings = {
  path: "/api/now/table/sys_user?sysparm_limit=1&sysparm_fields=sys_id",
  via: "header",
};

/** `now_` + 86 base64url characters: the shape the instance itself generates. */
export function generateToken(): string {
  return `now_${randomBytes(64).toString("base64url")}`;
}

/**
 * Sends one request authenticated only by the candidate token. 401 means the
 * instance did not accept it; 2xx and 403 mean it did (403: authenticated, but the
 * key's user may not read that table, which still proves the token).
 */
export async function probeToken(ctx: EngineContext, token: string, probe: ProbeSettings): Promise<"accepted" | "refused"> {
  const [path, rawQuery] = probe.path.split("?", 2);
  const query = new URLSearchParams(rawQuery ?? "");
  const headers: Record<string, string> = {};
  if (probe.via === "header") headers["x-sn-apikey"] = token;
  else query.set("x-sn-apikey", token);
  const res = await ctx.client.request("GET", path, {
    auth: "none",
    headers,
    query: Object.fromEntries(query.entries()),
    secrets: [token],
    acceptStatus: [401, 403],
    operation: "probe api_key token",
  });
  if (res.status === 401) return "refused";
  return "accepted";
}

export interface AcquireRequest {
  strategy: TokenStrategy;
  operatorToken?: string;
  /** Token written on insert through `sysparm_input_display_value`, if that route was taken. */
  generatedToken?: string;
  keySysId: string;
  keyName: string;
  recordUrl: string;
  tokenConfigKey: string;
  probe: ProbeSettings;
  /** Runs before the manual stop is thrown; returns a sentence for the message. */
  onManualStop?: () => Promise<string>;
}

export interface AcquiredToken {
  token: string;
  source: TokenSource;
}

async function manualStop(req: AcquireRequest, tried: string[]): Promise<KeywireError> {
  const parked = req.onManualStop ? ` (${await req.onManualStop()})` : "";
  return new KeywireError({
    platform: "servicenow",
    operation: `obtain the token of api_key "${req.keyName}"`,
    table: "api_key",
    reason:
      `the instance did not reveal a token that authenticates (tried: ${tried.join(", ") || "nothing"}); ` +
      "on most instances the token can only be copied from the form",
    hint:
      `The key record exists${parked}: open ${req.recordUrl}, unlock the Token field and copy it, then run ` +
      `\`pulumi config set --secret ${req.tokenConfigKey} <token>\` (add --stack <name> if needed) and run \`pulumi up\` again; ` +
      "keywire adopts that record and proves the token before using it. If the probe itself cannot succeed yet, check that the " +
      "inbound profile is linked to the access policy that governs the probe path (see ApiKeyVerification).",
  });
}

/** Runs the routes the strategy allows, in order, until one yields a proven token. */
export async function acquireToken(ctx: EngineContext, req: AcquireRequest): Promise<AcquiredToken> {
  const allows = (route: TokenSource) => req.strategy === "auto" || req.strategy === route;
  const tried: string[] = [];

  if (req.operatorToken) {
    // An operator's token is an explicit instruction: no silent fallback if it fails.
    if ((await probeToken(ctx, req.operatorToken, req.probe)) === "accepted") {
      return { token: req.operatorToken, source: "operator" };
    }
    throw new KeywireError({
      platform: "servicenow",
      operation: `prove the operator-supplied token of api_key "${req.keyName}"`,
      table: "api_key",
      status: 401,
      reason: `the instance refused a request authenticated with the token from ${req.tokenConfigKey}`,
      hint:
        `Copy the token again from ${req.recordUrl} (it belongs to that record, which must be active with an active user) and ` +
        `set it with \`pulumi config set --secret ${req.tokenConfigKey} <token>\`; if it is right, the access policy/profile link ` +
        "for the probe path is missing or inactive.",
    });
  }
  if (req.strategy === "operator") throw await manualStop(req, tried);

  if (req.generatedToken && allows("input_display_value")) {
    tried.push("input_display_value");
    if ((await probeToken(ctx, req.generatedToken, req.probe)) === "accepted") {
      return { token: req.generatedToken, source: "input_display_value" };
    }
  }

  if (allows("display_value")) {
    tried.push("display_value");
    const rec = await ctx.client.get("api_key", req.keySysId, { fields: ["token"], displayValue: "true" });
    const candidate = rec?.token ?? "";
    // Only a value of the token's own shape is worth a probe; the encrypted blob is not.
    if (/^now_[A-Za-z0-9_-]{20,}$/.test(candidate) && (await probeToken(ctx, candidate, req.probe)) === "accepted") {
      return { token: candidate, source: "display_value" };
    }
  }

  throw await manualStop(req, tried);
}
