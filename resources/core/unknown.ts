/**
 * During a preview, inputs that come from other resources' outputs are not known
 * yet and reach a provider as the engine's unknown value. Validation skips them;
 * they are checked again once known, before anything is written.
 */

/**
 * The engine's unknown value, as the Node SDK spells it (`runtime.unknownValue`). Written
 * here rather than imported so that the drift report, which only reads a preview's JSON,
 * does not load the SDK; test/core/unknown.test.ts holds the two equal.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}
