/**
 * The rotation settings of an API key and the rule they must keep, in one place
 * for the ApiKey resource's check and the stack configuration.
 *
 * The rule: a key must not be due for rotation when it is made. A key that is
 * due at once is replaced on every `pulumi up` (with expiresInDays 30 and
 * rotateBeforeExpiryDays 30, every new key expires within 30 days). And a key
 * must be rotated no later than it expires, or it stops working before its
 * replacement exists (maxAgeDays past expiresInDays).
 */
import type * as zod from "zod";

type Zod = typeof zod.z;
import { parseDateTime } from "../engine/glideDateTime";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The `rotation` input: unknown settings are refused, since a misspelt one would silently never rotate. */
export function rotationSchema(z: Zod) {
  return z
    .object({
      /** Replace the key once it is this many days old. */
      maxAgeDays: z.number().int().positive().optional(),
      /** Replace the key this many days before its expiry. */
      rotateBeforeExpiryDays: z.number().int().nonnegative().optional(),
      /** Any change of this value replaces the key now. */
      trigger: z.string().optional(),
    })
    .strict();
}

/** The rotation settings, as the schema accepts them. */
export type RotationSettings = zod.infer<ReturnType<typeof rotationSchema>>;

/** What the rule reads: the key's expiry (relative or explicit) and its rotation. */
export interface RotatedKey {
  expiresInDays?: number;
  /** An explicit expiry, as the program gives it. */
  expires?: string;
  rotation?: { maxAgeDays?: number; rotateBeforeExpiryDays?: number };
}

export interface RotationProblem {
  /** Path from the key's settings, e.g. ["rotation", "maxAgeDays"]. */
  path: string[];
  message: string;
}

/** Every way these settings would make a key due when it is made, or let it expire before rotation. */
export function rotationProblems(key: RotatedKey, now: Date): RotationProblem[] {
  const problems: RotationProblem[] = [];
  const { maxAgeDays, rotateBeforeExpiryDays } = key.rotation ?? {};
  const lifetime = key.expiresInDays;
  if (rotateBeforeExpiryDays !== undefined && lifetime !== undefined && rotateBeforeExpiryDays >= lifetime) {
    problems.push({
      path: ["rotation", "rotateBeforeExpiryDays"],
      message:
        `must be less than expiresInDays (${lifetime}): a new key expires within ${rotateBeforeExpiryDays} days, ` +
        "so it would be due for rotation when it is made and replaced on every update. Lower it or raise expiresInDays",
    });
  }
  if (maxAgeDays !== undefined && lifetime !== undefined && maxAgeDays > lifetime) {
    problems.push({
      path: ["rotation", "maxAgeDays"],
      message:
        `must be at most expiresInDays (${lifetime}): the key would expire before it is ${maxAgeDays} days old ` +
        "and stop working before it is rotated. Lower it or raise expiresInDays",
    });
  }
  const expires = key.expires ? parseDateTime(key.expires) : undefined;
  if (rotateBeforeExpiryDays !== undefined && expires && expires.getTime() - now.getTime() <= rotateBeforeExpiryDays * DAY_MS) {
    problems.push({
      path: ["rotation", "rotateBeforeExpiryDays"],
      message:
        `is due already: expires is within ${rotateBeforeExpiryDays} days, so the key would be replaced on every update. ` +
        "Move expires later or lower rotateBeforeExpiryDays",
    });
  }
  return problems;
}
