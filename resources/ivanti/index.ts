/**
 * `keywire/ivanti`: the verification of an Ivanti Neurons for ITSM REST API key, as a
 * Pulumi resource.
 */
export { IvantiApiKey, verifyIvantiKey, type IvantiApiKeyArgs, type IvantiKeyStatus, type IvantiKeyVerification } from "./apiKey";
export { IvantiError } from "./client";
