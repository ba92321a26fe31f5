/**
 * `keywire/freshservice`: a Freshservice agent and the verification of its API key,
 * as Pulumi resources.
 */
export {
  FreshserviceApiKey,
  verifyFreshserviceKey,
  type FreshserviceApiKeyArgs,
  type FreshserviceKeyStatus,
  type FreshserviceKeyVerification,
  type VerificationProbe,
} from "./apiKey";
export { FreshserviceAgent, type FreshserviceAgentArgs, type AgentRoleInput, type AgentOnDestroy, type AssignmentScope, type ResolvedRole } from "./agent";
export { FreshserviceError } from "./client";

// The dynamic providers, under the names the states of every stack refer to them by
// (core/providerLoading/providerReference.ts): renaming or dropping one breaks refresh and destroy.
export { freshserviceApiKeyProvider } from "./apiKey";
export { freshserviceAgentProvider } from "./agent";
