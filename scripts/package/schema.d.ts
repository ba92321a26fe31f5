/**
 * The zod types of keywire's API, as the package declares them (shipped as
 * dist/schema.d.ts): keywire's declarations name these instead of zod's.
 *
 * zod's own declarations type-check only with `esModuleInterop` (or `skipLibCheck`),
 * and Pulumi's TypeScript template sets neither, so declarations that named zod's
 * types would fail every such program that imports keywire. keywire builds its
 * schemas with the zod a program passes in (`keySettingsSchema(z)`): at run time each
 * is that zod's schema, with all of its methods; these declare what a program needs
 * to parse with one, or to compose it into a schema of its own. The build
 * (scripts/package/declarations.ts) writes them in place of zod's types.
 */

/** zod's builders, as `import { z } from "zod"` gives them (zod 4). */
export interface Zod {
  object(...args: never[]): unknown;
  string(...args: never[]): unknown;
  number(...args: never[]): unknown;
  boolean(...args: never[]): unknown;
  union(...args: never[]): unknown;
}

/**
 * A zod schema: what it yields (`Output`) and what it accepts (`Input`). `_zod` is
 * zod's own slot for those types, so the schema composes into a program's
 * `z.object({ … })` and `z.infer` sees them.
 */
export interface Schema<Output, Input = Output> {
  readonly _zod: { readonly output: Output; readonly input: Input };
  parse(data: unknown, params?: ParseParams): Output;
  safeParse(data: unknown, params?: ParseParams): SafeParseResult<Output>;
  optional(): OptionalSchema<Output, Input>;
}

/** A schema whose key an object may leave out (`.optional()`), marked the way zod marks one. */
export interface OptionalSchema<Output, Input = Output> extends Schema<Output | undefined, Input | undefined> {
  readonly _zod: {
    readonly output: Output | undefined;
    readonly input: Input | undefined;
    readonly optin: "optional";
    readonly optout: "optional";
  };
}

/** What zod hands an error map: the issue it is about to report. */
export interface Issue {
  readonly code?: string;
  readonly path?: PropertyKey[];
  readonly input?: unknown;
  readonly message?: string;
}

/** zod's error map (`{ error: … }` of a parse): the message for an issue, or nothing for zod's own. */
export type ErrorMap = (issue: Issue) => { message: string } | string | undefined | null;

export interface ParseParams {
  error?: ErrorMap;
  reportInput?: boolean;
}

/** An issue of a failed parse. */
export interface ReportedIssue {
  readonly code: string;
  readonly path: PropertyKey[];
  readonly message: string;
}

/** zod's error for a failed parse. */
export interface ValidationError extends Error {
  readonly issues: ReportedIssue[];
}

export type SafeParseResult<Output> =
  | { readonly success: true; readonly data: Output; readonly error?: never }
  | { readonly success: false; readonly data?: never; readonly error: ValidationError };
