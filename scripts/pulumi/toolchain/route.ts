/**
 * What the toolchain's modules share: the routes by which keywire gets a `pulumi` CLI
 * (docs/toolchain.md), the error that says none of them could, and the bound of a
 * version probe.
 */

/** "path": the team's own CLI; "installer" and "go": a CLI keywire put into its cache. */
export type Route = "path" | "installer" | "go";

/** Thrown when no route can provide the CLI; its message lists why each route failed. */
export class ToolchainError extends Error {
  override readonly name = "ToolchainError";
}

/** A `pulumi version` or `go version` answers at once; this bounds one that hangs. */
export const PROBE_TIMEOUT_MS = 30_000;
