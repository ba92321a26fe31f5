/**
 * Resources that stand for a key a person made in a platform's console and keywire is
 * given but can only prove, never look up, make or revoke (FreshserviceApiKey,
 * IvantiApiKey): their ids, the fingerprint that tells keys apart, and the lifecycle
 * they share, and the outputs their resources declare. Each platform supplies how a
 * key is proven and described.
 *
 * The engine stores ids in clear and shows them in previews and `pulumi stack`, so an
 * id holds nothing derived from the key: even a prefix of its hash lets whoever reads
 * the state test guesses of the key offline.
 */
import { createHash, randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { KeywireError } from "./errors";
import { ReferencedProvider, ReferencedResource } from "./providerLoading/providerReference";

/** `<scope>/<16 random hex digits>`: the shape ids had when they ended in a fingerprint. */
function keyResourceId(scope: string): string {
  return `${scope}/${randomBytes(8).toString("hex")}`;
}

/**
 * The id a refresh returns. Earlier versions made ids `<scope>/<fingerprint>`; such an
 * id gets a random suffix (the engine keeps the id a refresh returns), any other stays.
 */
function refreshedKeyResourceId(id: string, fingerprint: string): string {
  const slash = id.lastIndexOf("/");
  return slash >= 0 && id.slice(slash + 1) === fingerprint ? keyResourceId(id.slice(0, slash)) : id;
}

/**
 * First 16 hex digits of the key's SHA-256: tells keys apart without holding the key. It
 * still lets anyone who has it test guesses of the key, so it is kept only in secret
 * outputs, never in an id or a plain output.
 */
export function keyFingerprint(apiKey: string): string {
  return createHash("sha256").update(apiKey, "utf8").digest("hex").slice(0, 16);
}

/** What a platform supplies for its provided-key resource. */
export interface ProvidedKey<I, O extends { fingerprint: string }> {
  platform: string;
  /** The resource's type name, e.g. `IvantiApiKey`. */
  typeName: string;
  /** Proves the key and returns the outputs; with `mustWork`, a key that does not work throws why. */
  prove(inputs: I, mustWork: boolean): Promise<O>;
  /** What the id is scoped by: the Freshservice domain, the Ivanti tenant host. */
  scopeOf(outs: O): string;
  /** The inputs a refresh proves again, from stored outputs; `undefined` when they hold no key. */
  storedInputs(props: O): I | undefined;
}

/**
 * create, read, update and delete of a provided key: create and update prove it and fail
 * when it does not work; read proves it again and reports a refusal as drift
 * (`verified: false`); delete leaves the key alone.
 */
export function providedKeyMethods<I, O extends { fingerprint: string }>(k: ProvidedKey<I, O>) {
  return {
    async create(inputs: I): Promise<pulumi.dynamic.CreateResult> {
      const outs = await k.prove(inputs, true);
      return { id: keyResourceId(k.scopeOf(outs)), outs };
    },

    async read(id: string, props: O): Promise<pulumi.dynamic.ReadResult> {
      const inputs = k.storedInputs(props);
      if (inputs === undefined) {
        throw new KeywireError({
          platform: k.platform,
          operation: `refresh ${k.typeName}`,
          reason: "the state holds no key to verify",
          hint: "Run `pulumi up` so the key is verified and recorded again.",
        });
      }
      const outs = await k.prove(inputs, false);
      return { id: refreshedKeyResourceId(id, outs.fingerprint), props: outs };
    },

    async update(_id: string, _olds: O, news: I): Promise<pulumi.dynamic.UpdateResult> {
      return { outs: await k.prove(news, true) };
    },

    async delete(): Promise<void> {
      // The key is its maker's: keywire never revokes or deletes it. Nothing to do remotely.
    },
  };
}

/**
 * The resource of a provided key: the outputs every one has, and the key kept secret
 * (input and output) whether or not the caller marked it so, with its fingerprint.
 */
export abstract class ProvidedKeyResource<Status extends string> extends ReferencedResource {
  /** Secret. */
  declare readonly fingerprint: pulumi.Output<string>;
  declare readonly verified: pulumi.Output<boolean>;
  declare readonly status: pulumi.Output<Status>;
  declare readonly httpStatus: pulumi.Output<number>;
  declare readonly errorCode: pulumi.Output<string>;
  /** Secret. */
  declare readonly apiKey: pulumi.Output<string>;

  /** `props`: the platform's own inputs, and its own outputs as `undefined`. */
  protected constructor(
    provider: ReferencedProvider,
    name: string,
    apiKey: pulumi.Input<string>,
    props: pulumi.Inputs,
    opts: pulumi.CustomResourceOptions | undefined,
    module: string,
    type: string,
  ) {
    super(
      provider,
      name,
      { fingerprint: undefined, verified: undefined, status: undefined, httpStatus: undefined, errorCode: undefined, ...props, apiKey: pulumi.secret(apiKey) },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["apiKey", "fingerprint"] }),
      module,
      type,
    );
  }
}
