/** Closure-serialization round trip, as Pulumi stores and reloads a dynamic provider. */
import * as pulumi from "@pulumi/pulumi";

export interface RoundTrip<T> {
  text: string;
  containsSecrets: boolean;
  provider: T;
}

/**
 * Serializes `() => provider` the way `pulumi.dynamic.Resource` does, then loads the text
 * as a module (the dynamic-provider host loads it with require-from-string) and calls
 * its exported factory.
 */
export async function roundTrip<T>(provider: T): Promise<RoundTrip<T>> {
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  // Same shape as Node's module wrapper; `require` resolves packages from this project.
  const load = new Function("exports", "require", "module", sf.text) as (e: unknown, r: NodeRequire, m: unknown) => void;
  load(mod.exports, require, mod);
  // Only packages are required by name; the SDK itself is never captured.
  const required = [...sf.text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  for (const r of required) if (!["axios", "zod", "crypto"].includes(r)) throw new Error(`the provider text requires ${r}`);
  const factory = mod.exports[sf.exportName] as () => T;
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
