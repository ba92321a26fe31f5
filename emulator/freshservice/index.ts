export { startFreshserviceEmulator, keyFromAuthorization } from "./server";
export * from "./types";
