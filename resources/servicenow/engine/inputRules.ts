/**
 * Rules for text keywire writes to a ServiceNow instance or looks records up by,
 * shared by the resources' schemas and the stack configuration.
 *
 * - Lengths: the instance shortens a value longer than its column without an
 *   error (the emulator does the same), and the shortened value would then read
 *   as drift on every refresh. Names are capped at 100 characters, descriptions
 *   at 1000.
 * - Names are one line: a record whose name has a line break cannot be found by
 *   name again (encoded queries cannot carry one), and other control characters
 *   are invisible in the instance's lists and forms.
 * - Values that become query values (names looked up, natural keys) must not
 *   start with `javascript:`, which the instance runs as a script inside a query
 *   (see encodedQuery.ts, which refuses them too).
 *
 * Schemas are built from the `z` a caller passes in: the record engine requires
 * zod inside `check` (see recordEngine.ts).
 */
import type * as zod from "zod";

/** zod's builders, as `import { z } from "zod"` and the record engine's `require("zod")` both give them. */
type Zod = typeof zod.z;
import { startsWithScript } from "../client/encodedQuery";

export const NAME_MAX = 100;
export const DESCRIPTION_MAX = 1000;
/** For other text columns: longer than any value keywire writes to them. */
export const TEXT_MAX = 255;

const CONTROL = /[\u0000-\u001f\u007f]/;

export const ONE_LINE_MESSAGE = "must be one line, without line breaks, tabs or other control characters";
export const SCRIPT_MESSAGE =
  'must not start with "javascript:": keywire looks records up by this value, and the instance would run it as a script';

/** Whether a value would be run as a script if it reached a query. */
export function isScriptValue(value: unknown): boolean {
  return typeof value === "string" && startsWithScript(value);
}

/** One line of text, at most `max` characters. */
export function oneLine(z: Zod, max: number = TEXT_MAX) {
  return z
    .string()
    .max(max)
    .refine((v) => !CONTROL.test(v), { message: ONE_LINE_MESSAGE });
}

/** A record's name: required, one line, at most 100 characters. */
export function recordName(z: Zod) {
  return z
    .string()
    .min(1, "is required")
    .max(NAME_MAX)
    .refine((v) => !CONTROL.test(v), { message: ONE_LINE_MESSAGE });
}

/** A record's description: at most 1000 characters; line breaks are fine here. */
export function recordDescription(z: Zod) {
  return z.string().max(DESCRIPTION_MAX);
}

/** A value keywire puts into a query: refused when the instance would run it as a script. */
export function queryValue<T extends zod.ZodType<string>>(schema: T) {
  return schema.refine((v) => !startsWithScript(v), { message: SCRIPT_MESSAGE });
}
