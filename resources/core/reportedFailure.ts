/**
 * Failing a Pulumi run from the program once the reason is known only after the
 * deployment has moved on (a check whose result arrives with its resource's outputs).
 *
 * An error thrown then reaches the SDK after the program function has returned, and the
 * SDK prints it with a JavaScript stack under the stack resource. Instead the reason is
 * logged once, under the resource it is about, and the process ends with the SDK's own
 * code for "failed, and the reason was already reported" (`@pulumi/pulumi/cmd/run`:
 * nodeJSProcessExitedAfterLoggingUserActionableMessage), which the language host turns
 * into a failed run without a message of its own. Outputs registered before the end,
 * such as the stack's, are still kept by the engine.
 */
import * as pulumi from "@pulumi/pulumi";

/** The SDK's exit code for a program that failed after reporting why. */
const REPORTED_FAILURE_EXIT_CODE = 32;

export function failRunWithReportedError(message: string, resource: pulumi.Resource): void {
  pulumi.log.error(message, resource);
  process.exitCode = REPORTED_FAILURE_EXIT_CODE;
}
