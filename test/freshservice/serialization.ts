/** Closure-serialization round trip, as Pulumi stores and reloads a dynamic provider. */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString: (code: string, filename: string) => Record<string, unknown> = require("require-from-string");

export interface RoundTrip<T> {
  text: string;
  containsSecrets: boolean;
  provider: T;
}

/**
 * Serializes `() => provider` the way `pulumi.dynamic.Resource` does, then loads the text
 * as the dynamic-provider host does (require-from-string, outside jest's module
 * registry) and calls its exported factory: the provider it returns loads its module
 * from the checkout, as in a provider process.
 */
export async function roundTrip<T>(provider: T): Promise<RoundTrip<T>> {
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  // The stored text names its module and loader; it requires nothing but `path`.
  const required = [...sf.text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  for (const r of required) if (r !== "path") throw new Error(`the provider text requires ${r}`);
  const exported = requireFromString(sf.text, path.join(process.cwd(), "__provider.js"));
  const factory = exported[sf.exportName] as () => T;
  return { text: sf.text, containsSecrets: sf.containsSecrets, provider: factory() };
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error & { hint?: string; retryable?: boolean; attempts?: number; status?: number }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the promise to reject");
}
