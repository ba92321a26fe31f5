/**
 * `npm run drift`'s exit codes: a contract with CI. The drift workflow
 * (.github/workflows/drift.yml) turns them into three outcomes — clean (close the
 * stack's drift issue), drift (open or update it) and error (change nothing) — and
 * docs/drift.md ("Exit codes") documents them.
 *
 * Drift keeps 7, the Pulumi CLI's own code for `--expect-no-changes` finding changes:
 * nothing else in the chain exits 7 (Node exits 1 on an uncaught error, npm passes the
 * script's code on), whereas 1 and 2 are also the CLI's "generic" and "configuration"
 * errors and so could not tell drift apart from a failed check.
 */

/** The Pulumi CLI's exit code when `--expect-no-changes` finds changes (pkg/cmd/pulumi exit_codes.go: ExitNoChanges). */
export const PULUMI_CHANGES_FOUND = 7;

export const DRIFT_EXIT = {
  /** The stack matches the program: nothing to do. */
  clean: 0,
  /** `pulumi up --refresh` would change something. */
  drift: PULUMI_CHANGES_FOUND,
  /** The preview ended but printed no JSON. */
  failed: 1,
  /** The check could not start or finish: bad arguments, no Pulumi CLI, a report file that cannot be written. */
  cannotRun: 2,
} as const;

export type DriftOutcome = "clean" | "drift" | "error";

/**
 * The CLI's exit code once `pulumi preview --expect-no-changes --json` has ended.
 * `parsed` says whether its stdout was the JSON preview. A failing preview keeps the
 * CLI's own code (3 authentication, 6 stack not found, …): it tells the operator
 * what failed and is never 0 or 7 here.
 */
export function driftExitCode(pulumiCode: number, parsed: boolean): number {
  if (pulumiCode !== 0 && pulumiCode !== PULUMI_CHANGES_FOUND) return pulumiCode;
  if (!parsed) return DRIFT_EXIT.failed;
  // The engine's verdict decides, not the report: the report leaves out changes
  // nobody acts on (the stack's own outputs), and those still fail the check.
  return pulumiCode === PULUMI_CHANGES_FOUND ? DRIFT_EXIT.drift : DRIFT_EXIT.clean;
}

/** What an exit code of `npm run drift` means; the drift workflow maps codes the same way. */
export function driftOutcome(exitCode: number): DriftOutcome {
  if (exitCode === DRIFT_EXIT.clean) return "clean";
  if (exitCode === DRIFT_EXIT.drift) return "drift";
  return "error";
}
