/**
 * `npm run setup:pulumi [-- --force]`: provides the pulumi CLI at the version of the
 * installed @pulumi/pulumi (see toolchain/ensurePulumi.ts for the routes) and prints where it is.
 * Safe to run any number of times: a current cache is left as it is.
 */
import "../../config/requireNode22";
import { formatDuration } from "../shared/duration";
import { callerDir } from "../shared/paths";
import { ensurePulumi } from "./toolchain/ensurePulumi";
import { ToolchainError } from "./toolchain/route";

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== "--force");
  if (unknown.length > 0) {
    process.stderr.write(`usage: npm run setup:pulumi [-- --force]\nunknown argument: ${unknown.join(" ")}\n`);
    return 2;
  }
  const started = Date.now();
  // ensurePulumi has already named the CLI, its route and environment.
  await ensurePulumi({ force: argv.includes("--force"), cwd: callerDir(process.env) });
  process.stderr.write(`[pulumi-setup] ready in ${formatDuration(Date.now() - started)}; run it with: npm run -s pulumi -- <args>\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A ToolchainError already says what was tried and why each route failed.
    const msg = err instanceof ToolchainError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`[pulumi-setup] ${msg}\n`);
    process.exit(1);
  },
);
