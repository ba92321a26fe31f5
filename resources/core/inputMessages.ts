/**
 * Messages for refused input, shared by the stack configuration and every
 * dynamic resource's check, so both say the same thing the same way.
 *
 * zod's own messages name zod's view ("Invalid input: expected boolean, received
 * string"); these say what the value must be and what was given instead. A given
 * value is quoted only when it cannot be a secret: not under a key named like a
 * token, password or secret, and not credential-shaped (a URL with `user:pass@`,
 * an API-key token), since a secret pasted into the wrong key is still a secret.
 */
import type * as z from "zod";
import { redact } from "./redact";
import { SECRET_NAME } from "./textRules";

/** Longest given value repeated in a message; a longer one is cut. */
const MAX_QUOTED = 40;

/** Whether the value at `path` may be a secret, so that no message may repeat it. */
function mayBeSecret(path: readonly PropertyKey[], value: unknown): boolean {
  if (path.some((p) => typeof p === "string" && SECRET_NAME.test(p))) return true;
  return typeof value === "string" && redact(value) !== value;
}

/** What was given, for "(got …)": its type, and its value when that is safe to show. */
function describeGiven(value: unknown, path: readonly PropertyKey[]): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string": {
      if (mayBeSecret(path, value)) return "a string";
      const shown = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value;
      return `string ${JSON.stringify(shown)}`;
    }
    case "number":
      return mayBeSecret(path, value) ? "a number" : `number ${value}`;
    case "boolean":
      return String(value);
    case "object":
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "a boolean",
  array: "a list",
  object: "an object",
  date: "a date",
};

/** Edit distance between two words, ignoring case. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, i) => i);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[t.length];
}

/** The known word a misspelt one most likely meant, if one is close enough to say so. */
export function nearest(word: string, known: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 4));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(word, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** The keys an object schema accepts, read from the schema that reported unknown keys. */
function knownKeysOf(inst: unknown): string[] {
  // zod keeps an object schema's fields in `_zod.def.shape`; anything else has no keys to offer.
  const def = (inst as { _zod?: { def?: { type?: string; shape?: Record<string, unknown> } } } | undefined)?._zod?.def;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

function unknownKeys(keys: readonly string[], known: readonly string[]): string {
  const each = keys.map((k) => {
    const guess = nearest(k, known);
    return `"${k}"${guess ? ` (did you mean "${guess}"?)` : ""}`;
  });
  const valid = known.length > 0 ? `; the keys are ${known.join(", ")}` : "";
  return `has no setting ${each.join(", ")}${valid}`;
}

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${Number(n) === 1 ? "" : "s"}`;
}

/**
 * The error map for every parse of program input (`schema.safeParse(v, { error: inputErrorMap })`).
 * A message a schema gives itself wins; this fills in the rest. Returning undefined
 * leaves zod's own message.
 */
export const inputErrorMap: z.core.$ZodErrorMap = (issue) => {
  const path = issue.path ?? [];
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return `must be ${EXPECTED[issue.expected] ?? issue.expected} (got ${describeGiven(issue.input, path)})`;
    case "unrecognized_keys":
      return unknownKeys(issue.keys, knownKeysOf(issue.inst));
    case "too_big":
      if (issue.origin === "string") return `must be at most ${plural(issue.maximum, "character")} long`;
      if (issue.origin === "array") return `must have at most ${plural(issue.maximum, "item")}`;
      if (issue.origin === "number" || issue.origin === "int") return `must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}`;
      return undefined;
    case "too_small":
      if (issue.origin === "string") return Number(issue.minimum) <= 1 ? "must not be empty" : `must be at least ${plural(issue.minimum, "character")} long`;
      if (issue.origin === "array") return `must have at least ${plural(issue.minimum, "item")}`;
      if (issue.origin === "number" || issue.origin === "int") return `must be ${issue.inclusive ? "at least" : "greater than"} ${issue.minimum}`;
      return undefined;
    case "invalid_value":
      return `must be ${issue.values.length === 1 ? "" : "one of "}${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return issue.format === "email" ? "must be an e-mail address" : undefined;
    default:
      return undefined;
  }
};
