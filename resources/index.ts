/**
 * `keywire`: the components, and what every platform shares.
 *
 *   import { ServiceNowApiKeyAuth, SnsEventIntegration } from "keywire";
 *
 * Each platform's resources have a module of their own: `keywire/servicenow`,
 * `keywire/freshservice`, `keywire/ivanti`, `keywire/aws`.
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
export { SnsEventIntegration, KeyDistribution, type SnsEventIntegrationArgs, type DeliveryPolicySettings, type KeyDistributionArgs } from "./aws";

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
