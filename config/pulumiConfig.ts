/**
 * Reads the stack configuration through the Pulumi runtime for loadStackConfig.
 * loadStackConfig asks `get` only for keys that are not secrets, and `has`,
 * `origin` and `length` for the secrets, whose values stay with the engine and
 * reach the providers through `configure`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ENV_FALLBACKS, RawConfig, SettingOrigin } from "./stackConfig";

/** A secret stack setting (`namespace:key`) as a secret output, for the components that take it. */
export function secretSetting(key: string): pulumi.Output<string> {
  const [namespace, name] = key.split(":", 2);
  return new pulumi.Config(namespace).requireSecret(name);
}

/**
 * Whether the stack stores `key` encrypted. The CLI tells the program which keys
 * were set with --secret (PULUMI_CONFIG_SECRET_KEYS); the SDK reads that list
 * through `runtime.isConfigSecret`, which its type declarations leave out
 * (marked internal), so it is looked up here by name. The mocks' setAllConfig
 * fills the same list.
 */
function isConfigSecret(key: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  if (typeof runtime.isConfigSecret === "function") return runtime.isConfigSecret(key);
  const listed: unknown = JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS || "[]");
  return Array.isArray(listed) && listed.includes(key);
}

export function pulumiRawConfig(env: NodeJS.ProcessEnv = process.env): RawConfig {
  const fallback = (key: string): string | undefined => {
    const name = ENV_FALLBACKS[key];
    return name ? env[name] || undefined : undefined;
  };
  const origin = (key: string): SettingOrigin | undefined => {
    if (pulumi.runtime.getConfig(key) !== undefined) return isConfigSecret(key) ? "secret" : "plain";
    return fallback(key) !== undefined ? "environment" : undefined;
  };
  return {
    get: (key) => pulumi.runtime.getConfig(key) ?? fallback(key),
    has: (key) => origin(key) !== undefined,
    // Names only: the values of keys keywire does not know are never read.
    keys: () => Object.keys(pulumi.runtime.allConfig()),
    origin,
    length: (key) => (pulumi.runtime.getConfig(key) ?? fallback(key))?.length,
  };
}
