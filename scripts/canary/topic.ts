/**
 * Which SNS topic the canary publishes to: `--topic-arn`, or the stack's `sns.topicArn`
 * output (index.ts exports `sns` as `{ topicArn, subscriptionArn }`, or
 * `{ enabled: false }` on a stack without AWS).
 */

export interface TopicRef {
  arn: string;
  partition: string;
  region: string;
  accountId: string;
  name: string;
}

/**
 * A standard topic's ARN. FIFO topics are left out: SNS delivers them to SQS only, never
 * to an HTTPS endpoint such as ServiceNow's. The account is not held to AWS's twelve
 * digits, so local SNS services with their own account names can be checked too.
 */
const TOPIC_ARN = /^arn:(aws[a-z-]*):sns:([a-z0-9-]{1,40}):([A-Za-z0-9_-]{1,64}):([A-Za-z0-9_-]{1,256})$/;

export function parseTopicArn(arn: string): TopicRef | undefined {
  const m = TOPIC_ARN.exec(arn);
  if (!m) return undefined;
  return { arn, partition: m[1], region: m[2], accountId: m[3], name: m[4] };
}

/** The stack's topic could not be determined; the message (one line) says what to pass instead. */
export class TopicUnknownError extends Error {}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The topic ARN in a stack's outputs (`pulumi stack output --json`), or why there is none. */
export function topicFromOutputs(outputs: Record<string, unknown>, stack: string): TopicRef {
  const sns = outputs.sns;
  const pass = "pass --topic-arn <arn> of the topic whose delivery to check";
  if (isRecord(sns) && sns.enabled === false) {
    throw new TopicUnknownError(`stack ${stack} has no SNS topic (keywire:sns.enabled is false, its sns output is { enabled: false }); ${pass}`);
  }
  const arn = isRecord(sns) ? sns.topicArn : undefined;
  if (typeof arn !== "string" || arn === "") {
    throw new TopicUnknownError(`stack ${stack} has no sns.topicArn output (is it deployed? run pulumi up first); or ${pass}`);
  }
  const topic = parseTopicArn(arn);
  if (!topic) throw new TopicUnknownError(`stack ${stack}'s sns.topicArn output is not an SNS topic ARN; ${pass}`);
  return topic;
}
