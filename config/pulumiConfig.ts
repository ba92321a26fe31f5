/**
 * Reads the stack configuration through the Pulumi runtime for loadStackConfig.
 * loadStackConfig asks `get` only for keys that are not secrets and `has` for the
 * secrets, whose values stay with the engine and reach the providers through
 * `configure`.
 */
import * as pulumi from "@pulumi/pulumi";
import { RawConfig } from "./stackConfig";
import { CONFIG_KEYS, ENV_KEYS } from "../resources/servicenow/client/connection";

/** The environment variables the providers fall back to, by config key (connection.ts's own pairs). */
const ENV_FALLBACKS: Record<string, string> = Object.fromEntries(
  (Object.keys(ENV_KEYS) as Array<keyof typeof ENV_KEYS>).map((k) => [CONFIG_KEYS[k], ENV_KEYS[k]]),
);

/** A secret stack setting (`namespace:key`) as a secret output, for the components that take it. */
export function secretSetting(key: string): pulumi.Output<string> {
  const [namespace, name] = key.split(":", 2);
  return new pulumi.Config(namespace).requireSecret(name);
}

export function pulumiRawConfig(env: NodeJS.ProcessEnv = process.env): RawConfig {
  const fallback = (key: string): string | undefined => {
    const name = ENV_FALLBACKS[key];
    return name ? env[name] || undefined : undefined;
  };
  return {
    get: (key) => pulumi.runtime.getConfig(key) ?? fallback(key),
    has: (key) => pulumi.runtime.getConfig(key) !== undefined || fallback(key) !== undefined,
    // Names only: the values of keys keywire does not know are never read.
    keys: () => Object.keys(pulumi.runtime.allConfig()),
  };
}
