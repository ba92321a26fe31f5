/**
 * During a preview, inputs that come from other resources' outputs are not known
 * yet and reach a provider as the engine's unknown value. Validation skips them;
 * they are checked again once known, before anything is written.
 */
import { runtime } from "@pulumi/pulumi";

export const UNKNOWN: string = runtime.unknownValue;

export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}
