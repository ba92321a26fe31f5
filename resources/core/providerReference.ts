/**
 * Dynamic providers stored by reference.
 *
 * Pulumi stores a dynamic provider's serialized code with every resource, in its
 * inputs and again in its outputs, and a file or bucket backend rewrites the whole
 * state after every step: the code's size costs time quadratic in the number of
 * resources, and serializing it costs seconds on every program run. A referenced
 * provider stores only where its code lives (a module, relative to the Pulumi
 * program's directory, and the export holding the provider), about 3 KB, and the
 * provider process loads that module from the checkout (loadProvider.js), as a
 * provider plugin runs its installed code. A newer keywire therefore refreshes and destroys what an older
 * one deployed, and every version must read the state its predecessors wrote.
 *
 * In the program (and in unit tests) a referenced provider calls the live provider
 * directly; only a deserialized one loads the module.
 */
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";

export type NamedProvider = pulumi.dynamic.ResourceProvider & { typeName: string };

/** Where a provider's code lives. Plain strings only: this is what the state stores. */
export interface ProviderHome {
  /** The module's file, relative to the Pulumi program's directory, with `/` separators. */
  module: string;
  /** The export holding the provider, or a function that returns it for `args`. */
  exportName: string;
  args?: string[];
}

/**
 * Where each reference's live provider is kept: a WeakMap on a global slot, filled
 * when a module defines its provider (in the program, and in the provider process
 * when loadProvider.js requires the module). Named, not captured: loadProvider.js
 * reads the same slot.
 */
const LIVE_PROVIDERS = "keywire.liveProviders";

/**
 * The home of a provider exported by the module at `filename` (pass `__filename`).
 * Relative to the working directory, which Pulumi sets to the program's directory
 * for the program and for the provider process alike.
 */
export function providerHome(filename: string, exportName: string, args?: string[]): ProviderHome {
  const module = path.relative(process.cwd(), filename).split(path.sep).join("/");
  return { module, exportName, ...(args && args.length > 0 ? { args } : {}) };
}

type CompleteProvider = Required<pulumi.dynamic.ResourceProvider>;
type LiveProviders = WeakMap<object, CompleteProvider>;

/** The loader a provider process runs (plain JavaScript, next to this file). */
const LOADER = path.join(__dirname, "loadProvider.js");

/** A provider that Pulumi stores as a reference to `home`, running `real` in the program. */
export function referencedProvider(real: NamedProvider, home: ProviderHome): NamedProvider {
  const ref = {
    loader: path.relative(process.cwd(), LOADER).split(path.sep).join("/"),
    module: home.module,
    exportName: home.exportName,
    ...(home.args ? { args: [...home.args] } : {}),
  };
  const loaded: { provider?: CompleteProvider } = {};
  // `load`, `ref` and the methods below are what the state stores: keep them this small.
  const load = (): CompleteProvider =>
    (globalThis as Record<symbol, LiveProviders | undefined>)[Symbol.for(LIVE_PROVIDERS)]?.get(shim) ??
    (loaded.provider ??= (require(require("path").resolve(process.cwd(), ref.loader)) as (r: typeof ref) => CompleteProvider)(ref));
  const shim: NamedProvider = {
    typeName: real.typeName,
    configure: async (req) => load().configure(req),
    check: async (olds, news) => load().check(olds, news),
    diff: async (id, olds, news) => load().diff(id, olds, news),
    create: async (inputs) => load().create(inputs),
    read: async (id, props) => load().read(id, props),
    update: async (id, olds, news) => load().update(id, olds, news),
    delete: async (id, props) => load().delete(id, props),
  };
  const g = globalThis as Record<symbol, LiveProviders | undefined>;
  (g[Symbol.for(LIVE_PROVIDERS)] ??= new WeakMap()).set(shim, complete(real));
  return shim;
}

/** Every method, doing what the SDK does where the provider has none. */
function complete(p: pulumi.dynamic.ResourceProvider): CompleteProvider {
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
