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
 * `tokenPlan` decides which routes a key walks, in order; each candidate is
 * trusted only after the strict probe (probe.ts) proves it. The walk ends in one
 * of three ways: a proven token; a manual stop (no route yielded a token the
 * instance accepts: a person copies it from the form); or an unknown outcome (a
 * probe answer that proves nothing either way). It never returns an unproven token.
 */
import { randomBytes } from "crypto";
import { KeywireError } from "../../core/errors";
import type { EngineContext } from "../engine/runtime";
import { ProbeSettings, ProbeVerdict, probeToken } from "./probe";
import type { TokenSource, TokenStrategy } from "./tokenStrategies";

/** `now_` + 86 base64url characters: the shape the instance itself generates. */
export function generateToken(): string {
  return `now_${randomBytes(64).toString("base64url")}`;
}

/** The config key the manual route's instructions name unless the key says otherwise. */
export const DEFAULT_TOKEN_CONFIG_KEY = "keywire:apiKeyToken";

/**
 * The routes a key's token is sought by, in order. Pure. An operator's token is
 * an explicit instruction: when there is one it is the only route.
 */
function tokenPlan(p: { strategy: TokenStrategy; operatorToken?: string; generatedToken?: string }): TokenSource[] {
  if (p.operatorToken) return ["operator"];
  const allows = (route: TokenSource) => p.strategy === "auto" || p.strategy === route;
  const plan: TokenSource[] = [];
  if (p.generatedToken && allows("input_display_value")) plan.push("input_display_value");
  if (allows("display_value")) plan.push("display_value");
  return plan;
}

/** Whether keywire should generate the token and write it on insert. Pure. */
export function generatesToken(strategy: TokenStrategy): boolean {
  return strategy === "auto" || strategy === "input_display_value";
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
}

export interface AcquiredToken {
  token: string;
  source: TokenSource;
  /** What the probe saw that proved it. */
  proof: string;
}

/** How a walk that found no proven token ended: a person must act, or nothing is known yet. */
export type TokenFailureKind = "manual" | "refused-operator" | "unknown";

/** The error a walk without a proven token ends with; `tokenFailure` tells the caller what to do with the key. */
class TokenNotProvenError extends KeywireError {
  readonly tokenFailure: TokenFailureKind;
  constructor(kind: TokenFailureKind, init: ConstructorParameters<typeof KeywireError>[0]) {
    super(init);
    this.name = "TokenNotProvenError";
    this.tokenFailure = kind;
  }
}

export function tokenFailureOf(err: unknown): TokenFailureKind | undefined {
  const kind = (err as { tokenFailure?: unknown } | null)?.tokenFailure;
  return kind === "manual" || kind === "refused-operator" || kind === "unknown" ? kind : undefined;
}

function manualStop(req: AcquireRequest, tried: string[]): TokenNotProvenError {
  return new TokenNotProvenError("manual", {
    platform: "servicenow",
    operation: `obtain the token of api_key "${req.keyName}"`,
    table: "api_key",
    reason:
      `the instance did not reveal a token that authenticates (tried: ${tried.join(", ") || "nothing"}); ` +
      "on most instances the token can only be copied from the form",
    hint:
      `Open ${req.recordUrl}, unlock the Token field and copy it, then run ` +
      `\`pulumi config set --secret ${req.tokenConfigKey}\` (it reads the token from standard input; add --stack <name> if needed) and run \`pulumi up\` again; ` +
      "keywire takes that record over and proves the token before using it (docs/runbook.md). If the probe itself cannot succeed yet, check that the " +
      "inbound profile is linked to the access policy that governs the probe path (see ApiKeyVerification).",
  });
}

function unknownOutcome(req: AcquireRequest, route: TokenSource, verdict: ProbeVerdict): TokenNotProvenError {
  return new TokenNotProvenError("unknown", {
    platform: "servicenow",
    operation: `prove the token of api_key "${req.keyName}"`,
    table: "api_key",
    reason: `the probe of the ${route} token saw ${verdict.seen}, which neither proves nor refuses it`,
    hint:
      "Run `pulumi up` again once the instance answers normally. If a proxy or a maintenance page stands in front of the instance, " +
      "the probe path must reach the instance itself (ApiKey.probe).",
  });
}

/** Walks the plan until a route yields a proven token; throws a TokenNotProvenError otherwise. */
export async function acquireToken(ctx: EngineContext, req: AcquireRequest): Promise<AcquiredToken> {
  const plan = tokenPlan(req);
  const tried: string[] = [];
  for (const route of plan) {
    let candidate: string | undefined;
    if (route === "operator") candidate = req.operatorToken;
    else if (route === "input_display_value") candidate = req.generatedToken;
    else {
      const rec = await ctx.client.get("api_key", req.keySysId, { fields: ["token"], displayValue: "true" });
      // Only a value of the token's own shape is worth a probe; the encrypted blob is not.
      candidate = /^now_[A-Za-z0-9_-]{20,}$/.test(rec?.token ?? "") ? rec?.token : undefined;
    }
    tried.push(route);
    if (candidate === undefined) continue;
    const verdict = await probeToken(ctx, candidate, req.probe);
    if (verdict.outcome === "proven") return { token: candidate, source: route, proof: verdict.seen };
    if (verdict.outcome === "unknown") throw unknownOutcome(req, route, verdict);
    if (route === "operator") {
      throw new TokenNotProvenError("refused-operator", {
        platform: "servicenow",
        operation: `prove the operator-supplied token of api_key "${req.keyName}"`,
        table: "api_key",
        status: 401,
        reason: `the instance refused a request authenticated with the token from ${req.tokenConfigKey}`,
        hint:
          `Copy the token again from ${req.recordUrl} (it belongs to that record, which must be active with an active user) and ` +
          `set it with \`pulumi config set --secret ${req.tokenConfigKey}\`; if it is right, the access policy/profile link ` +
          "for the probe path is missing or inactive.",
      });
    }
  }
  throw manualStop(
    req,
    tried.filter((r) => r !== "operator"),
  );
}
