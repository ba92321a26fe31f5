export { startIvantiEmulator } from "./server";
export * from "./types";
