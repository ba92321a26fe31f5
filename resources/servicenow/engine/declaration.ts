/**
 * A record resource's declaration: each input written once, with its schema and, where
 * the instance stores it, its column. From it follow
 *
 * - the engine's spec (recordEngine.ts reads `fields`, `schema`, `resolvers`, …);
 * - the resource's argument type, each input a Pulumi input, optional where its schema
 *   accepts none (`DeclaredArgs`);
 * - its declared outputs, each column as the engine shows it back (`DeclaredOutputs`);
 * - the inputs table of its docs page (scripts/docs/recordTables.ts), which also reads
 *   the doc comment written above each input.
 *
 * The types follow from the schemas at compile time and carry no zod type of their own
 * (see `TYPES`), so the package's declarations need no zod to name them.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as zod from "zod";
import type { AdoptionInputs, FieldDef, FieldKind, RecordSpec, Resolver } from "./spec";

/** zod's builders, as `import { z } from "zod"` and the record engine's `require("zod")` both give them. */
type Zod = typeof zod.z;

/**
 * Type only, never set: what a program gives for the input (zod's input type of its
 * schema, worked out where the input is declared) and the column's kind. Generic types
 * below read these rather than the schema's type, so none of them names zod's.
 */
declare const TYPES: unique symbol;

/** One entry of a declaration: an input, a column, or both. */
export interface RecordInput<Given, Kind extends FieldKind> {
  /** What a program may give; none for a column keywire fills itself. */
  readonly schema?: (z: Zod) => zod.ZodType;
  /** Where the instance stores it; none for a setting the instance does not hold. */
  readonly field?: FieldDef;
  /** How a name given for a reference is found, when a plain lookup will not do. */
  readonly resolve?: Resolver;
  /** A setting the instance does not hold, carried through read (`RecordSpec.carriedInputs`). */
  readonly carried?: boolean;
  /** A secret the instance never gives back, carried from the old outputs (`RecordSpec.secretInputs`). */
  readonly secret?: boolean;
  readonly [TYPES]?: { readonly given: Given; readonly kind: Kind };
}

/** The entries of a declaration, by input property. */
export type RecordInputs = Record<string, RecordInput<unknown, FieldKind>>;

/** A column's settings in a declaration: the engine's field, and its resolver if it has one. */
export type Column<Kind extends FieldKind> = Omit<FieldDef, "kind"> & { kind: Kind; resolve?: Resolver };

/** An input stored in a column of the record. */
export function column<Kind extends FieldKind, S extends zod.ZodType>(
  settings: Column<Kind>,
  schema: (z: Zod) => S,
): RecordInput<zod.input<S>, Kind> & { readonly schema: (z: Zod) => S } {
  const { resolve, ...field } = settings;
  return { schema, field, ...(resolve ? { resolve } : {}) };
}

/** An input the instance does not hold: a setting of the resource's own, or a rule check enforces. */
export function setting<S extends zod.ZodType>(
  schema: (z: Zod) => S,
  options: { carried?: boolean; secret?: boolean } = {},
): RecordInput<zod.input<S>, never> & { readonly schema: (z: Zod) => S } {
  return { schema, ...options };
}

/** A column keywire writes itself, the same for every record: no program gives it. */
export function written<Kind extends FieldKind>(settings: Column<Kind> & { defaultValue: string }): RecordInput<never, Kind> {
  const { resolve, ...field } = settings;
  return { field, ...(resolve ? { resolve } : {}) };
}

type Given<X> = X extends { readonly [TYPES]?: { readonly given: infer G } } ? G : never;
type Kind<X> = X extends { readonly [TYPES]?: { readonly kind: infer K } } ? K : never;
type IsNever<T> = [T] extends [never] ? true : false;

/** The properties a program gives, optional where the schema accepts undefined. */
type DeclaredInputs<I> = {
  [K in keyof I as IsNever<Given<I[K]>> extends true ? never : undefined extends Given<I[K]> ? never : K]: Given<I[K]>;
} & {
  [K in keyof I as IsNever<Given<I[K]>> extends true ? never : undefined extends Given<I[K]> ? K : never]?: Exclude<Given<I[K]>, undefined>;
};

/** A value as a Pulumi input; a list's items may be outputs too. Not distributed over unions (`"GET" | "POST"` stays one input). */
type AsInput<T> = [T] extends [readonly (infer E)[]] ? pulumi.Input<pulumi.Input<E>[]> : pulumi.Input<T>;

/** The resource's own arguments: each declared input as a Pulumi input. */
export type DeclaredArgs<I> = { [K in keyof DeclaredInputs<I>]: AsInput<Exclude<DeclaredInputs<I>[K], undefined>> };

/** The arguments of a record resource: its own, and the engine's (`adopt`, `onDestroy`, `connection`). */
export type RecordArgs<D extends { readonly inputs: RecordInputs }> = AdoptionInputs & DeclaredArgs<D["inputs"]>;

/** A column's value as the engine shows it back (columns.ts, `fromColumn`). */
type Shown<K> = K extends "boolean" ? boolean : K extends "list" ? string[] : string;

/** The outputs every record has, and each column as the engine shows it back. */
export type DeclaredOutputs<I> = {
  /** The record's sys_id (also the resource's id). */
  readonly sysId: pulumi.Output<string>;
  /** The record's form in the instance UI, for people. */
  readonly recordUrl: pulumi.Output<string>;
} & { readonly [K in keyof I as IsNever<Kind<I[K]>> extends true ? never : K]: pulumi.Output<Shown<Kind<I[K]>>> };

/** The schemas of the declared inputs, by property. */
type InputShape<I> = {
  [K in keyof I as I[K] extends { readonly schema: (z: Zod) => zod.ZodType } ? K : never]: I[K] extends {
    readonly schema: (z: Zod) => infer S extends zod.ZodType;
  }
    ? S
    : never;
};

/**
 * Builds the inputs' schema with the zod `z` the caller has (the engine requires its own
 * inside check). Its type is zod's own object type, so a public schema built with it
 * (`apiKeyInputSchema`) is declared in the package as the schema it is.
 */
export function inputSchema<I extends RecordInputs>(inputs: I, z: Zod): zod.ZodObject<InputShape<I>> {
  const shape: Record<string, zod.ZodType> = {};
  for (const [prop, input] of Object.entries(inputs)) if (input.schema) shape[prop] = input.schema(z);
  // The loop builds exactly the shape the type names.
  return z.object(shape) as unknown as zod.ZodObject<InputShape<I>>;
}

/** A spec whose fields, schema, resolvers and carried inputs follow from its inputs. */
export interface RecordDeclaration<I extends RecordInputs> extends RecordSpec {
  readonly inputs: I;
  readonly naturalKey: Array<keyof I & string>;
  readonly resolvers: Record<string, Resolver>;
  readonly secretInputs: string[];
  readonly carriedInputs: string[];
}

/**
 * Any record's declaration, for code that reads them all (the docs' tables): the natural
 * key as plain names, since `keyof` would tie each declaration to its own inputs.
 */
export type AnyRecordDeclaration = Omit<RecordDeclaration<RecordInputs>, "naturalKey"> & { readonly naturalKey: readonly string[] };

/** What a resource file writes: the spec, with its inputs in place of the lists that follow from them. */
export type RecordDeclarationSource<I extends RecordInputs> = Omit<RecordSpec, "fields" | "schema" | "resolvers" | "secretInputs" | "naturalKey"> & {
  inputs: I;
  naturalKey: Array<keyof I & string>;
};

/** The inputs declared as carried settings, in declaration order. */
export function carriedInputsOf(inputs: RecordInputs): string[] {
  return Object.entries(inputs)
    .filter(([, input]) => input.carried)
    .map(([prop]) => prop);
}

export function defineRecord<I extends RecordInputs>(source: RecordDeclarationSource<I>): RecordDeclaration<I> {
  const fields: Record<string, FieldDef> = {};
  const resolvers: Record<string, Resolver> = {};
  const secret: string[] = [];
  for (const [prop, input] of Object.entries(source.inputs)) {
    if (input.field) fields[prop] = input.field;
    if (input.resolve) resolvers[prop] = input.resolve;
    if (input.secret) secret.push(prop);
  }
  return {
    ...source,
    fields,
    schema: (z) => inputSchema(source.inputs, z),
    resolvers,
    secretInputs: secret,
    // Inputs a hook derives (no program gives them) are named by the source itself.
    carriedInputs: [...carriedInputsOf(source.inputs), ...(source.carriedInputs ?? [])],
  };
}
