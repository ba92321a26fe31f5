/**
 * `keywire/servicenow`: ServiceNow REST API-key authentication as Pulumi resources.
 *
 * The component that builds the whole chain (`ServiceNowApiKeyAuth`, also exported
 * from `keywire`), each record resource on its own, the checks, and what a program
 * needs to validate its settings the way the resources will (the key settings'
 * schema, the rotation rule, the config keys the providers read and the lengths
 * they accept).
 */
export { ServiceNowApiKeyAuth, SHIPPED_BASIC_PROFILE, type ServiceNowApiKeyAuthArgs, type PolicyMode } from "./components/serviceNowApiKeyAuth";
export { inboundEventEndpoint, inboundEventUrl, INBOUND_EVENT_PATH } from "./components/eventEndpoint";
export { chainAdoptionSchema, adoptSettingSchema, chainAdoptionOf, adoptsAny, type ChainAdoption, type AdoptSetting } from "./components/chainAdoption";

export { ApiKey, type ApiKeyArgs } from "./apiKey/apiKey";
export { apiKeyInputSchema, keySettingsSchema, type ApiKeyInputs, type KeySettings } from "./apiKey/inputs";
export { rotationSchema, rotationProblems, type RotationSettings, type RotatedKey, type RotationProblem } from "./apiKey/rotation";
export { tableProbe, DEFAULT_PROBE, type ProbeSettings } from "./apiKey/probe";
export { DEFAULT_TOKEN_CONFIG_KEY } from "./apiKey/tokenPlan";
export { TOKEN_STRATEGIES, type TokenStrategy, type TokenSource } from "./apiKey/tokenStrategies";

export { AccessPolicy, TABLE_API_PATH, EVENT_MANAGEMENT_API_PATH, SHIPPED_TABLE_POLICIES, type AccessPolicyArgs } from "./records/accessPolicy";
export { AccessPolicyProfileLink, type AccessPolicyProfileLinkArgs } from "./records/accessPolicyProfileLink";
export { BasicAuthProfile, type BasicAuthProfileArgs } from "./records/basicAuthProfile";
export { InboundProfile, API_KEY_PARAMETER, type InboundProfileArgs, type KeyLocation } from "./records/inboundProfile";
export { PushConnector, type PushConnectorArgs } from "./records/pushConnector";
export { RateLimitRule, DEFAULT_RATE_LIMIT_COLUMN, DEFAULT_REQUESTS_PER_HOUR, type RateLimitRuleArgs } from "./records/rateLimitRule";
export { ServiceNowUser, type ServiceNowUserArgs } from "./records/user";
export { UserRoleGrant, type UserRoleGrantArgs } from "./records/userRoleGrant";
export type { AdoptionInputs } from "./engine/spec";
export { oneLine, queryValue, recordName, recordDescription, NAME_MAX, DESCRIPTION_MAX, TEXT_MAX } from "./engine/inputRules";

export { Preflight, TOKEN_AUTH_PLUGIN, SECURITY_TABLES, type PreflightArgs } from "./checks/preflight";
export { ApiKeyVerification, type ApiKeyVerificationArgs } from "./checks/apiKeyVerification";

export { CONFIG_KEYS, ENV_KEYS, normalizeInstanceUrl, type ConnectionArgs } from "./client/connection";
export { SETTING_MAX, CONFIG_VALUE_MAX, configValueMax, configValueTooLong } from "../core/textRules";
export { ServiceNowError } from "./client/platform";

// The dynamic providers, under the names the states of every stack refer to them by
// (core/providerLoading/providerReference.ts): renaming or dropping one breaks refresh and destroy.
export { apiKeyProvider } from "./apiKey/apiKey";
export { accessPolicyProvider } from "./records/accessPolicy";
export { accessPolicyProfileLinkProvider } from "./records/accessPolicyProfileLink";
export { basicAuthProfileProvider } from "./records/basicAuthProfile";
export { inboundProfileProvider } from "./records/inboundProfile";
export { pushConnectorProvider } from "./records/pushConnector";
export { rateLimitRuleProvider } from "./records/rateLimitRule";
export { serviceNowUserProvider } from "./records/user";
export { userRoleGrantProvider } from "./records/userRoleGrant";
export { preflightProvider } from "./checks/preflight";
export { apiKeyVerificationProvider } from "./checks/apiKeyVerification";
export { keyLeftoversProvider } from "./apiKey/keyLeftovers";
export { policyHandoverProvider } from "./components/policyHandover";
