/**
 * Kept while modules still import providers stored by reference from here: the code
 * lives in providerLoading/providerReference.ts, beside the loader.
 */
export * from "./providerLoading/providerReference";
