/**
 * What Pulumi stores of a dynamic provider (`__provider`), and the provider a
 * dynamic-provider process revives from it: require-from-string, outside jest's
 * module registry, so the revived provider loads its module from the checkout as
 * in a real provider process.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString: (code: string, filename: string) => Record<string, unknown> = require("require-from-string");

/**
 * The text `pulumi.dynamic.Resource` stores for `provider`. Pulumi itself allows
 * captured secrets (and marks the text secret); `allowSecrets: false` fails instead.
 */
export async function storedText(provider: unknown, opts: { allowSecrets?: boolean } = {}): Promise<{ text: string; containsSecrets: boolean }> {
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: opts.allowSecrets ?? true });
  return { text: sf.text, containsSecrets: sf.containsSecrets };
}

/** The provider a provider process gets from a stored text. */
export function revive<T = pulumi.dynamic.ResourceProvider>(text: string): T {
  return (requireFromString(text, path.join(process.cwd(), "__provider.js")).handler as () => T)();
}

export interface RoundTrip<T> {
  text: string;
  containsSecrets: boolean;
  provider: T;
}

/** Stores `provider` as Pulumi does and revives it; the text may require nothing but `path`. */
export async function roundTrip<T>(provider: T, opts: { allowSecrets?: boolean } = {}): Promise<RoundTrip<T>> {
  const { text, containsSecrets } = await storedText(provider, opts);
  // The stored text names its module and loader; it requires nothing but `path`.
  const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  for (const r of required) if (r !== "path") throw new Error(`the provider text requires ${r}`);
  return { text, containsSecrets, provider: revive<T>(text) };
}
