/**
 * Reads the stack configuration through the Pulumi runtime for loadStackConfig.
 * loadStackConfig asks `get` only for keys that are not secrets and `has` for the
 * secrets, whose values stay with the engine and reach the providers through
 * `configure`.
 */
import * as pulumi from "@pulumi/pulumi";
import { RawConfig } from "./stackConfig";

/** The environment variables the providers fall back to, by config key. */
const ENV_FALLBACKS: Record<string, string> = {
  "servicenow:instanceUrl": "SERVICENOW_INSTANCE_URL",
  "servicenow:username": "SERVICENOW_USERNAME",
  "servicenow:password": "SERVICENOW_PASSWORD",
  "servicenow:clientId": "SERVICENOW_CLIENT_ID",
  "servicenow:clientSecret": "SERVICENOW_CLIENT_SECRET",
};

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
