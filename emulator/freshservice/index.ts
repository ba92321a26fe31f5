export { keyFromAuthorization } from "./auth";
export { startFreshserviceEmulator } from "./emulator";
export * from "./types";
