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
export {
  FreshserviceAgent,
  type FreshserviceAgentArgs,
  type AgentRoleInput,
  type AgentOnDestroy,
  type AssignmentScope,
  type ResolvedRole,
} from "./agent";
export { FreshserviceError } from "./client";
