export { startIvantiEmulator } from "./emulator";
export * from "./types";
