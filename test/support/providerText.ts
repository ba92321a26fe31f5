/**
 * What a keywire resource stores of its dynamic provider (`__provider`), and the
 * provider a dynamic-provider process gets from such a text: compiled as a module of
 * its own, as the process does it (the SDK's require-from-string, below with Node's
 * module API), outside jest's module registry, so the revived provider's module is
 * loaded (by the loader, from the checkout) as in a real provider process.
 */
import { Module } from "module";
import * as path from "path";
import { ReferencedProvider, providerText } from "../../resources/core/providerLoading/providerReference";

/**
 * What require-from-string uses of Node's Module and @types/node leaves out. Jest hands
 * a test its own `createRequire` (its registry), but a Module's own `require` is Node's.
 */
type CompilingModule = Module & { _compile(code: string, filename: string): void };
const ModuleStatics = Module as unknown as { _nodeModulePaths(dir: string): string[] };

/** The exports of `code` run as the module `filename`, resolving what it requires from that file's directory. */
function requireFromString(code: string, filename: string): Record<string, unknown> {
  const m = new Module(filename) as CompilingModule;
  m.filename = filename;
  m.paths = ModuleStatics._nodeModulePaths(path.dirname(filename));
  m._compile(code, filename);
  return m.exports as Record<string, unknown>;
}

/** The text a keywire resource stores as `__provider` for `provider`. */
export function storedText(provider: ReferencedProvider): string {
  return providerText(provider.reference);
}

/** The provider a provider process gets from a stored text (any format, old ones included). */
export function revive<T = ReferencedProvider>(text: string): T {
  return (requireFromString(text, path.join(process.cwd(), "__provider.js")).handler as () => T)();
}

export interface RoundTrip<T> {
  text: string;
  provider: T;
}

/** Stores `provider` as a keywire resource does and revives it; the text may require nothing but `module`. */
export function roundTrip<T extends ReferencedProvider>(provider: T): RoundTrip<T> {
  const text = storedText(provider);
  // The text only asks Node to resolve the loader from the program's directory.
  const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  for (const r of required) if (r !== "module") throw new Error(`the provider text requires ${r}`);
  return { text, provider: revive<T>(text) };
}
