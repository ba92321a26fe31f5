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
 * - No text keywire writes holds invisible formatting characters (bidirectional
 *   controls, zero-width characters): they make one record's name read as
 *   another's. The character rules are core/textRules.ts's, shared with the
 *   stack configuration and the connection settings.
 * - Values that become query values (names looked up, natural keys) must not
 *   start with `javascript:`, which the instance runs as a script inside a query
 *   (see encodedQuery.ts, which refuses them too).
 *
 * Schemas are built from the `z` a caller passes in: the record engine requires
 * zod inside `check` (see check.ts).
 */
import type * as zod from "zod";

/** zod's builders, as `import { z } from "zod"` and the record engine's `require("zod")` both give them. */
type Zod = typeof zod.z;
import { startsWithScript } from "../client/encodedQuery";
import { multiLineProblem, oneLineProblem } from "../../core/textRules";

export const NAME_MAX = 100;
export const DESCRIPTION_MAX = 1000;
/** For other text columns: longer than any value keywire writes to them. */
export const TEXT_MAX = 255;

export const SCRIPT_MESSAGE = 'must not start with "javascript:": keywire looks records up by this value, and the instance would run it as a script';

/** Whether a value would be run as a script if it reached a query. */
export function isScriptValue(value: unknown): boolean {
  return typeof value === "string" && startsWithScript(value);
}

/** Adds the problem `rule` finds, if any, as the value's issue (worded with the character's code point and position, never the text). */
function refused(rule: (v: string) => string | undefined) {
  return (v: string, ctx: zod.RefinementCtx) => {
    const problem = rule(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  };
}

/** One line of text, at most `max` characters, nothing invisible. */
export function oneLine(z: Zod, max: number = TEXT_MAX) {
  return z.string().max(max).superRefine(refused(oneLineProblem));
}

/** A record's name: required, one line, at most 100 characters, nothing invisible. */
export function recordName(z: Zod) {
  return z.string().min(1, "is required").max(NAME_MAX).superRefine(refused(oneLineProblem));
}

/** A record's description: at most 1000 characters; line breaks and tabs are fine here, invisible characters are not. */
export function recordDescription(z: Zod) {
  return z.string().max(DESCRIPTION_MAX).superRefine(refused(multiLineProblem));
}

/** A value keywire puts into a query: refused when the instance would run it as a script. */
export function queryValue<T extends zod.ZodType<string>>(schema: T) {
  return schema.refine((v) => !startsWithScript(v), { message: SCRIPT_MESSAGE });
}
