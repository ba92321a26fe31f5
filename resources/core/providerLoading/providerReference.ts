/**
 * Dynamic providers stored by reference.
 *
 * Pulumi stores a dynamic resource's provider with the resource, in its inputs and
 * again in its outputs (`__provider`), as a module whose `handler` returns the
 * provider. `pulumi.dynamic.Resource` serializes the provider's code into it: the
 * engine code is ~150 KB, a file or bucket backend rewrites the whole state after
 * every step, and serializing costs seconds on every program run. keywire's
 * resources store a few lines instead (ReferencedResource below), ~170 bytes:
 *
 *   exports.handler=()=>require("module").createRequire(process.cwd()+"/")("keywire/loadProvider")({"m":"keywire/servicenow","e":"apiKeyProvider"});
 *
 * The dynamic-provider process runs it in the Pulumi program's directory (Pulumi
 * starts the program and the provider process there), so `keywire/loadProvider`
 * resolves as an import of keywire in the program would: the package the program
 * installed, or in keywire's own checkout the checkout itself (a package may import
 * itself by name through its `exports`). The loader (loadProvider.js) requires the
 * public module the reference names and returns the export; a provider plugin runs
 * its installed code the same way. A newer keywire therefore refreshes and destroys
 * what an older one deployed, and every version must read the state its
 * predecessors wrote. States name `keywire/loadProvider` and each provider's public
 * module and export: those stay exported.
 *
 * In the program (and in unit tests) nothing is loaded: the provider object is the
 * module's own.
 */
import * as pulumi from "@pulumi/pulumi";

/** A dynamic provider with its type's name, for messages. */
export type NamedProvider = pulumi.dynamic.ResourceProvider & { typeName: string };

/** keywire's public modules: what the package exports, and what a reference may name. */
export type PublicModule = "keywire" | "keywire/servicenow" | "keywire/freshservice" | "keywire/ivanti" | "keywire/aws";

/** Where a provider's code lives. Plain strings only, short keys: this is what the state stores. */
export interface ProviderReference {
  /** The public module that exports the provider. */
  readonly m: PublicModule;
  /** The export holding the provider, or a function that returns it for `a`. */
  readonly e: string;
  readonly a?: readonly string[];
}

/** Every method present (as the SDK would behave without it), plus where the provider lives. */
export type ReferencedProvider = Required<pulumi.dynamic.ResourceProvider> & {
  readonly typeName: string;
  readonly reference: ProviderReference;
};

/** The module the stored text asks for the loader; states name it, so the package keeps exporting it. */
const LOADER_MODULE = "keywire/loadProvider";

/** The reference to the provider that `module` exports as `exportName` (called with `args` if it is a function). */
export function providerReference(module: PublicModule, exportName: string, args?: string[]): ProviderReference {
  return Object.freeze({ m: module, e: exportName, ...(args && args.length > 0 ? { a: Object.freeze([...args]) } : {}) });
}

/** `real`, complete, stored in the state as `reference`. */
export function referencedProvider(real: NamedProvider, reference: ProviderReference): ReferencedProvider {
  return { typeName: real.typeName, reference, ...complete(real) };
}

/** What a resource stores as `__provider` for a provider at `reference`. */
export function providerText(reference: ProviderReference): string {
  const load = `require("module").createRequire(process.cwd()+"/")(${JSON.stringify(LOADER_MODULE)})`;
  return `exports.handler=()=>${load}(${JSON.stringify(reference)});\n`;
}

/**
 * A dynamic resource whose provider the state stores by reference: what
 * `pulumi.dynamic.Resource` does (the same type token, the same `__provider`
 * property the dynamic-provider plugin reads), with the reference's text in place
 * of the provider's serialized code.
 */
export abstract class ReferencedResource extends pulumi.CustomResource {
  constructor(provider: ReferencedProvider, name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions | undefined, module: string, type: string) {
    if ("__provider" in props) throw new Error(`${type} ${name}: a dynamic resource must not define the __provider key`);
    super(`pulumi-nodejs:dynamic/${module}:${type}`, name, { ...props, __provider: providerText(provider.reference) }, opts);
  }
}

/** Every method, doing what the SDK does where the provider has none. */
function complete(p: pulumi.dynamic.ResourceProvider): Required<pulumi.dynamic.ResourceProvider> {
  return {
    configure: async (req) => p.configure?.(req),
    check: async (olds, news) => (p.check ? p.check(olds, news) : { inputs: news }),
    diff: async (id, olds, news) => (p.diff ? p.diff(id, olds, news) : {}),
    create: async (inputs) => p.create(inputs),
    read: async (id, props) => (p.read ? p.read(id, props) : { id, props }),
    update: async (id, olds, news) => (p.update ? p.update(id, olds, news) : {}),
    delete: async (id, props) => p.delete?.(id, props),
  };
}
