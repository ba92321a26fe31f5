/**
 * `keywire canary --stack <stack> [--topic-arn <arn>] [--timeout-seconds N]
 *   [--json <file>] [--markdown <file>] [--summary <file>]` (in keywire's checkout
 * `npm run canary -- …`, which runs the same command).
 *
 * The end-to-end delivery check: publishes one synthetic CloudWatch alarm (state OK,
 * Clear severity) to the stack's SNS topic and waits, bounded, until ServiceNow records
 * it as an em_event (run.ts). SNS counts a 4xx answer from the endpoint as delivered and
 * never retries it, so a revoked key or a foreign access policy loses alarms without a
 * trace anywhere but here.
 *
 * The topic is `--topic-arn` or the stack's `sns.topicArn` output; the ServiceNow
 * connection is the stack's configuration, read through the Pulumi CLI wrapper exactly
 * as `npm run audit` reads it (scripts/pulumi/stackAccess.ts), or SERVICENOW_* variables.
 * Exit codes: exitCodes.ts. Nothing secret is printed: errors go through the shared
 * redaction with every secret this process knows.
 */
import "../../config/requireNode22";
import * as fs from "fs";
import * as path from "path";
import { isKeywireError } from "../../resources/core/errors";
import { redactAndTrim } from "../../resources/core/redact";
import { findMarkedEvent } from "../../resources/servicenow/checks/syntheticAlarm";
import { appendSummary, summaryTarget } from "../chain/stepSummary";
import { StackAccessError, readStackOutputs, serviceNowClient } from "../pulumi/stackAccess";
import { CanaryUsageError, canaryHelp, parseCanaryArgs } from "./args";
import { type Invocation, npmScript } from "../cli/invocation";
import { CANARY_EXIT } from "./exitCodes";
import { AWS_SECRET_ENV, PublishFailure, publishMessage } from "./publish";
import { formatCanaryMarkdown, formatCanaryText, redactCanaryReport } from "./report";
import { CanaryCannotRun, runCanary } from "./run";
import { TopicRef, TopicUnknownError, parseTopicArn, topicFromOutputs } from "./topic";
import { realClock } from "./wait";

/** Every secret this process has seen, for redaction of anything it prints. */
const knownSecrets: string[] = [];

/** Any thrown value as one safe line: known errors by their message, others marked unexpected. */
function safeLine(e: unknown): string {
  const known =
    e instanceof CanaryUsageError ||
    e instanceof CanaryCannotRun ||
    e instanceof StackAccessError ||
    e instanceof TopicUnknownError ||
    e instanceof PublishFailure ||
    isKeywireError(e);
  const text = redactAndTrim(e instanceof Error ? e.message : String(e), knownSecrets, 1000);
  return known ? text : `unexpected failure: ${text}`;
}

function writeOutput(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, text);
}

async function stackTopic(stack: string, given: string | undefined): Promise<TopicRef> {
  if (given !== undefined) {
    const topic = parseTopicArn(given);
    // parseCanaryArgs has checked it already; this keeps the type honest.
    if (!topic) throw new TopicUnknownError(`--topic-arn is not an SNS topic ARN`);
    return topic;
  }
  let outputs: Record<string, unknown>;
  try {
    outputs = await readStackOutputs(stack, knownSecrets);
  } catch (e) {
    throw new TopicUnknownError(`cannot read stack ${stack}'s outputs (${safeLine(e)}); pass --topic-arn <arn> of the topic whose delivery to check`);
  }
  return topicFromOutputs(outputs, stack);
}

async function main(argv: string[], invoke: Invocation): Promise<number> {
  const parsed = parseCanaryArgs(argv, invoke);
  if (parsed.help) {
    process.stdout.write(canaryHelp(invoke));
    return 0;
  }
  const args = parsed.args;
  for (const k of AWS_SECRET_ENV) {
    const v = process.env[k];
    if (v) knownSecrets.push(v);
  }
  const topic = await stackTopic(args.stack, args.topicArn);
  const client = await serviceNowClient({ stack: args.stack, userAgent: "keywire-canary", tool: "canary", secrets: knownSecrets });

  const report = redactCanaryReport(
    await runCanary(
      { stack: args.stack, instance: client.instanceUrl, topic, timeoutSeconds: args.timeoutSeconds, invoke },
      {
        publish: (msg) => publishMessage(topic, msg, { secrets: knownSecrets }),
        find: (marker) => findMarkedEvent(client, marker),
        clock: realClock,
        describe: safeLine,
      },
    ),
    knownSecrets,
  );

  process.stdout.write(formatCanaryText(report));
  try {
    if (args.json) writeOutput(args.json, `${JSON.stringify(report, null, 2)}\n`);
    if (args.markdown) writeOutput(args.markdown, formatCanaryMarkdown(report));
    const summary = summaryTarget(args.summary);
    if (summary) appendSummary(summary, formatCanaryMarkdown(report));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? "unexpected failure";
    // The message was published already, so this is a failed run, not one that could not start.
    process.stderr.write(
      `canary: the report could not be written (${why}); the run's outcome was ${report.outcome}. Check the report paths and run the canary again\n`,
    );
    return CANARY_EXIT.failed;
  }
  if (report.outcome === "not-delivered") {
    process.stderr.write(
      `canary: NOT delivered: SNS accepted MessageId ${report.messageId ?? "-"} and ServiceNow recorded nothing within ${report.timeoutSeconds} s; run ${invoke("drift")} --stack ${args.stack} to find the broken link\n`,
    );
  } else if (report.outcome === "failed") {
    process.stderr.write(`canary: ${report.detail.replace(/\s+/g, " ")}\n`);
  }
  return report.exitCode;
}

/** Runs the canary and sets the exit code; `invoke` names the commands in usage lines and messages. */
export function runCanaryCli(argv: string[], invoke: Invocation = npmScript): void {
  main(argv, invoke).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      // Everything that throws out of main happens before the publish: nothing was sent.
      process.stderr.write(`canary: ${safeLine(e)}\n`);
      process.exitCode = CANARY_EXIT.cannotRun;
    },
  );
}

if (require.main === module) runCanaryCli(process.argv.slice(2));
