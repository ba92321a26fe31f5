export { startFreshserviceEmulator } from "./emulator";
export * from "./types";
