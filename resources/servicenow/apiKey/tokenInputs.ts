/**
 * What a key's hooks read about its token from the inputs: the operator's token (and
 * whether it is one a retired key held), the probe that proves a token, and the config
 * key a person sets a copied token in.
 */
import { createHash } from "crypto";
import type { Inputs, RecordOutputs } from "../engine/spec";
import { DEFAULT_PROBE, ProbeSettings } from "./probe";
import { DEFAULT_TOKEN_CONFIG_KEY } from "./tokenPlan";

/** The probe a token is proven by: the key's `probe`, or the default. */
export function probeOf(inputs: Inputs): ProbeSettings {
  const p = inputs.probe as Partial<ProbeSettings> | undefined;
  return { path: p?.path ?? DEFAULT_PROBE.path, via: p?.via ?? DEFAULT_PROBE.via };
}

/** The config key a person sets this key's copied token in: the key's `tokenConfigKey`, or the default. */
export function tokenConfigKeyOf(inputs: Inputs): string {
  return typeof inputs.tokenConfigKey === "string" ? inputs.tokenConfigKey : DEFAULT_TOKEN_CONFIG_KEY;
}

/** The operator's token, when the inputs carry one. */
export function operatorTokenOf(inputs: Inputs): string | undefined {
  return typeof inputs.token === "string" && inputs.token !== "" ? inputs.token : undefined;
}

/** A one-way mark of a token, to recognise it later without keeping it twice. */
export function tokenMark(token: string): string {
  return createHash("sha256").update("keywire retired token\0").update(token).digest("hex");
}

/**
 * Whether the operator's token is one this key knows to belong to a key that was retired
 * (the key it was handed over for, which a rotation replaced). Such a token stays in the
 * configuration until someone removes it; it is ignored, never proven against this key.
 */
export function isRetiredToken(olds: RecordOutputs | undefined, token: string | undefined): boolean {
  if (token === undefined || !olds || !Array.isArray(olds.retiredTokens)) return false;
  return (olds.retiredTokens as unknown[]).includes(tokenMark(token));
}

/** The key's `tokenNote` while the configuration holds a retired key's token: what to remove. */
export function retiredTokenNote(inputs: Inputs): string {
  const key = tokenConfigKeyOf(inputs);
  return `${key} holds the token of a key that was retired (replaced by a rotation, or deleted), so keywire ignores it. Remove it with \`pulumi config rm ${key}\`.`;
}
