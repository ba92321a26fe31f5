/** `keywire canary`'s command line (`npm run canary --` in keywire's checkout): the options, their bounds, and the help text. */
import { parseArgs } from "util";
import { STACK_NAME } from "../pulumi/stackAccess";
import { parseTopicArn } from "./topic";
import { type Invocation, npmScript } from "../cli/invocation";

export const DEFAULT_TIMEOUT_SECONDS = 90;
/** SNS delivers within seconds when the chain works; a wait beyond this proves nothing more. */
export const MAX_TIMEOUT_SECONDS = 900;
export const MIN_TIMEOUT_SECONDS = 1;

export interface CanaryArgs {
  stack: string;
  topicArn?: string;
  timeoutSeconds: number;
  json?: string;
  markdown?: string;
  summary?: string;
}

export type ParsedCommandLine = { help: true } | { help: false; args: CanaryArgs };

/** A command line the canary cannot run with; the message says what to change and is safe to print. */
export class CanaryUsageError extends Error {}

export function canaryUsage(invoke: Invocation = npmScript): string {
  return `usage: ${invoke("canary")} --stack <stack> [--topic-arn <arn>] [--timeout-seconds N] [--json <file>] [--markdown <file>] [--summary <file>]`;
}

export const USAGE = canaryUsage();

export function canaryHelp(invoke: Invocation = npmScript): string {
  return `${canaryUsage(invoke)}

Publishes ONE synthetic CloudWatch alarm (state OK: Clear severity, raises no alert) to
the stack's SNS topic and waits until ServiceNow records it as an em_event, then reports
the end-to-end latency. SNS counts a 4xx answer from the endpoint as delivered and never
retries it, so a revoked key or a foreign access policy loses every alarm silently: only
an end-to-end check like this one sees it.

  --stack <stack>        the stack whose ServiceNow configuration and sns.topicArn output are used
  --topic-arn <arn>      publish to this topic instead of the stack's sns.topicArn output
  --timeout-seconds N    how long to wait for the event (default ${DEFAULT_TIMEOUT_SECONDS}, ${MIN_TIMEOUT_SECONDS} to ${MAX_TIMEOUT_SECONDS})
  --json <file>          write the report as JSON
  --markdown <file>      write the report as Markdown
  --summary <file>       append the Markdown report to this file ($GITHUB_STEP_SUMMARY when not given)
  -h, --help             this text

Permissions it needs, and no more:
  AWS         sns:Publish on that topic only (credentials from the standard chain;
              AWS_ENDPOINT_URL_SNS points the SDK at another SNS endpoint)
  ServiceNow  read access to em_event (the stack's servicenow:* configuration, or
              SERVICENOW_INSTANCE_URL with SERVICENOW_USERNAME/SERVICENOW_PASSWORD or
              SERVICENOW_CLIENT_ID/SERVICENOW_CLIENT_SECRET)

Exit codes: 0 delivered; 7 NOT delivered (SNS accepted the message and ServiceNow recorded
nothing: run ${invoke("drift")} --stack <stack>, which names the broken link); 1 publishing
or reading the result failed; 2 it could not start, and nothing was published.

It leaves one em_event row with Clear severity and a unique message key on the instance,
and no alert; Event Management's own table cleanup removes old events. See docs/canary.md.
`;
}

export const HELP = canaryHelp();

export function parseCanaryArgs(argv: string[], invoke: Invocation = npmScript): ParsedCommandLine {
  const usage = canaryUsage(invoke);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: "string" },
        "topic-arn": { type: "string" },
        "timeout-seconds": { type: "string" },
        json: { type: "string" },
        markdown: { type: "string" },
        summary: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    // Node's own message names the option ("Unknown option '--bogus'"); one line, then the usage.
    // Read `message` without instanceof: the error may come from another realm (a test's VM context).
    const message =
      typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string" ? (e as { message: string }).message : String(e);
    throw new CanaryUsageError(`${message.split("\n")[0]}; ${usage}`);
  }
  if (values.help === true) return { help: true };
  const stack = values.stack;
  if (stack === undefined) throw new CanaryUsageError(`--stack <stack> is required; ${usage}`);
  if (!STACK_NAME.test(stack)) throw new CanaryUsageError(`--stack ${JSON.stringify(stack.slice(0, 80))} is not a stack name; ${usage}`);
  const topicArn = values["topic-arn"];
  if (topicArn !== undefined && !parseTopicArn(topicArn)) {
    throw new CanaryUsageError(`--topic-arn ${JSON.stringify(topicArn.slice(0, 300))} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)`);
  }
  const timeoutText = values["timeout-seconds"] ?? String(DEFAULT_TIMEOUT_SECONDS);
  const timeoutSeconds = /^\d{1,6}$/.test(timeoutText) ? Number(timeoutText) : NaN;
  if (!(timeoutSeconds >= MIN_TIMEOUT_SECONDS && timeoutSeconds <= MAX_TIMEOUT_SECONDS)) {
    throw new CanaryUsageError(
      `--timeout-seconds takes a whole number of seconds from ${MIN_TIMEOUT_SECONDS} to ${MAX_TIMEOUT_SECONDS} (default ${DEFAULT_TIMEOUT_SECONDS})`,
    );
  }
  for (const name of ["json", "markdown", "summary"] as const) {
    if (values[name] === "") throw new CanaryUsageError(`--${name} needs a file name`);
  }
  return {
    help: false,
    args: {
      stack,
      ...(topicArn !== undefined ? { topicArn } : {}),
      timeoutSeconds,
      ...(values.json !== undefined ? { json: values.json } : {}),
      ...(values.markdown !== undefined ? { markdown: values.markdown } : {}),
      ...(values.summary !== undefined ? { summary: values.summary } : {}),
    },
  };
}
