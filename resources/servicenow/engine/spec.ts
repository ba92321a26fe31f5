/**
 * What a record resource declares: the table, the owned fields and their kinds,
 * the natural key, and the hooks where it differs from the generic path. The
 * record engine (recordEngine.ts) turns a spec into a provider; columns.ts does
 * the column-space work for it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ZodType } from "zod";
import type { SnRecord } from "../client/tableClient";
import type { EngineContext } from "./runtime";
import type { ConnectionArgs } from "../client/connection";

export type FieldKind = "string" | "boolean" | "datetime" | "integer" | "reference" | "list";

export interface FieldDef {
  /** ServiceNow column name. */
  column: string;
  kind: FieldKind;
  /** Changing this field cannot be done in place: the record is replaced. */
  replaceOnChange?: boolean;
  /** Column value written when the input is absent. */
  defaultValue?: string;
  /**
   * For references and lists given by name rather than sys_id: the table and
   * the column that holds the name (e.g. sys_user.user_name).
   */
  lookup?: { table: string; by: string };
  /**
   * Never compare or write this field after creation (e.g. a value only the
   * instance can change). Still read and shown.
   */
  createOnly?: boolean;
}

export type InputValue = string | boolean | number | string[] | undefined | null;

/** Inputs every record resource accepts besides its own fields. */
export interface AdoptionInputs {
  /**
   * Take over an existing record instead of creating one: `true` finds it by the
   * resource's natural key, a sys_id names it directly.
   */
  adopt?: boolean | string;
  /**
   * What destroy does: `delete` the record, `restore` the owned fields keywire
   * changed on an adopted record, or `retain` it untouched. Defaults to `delete`
   * for records keywire created and `restore` for adopted ones.
   */
  onDestroy?: "delete" | "restore" | "retain";
  /**
   * The instance and credentials for this record, instead of the stack's
   * `servicenow:*` settings (a stack that manages several instances).
   */
  connection?: pulumi.Input<ConnectionArgs>;
  /** Who the record belongs to (`recordIdentity`): a create's sys_id follows from it. */
  identity?: string;
}

/**
 * Who a record belongs to: the program's organization, project and stack, and the
 * resource's type and name. A create's sys_id follows from it (engine/createIdentity.ts),
 * so a rerun after a process died mid-create sends the same sys_id and recognises the
 * record it made. Stacks of one organization, project and stack name on different
 * backends share it; their records stay apart by their names (the natural key counts too).
 */
export function recordIdentity(typeName: string, name: string): { identity: string } {
  return { identity: `${organization()}/${pulumi.getProject()}/${pulumi.getStack()}/${typeName}/${name}` };
}

/** The stack's organization; a program under Pulumi's test mocks may have none. */
function organization(): string {
  try {
    return pulumi.getOrganization();
  } catch {
    return "";
  }
}

/** The arguments with their connection secret as a whole, however the caller marked it. */
export function withSecretConnection<T extends { connection?: pulumi.Input<ConnectionArgs> }>(args: T): T {
  return args.connection === undefined ? args : { ...args, connection: pulumi.secret(args.connection) };
}

/** What the engine remembers about an adopted record. */
export interface AdoptionState {
  sysId: string;
  /** Owned columns as they were before keywire changed them. */
  original: Record<string, string>;
}

/** A name → sys_id resolution, kept so diffs need no lookup (a plain preview makes no call). */
export interface ResolvedValue {
  input: string | string[];
  column: string;
  /** Other column values the resolver knows names for, so drift reads as a name. */
  aliases?: Record<string, string>;
}

/** Resolves one input value to its column value when a plain name lookup will not do. */
export type Resolver = (ctx: EngineContext, value: string) => Promise<ResolvedValue>;

/** The engine's part of every record resource's outputs. */
export interface RecordOutputs {
  sysId: string;
  /** Live owned columns, exactly as the instance stores them. */
  columns: Record<string, string>;
  resolved: Record<string, ResolvedValue>;
  adoption?: AdoptionState;
  /** Link to the record in the instance UI (for people, never parsed). */
  recordUrl: string;
  [prop: string]: unknown;
}

export type Inputs = Record<string, unknown> & AdoptionInputs;

export interface PreparedCreate {
  columns: Record<string, string>;
  /** The sys_id to create the record under, when the resource chooses it itself. */
  sysId?: string;
  inputDisplayValue?: boolean;
  /** Outputs that the hook already knows (e.g. which token route is in use). */
  outputs?: Record<string, unknown>;
}

interface RecordHooks {
  /** Adjust the columns or request options of the create POST. */
  prepareCreate?(ctx: EngineContext, inputs: Inputs, columns: Record<string, string>): Promise<PreparedCreate>;
  /**
   * Runs after a create, adoption or update has been written; returns extra
   * outputs. Throwing here fails the operation (the API key's token probe does
   * so when no token can be proven).
   */
  afterWrite?(
    ctx: EngineContext,
    phase: "create" | "adopt" | "update",
    record: SnRecord,
    inputs: Inputs,
    prepared: Record<string, unknown>,
    olds?: RecordOutputs,
  ): Promise<Record<string, unknown>>;
  /**
   * Column values computed from more than one input (an expiry relative to the
   * creation time); they win over the field's own conversion. Pure: diff calls it.
   */
  columnOverrides?(inputs: Inputs, olds?: RecordOutputs): Record<string, string>;
  /**
   * A record to take over although `adopt` is not set (the resource's own rule,
   * e.g. the API key a stopped run parked); undefined means create as usual.
   */
  implicitAdoption?(ctx: EngineContext, inputs: Inputs, columns: Record<string, string>): Promise<SnRecord | undefined>;
  /** Changes the generic field diff cannot see (a new operator token, a rotation). */
  diffExtra?(olds: RecordOutputs, news: Inputs): { changed: string[]; replaces: string[] };
  /**
   * Inputs the resource derives from its old and new inputs in check (a key's
   * generation), so that preview shows them and create receives them. Pure.
   */
  derivedInputs?(olds: Inputs, news: Inputs, now: Date): Record<string, unknown>;
  /**
   * Extra validation needing more than the schema (cross-field rules, or rules
   * against the inputs in the state, `olds`); messages name the property.
   */
  validate?(inputs: Inputs, olds: Inputs): pulumi.dynamic.CheckFailure[];
  /**
   * Inputs that only the instance can tell, for a record about to be created (an API
   * key's generation, counted from the keys of its name on the instance; the parked
   * key it will take over). Returns undefined when no record is to be created, so a
   * settled stack's previews make no call. check shows the answer in the preview (a
   * failure there only leaves it out); create asks again, since the engine checks a
   * replacement a second time without its old inputs.
   */
  creationInputs?(ctx: EngineContext, olds: Inputs, inputs: Inputs): Promise<Record<string, unknown> | undefined>;
  /**
   * Runs before an existing record is taken over (and changed), explicitly or
   * implicitly; throwing stops the adoption with the record untouched.
   */
  beforeAdopt?(ctx: EngineContext, inputs: Inputs, record: SnRecord): Promise<void>;
  /**
   * On destroy of an adopted record: the columns to give back (default: the values found
   * at adoption), or undefined to leave the record as it is (another stack still needs
   * keywire's change).
   */
  restoreColumns?(ctx: EngineContext, props: RecordOutputs): Promise<Record<string, string> | undefined>;
}

export interface RecordSpec {
  /** Resource type name, e.g. "ApiKey"; also the last part of its type token. */
  typeName: string;
  table: string;
  /** Input property → column. */
  fields: Record<string, FieldDef>;
  /** Input properties that identify the record (for adoption and idempotent create). */
  naturalKey: string[];
  /** Builds the zod schema for the resource's own inputs. */
  schema: (z: typeof import("zod")) => ZodType;
  /** Inputs that are secrets (an operator's token): carried through read from the old outputs, never read back. */
  secretInputs?: string[];
  /** Outputs the engine carries through read untouched (values only the program knows). */
  carriedOutputs?: string[];
  /**
   * Inputs the instance does not store (settings, values derived in check), carried
   * through read into the outputs like carriedOutputs, so the diff after a refresh
   * still sees them. The inputs themselves read leaves to the engine, which keeps them.
   */
  carriedInputs?: string[];
  /** Input properties resolved by a custom lookup rather than `FieldDef.lookup`. */
  resolvers?: Record<string, Resolver>;
  /**
   * Whether a create's sys_id follows from the resource's identity (the default), so that
   * a rerun recognises the record a killed run made. False keeps a fresh sys_id per create.
   */
  stableCreate?: boolean;
  hooks?: RecordHooks;
}

/** Type tokens read `pulumi-nodejs:dynamic/keywire/servicenow:<Name>`. */
export const SERVICENOW_MODULE = "keywire/servicenow";
