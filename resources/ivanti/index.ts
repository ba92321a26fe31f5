/**
 * `keywire/ivanti`: the verification of an Ivanti Neurons for ITSM REST API key, as a
 * Pulumi resource.
 */
export { IvantiApiKey, verifyIvantiKey, type IvantiApiKeyArgs, type IvantiKeyStatus, type IvantiKeyVerification } from "./apiKey";
export { IvantiError } from "./client";

// The dynamic provider, under the name the states of every stack refer to it by
// (core/providerLoading/providerReference.ts): renaming or dropping it breaks refresh and destroy.
export { ivantiApiKeyProvider } from "./apiKey";
