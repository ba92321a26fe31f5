/**
 * `keywire`: the ServiceNow component, and what every platform shares.
 *
 *   import { ServiceNowApiKeyAuth } from "keywire";
 *
 * Each platform's resources have a module of their own: `keywire/servicenow`,
 * `keywire/freshservice`, `keywire/ivanti`, `keywire/aws`. The AWS side
 * (`SnsEventIntegration`, `KeyDistribution`) is only in `keywire/aws`, since it needs
 * @pulumi/aws: an optional peer dependency, which a program without AWS resources
 * does not install (Pulumi asks for the plugin of every provider package installed).
 */
export {
  ServiceNowApiKeyAuth,
  inboundEventEndpoint,
  inboundEventUrl,
  type ServiceNowApiKeyAuthArgs,
  type PolicyMode,
  type KeySettings,
  type ConnectionArgs,
  type ChainAdoption,
} from "./servicenow";

export {
  KeywireError,
  KeywireConfigError,
  KeywireHttpError,
  isKeywireError,
  isKeywireHttpError,
  type KeywireErrorJSON,
  type KeywireHttpErrorJSON,
  type HttpFailureKind,
} from "./core/errors";
export { inputErrorMap, nearest } from "./core/inputMessages";
export type { ProvidedKeyResource } from "./core/providedKey";
