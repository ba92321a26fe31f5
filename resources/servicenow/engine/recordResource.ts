/**
 * The resource class of a record: typed with its declaration's outputs, and registering
 * each of them. Pulumi makes an output of every property a resource is given, set or
 * not; a declared output nobody gave would be undefined on the instance.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ReferencedProvider, ReferencedResource } from "../../core/providerLoading/providerReference";
import type { DeclaredOutputs, RecordDeclaration, RecordInputs } from "./declaration";
import { SERVICENOW_MODULE, recordIdentity, withSecretConnection } from "./spec";
import type { ConnectionArgs } from "../client/connection";

/** What a record's class extends: its constructor takes the inputs as the provider receives them. */
export type RecordResourceClass<I extends RecordInputs> = abstract new (
  provider: ReferencedProvider,
  name: string,
  props: pulumi.Inputs,
  opts?: pulumi.CustomResourceOptions,
) => ReferencedResource & DeclaredOutputs<I>;

/**
 * The base class of a record resource. `outputs` names the outputs a resource has beyond
 * its declaration's (an API key's token).
 */
export function recordResource<I extends RecordInputs>(record: RecordDeclaration<I>, outputs: readonly string[] = []): RecordResourceClass<I> {
  const registered: Record<string, undefined> = {};
  for (const key of ["sysId", "recordUrl", ...Object.keys(record.fields), ...outputs]) registered[key] = undefined;
  abstract class RecordBase extends ReferencedResource {
    constructor(provider: ReferencedProvider, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
      super(provider, name, { ...registered, ...props }, opts, SERVICENOW_MODULE, record.typeName);
    }
  }
  // The outputs are the properties registered above: Pulumi sets them on the instance.
  return RecordBase as unknown as RecordResourceClass<I>;
}

/**
 * A record's inputs as most resources send them: the program's arguments, with the
 * connection secret as a whole and who the record belongs to (a create's sys_id follows from it).
 */
export function ownedRecordInputs<A extends { connection?: pulumi.Input<ConnectionArgs> }>(
  record: { readonly typeName: string },
  name: string,
  args: A,
): A & { identity: string } {
  return { ...withSecretConnection(args), ...recordIdentity(record.typeName, name) };
}
