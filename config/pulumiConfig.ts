/**
 * Reads the stack configuration through the Pulumi runtime for loadStackConfig.
 * loadStackConfig asks `get` only for keys that are not secrets and `has` for the
 * secrets, whose values stay with the engine and reach the providers through
 * `configure`.
 */
import * as pulumi from "@pulumi/pulumi";
import { RawConfig } from "./stackConfig";

export function pulumiRawConfig(): RawConfig {
  return {
    get: (key) => pulumi.runtime.getConfig(key),
    has: (key) => pulumi.runtime.getConfig(key) !== undefined,
  };
}
