/**
 * What the Freshservice and Ivanti providers' `check` methods share: inputs still
 * unknown during a preview, and zod issues worded as Pulumi check failures.
 */
import { z } from "zod";

/** The value the engine passes for inputs not known yet during a preview. */
export const UNKNOWN_INPUT = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface CheckFailure {
  property: string;
  reason: string;
}

/** An input that may still be unknown during a preview. */
export function knownOr<T extends z.ZodType>(schema: T) {
  return z.union([z.literal(UNKNOWN_INPUT), schema]);
}

/** zod issues as Pulumi check failures: `<Type>.<property> <message>`. */
export function failuresFrom(error: z.ZodError, typeName: string): CheckFailure[] {
  const seen = new Set<string>();
  const out: CheckFailure[] = [];
  for (const issue of error.issues) {
    // A union reports the unknown-value branch too; keep the issue from the real branch.
    const inner = issue.code === "invalid_union" ? (issue.errors.flat().find((e) => e.code !== "invalid_value") ?? issue) : issue;
    const path = [...issue.path, ...(inner === issue ? [] : inner.path)].map(String);
    const property = path.join(".") || "(inputs)";
    const message = inner.code === "unrecognized_keys" ? `has unknown properties: ${inner.keys.join(", ")}` : inner.message;
    const reason = `${typeName}.${property} ${message}`;
    if (seen.has(reason)) continue;
    seen.add(reason);
    out.push({ property: path[0] ?? "(inputs)", reason });
  }
  return out;
}
