/**
 * What every provider's `check` shares: inputs still unknown during a preview,
 * and zod issues worded as Pulumi check failures.
 */
import { z } from "zod";
import { UNKNOWN } from "./unknown";

/** The value the engine passes for inputs not known yet during a preview. */
export const UNKNOWN_INPUT = UNKNOWN;

export interface CheckFailure {
  property: string;
  reason: string;
}

/** An input that may still be unknown during a preview. */
export function knownOr<T extends z.ZodType>(schema: T) {
  return z.union([z.literal(UNKNOWN_INPUT), schema]);
}

/** zod issues as Pulumi check failures: `<Type>.<property>: <message>`, the property its whole path. */
export function failuresFrom(error: Pick<z.ZodError, "issues">, typeName: string): CheckFailure[] {
  const seen = new Set<string>();
  const out: CheckFailure[] = [];
  for (const issue of error.issues) {
    // A union reports the unknown-value branch too; keep the issue from the real branch.
    const inner = issue.code === "invalid_union" ? (issue.errors.flat().find((e) => e.code !== "invalid_value") ?? issue) : issue;
    const path = [...issue.path, ...(inner === issue ? [] : inner.path)].map(String);
    const property = path.join(".") || "(inputs)";
    const message = inner.message;
    const reason = `${typeName}.${property}: ${message}`;
    if (seen.has(reason)) continue;
    seen.add(reason);
    out.push({ property, reason });
  }
  return out;
}
