export { keyFromAuthorization } from "./auth";
export { startFreshserviceEmulator } from "./server";
export * from "./types";
