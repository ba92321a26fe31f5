/**
 * Publishing the canary's message with the AWS SDK for JavaScript v3. Credentials come
 * from the SDK's standard chain; the endpoint from the SDK's own configuration
 * (AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL) unless `endpoint` is given. The region is
 * the topic's: a topic can only be published to in its own region.
 *
 * The SDK's errors can carry the request (signed headers, the message) and the raw
 * response: none is rethrown. `publishFailure` rebuilds each into a plain, redacted
 * one-line message.
 */
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { redactAndTrim } from "../../resources/core/redact";
import type { CanaryMessage } from "./message";
import type { TopicRef } from "./topic";

/** One Publish, retries included; SNS answers in well under a second when it is reachable. */
export const PUBLISH_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Only names of this shape are kept: they are the SDK's error class names, never data. */
const NAME_SHAPE = /^[A-Za-z][A-Za-z0-9_]{1,80}$/;

/** The AWS environment variables whose values are credentials. */
export const AWS_SECRET_ENV = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"] as const;

export interface PublishOptions {
  /** An SNS endpoint other than the SDK's choice (a local SNS service). */
  endpoint?: string;
  /** Credentials other than the standard chain's (a process whose environment is not the publisher's). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  timeoutMs?: number;
  /** Every secret this process knows, for redaction of the error message. */
  secrets: readonly string[];
}

/** A publish that failed; `message` is one plain, redacted line with what to do. */
export class PublishFailure extends Error {
  constructor(
    message: string,
    /** False when SNS refused the message; true when it may have been accepted without the answer arriving. */
    readonly outcomeUnknown: boolean,
  ) {
    super(message);
  }
}

/** Publishes the message; resolves to the MessageId SNS gave it. */
export async function publishMessage(topic: TopicRef, msg: CanaryMessage, o: PublishOptions): Promise<string> {
  const client = new SNSClient({
    region: topic.region,
    ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
    ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
  });
  const timeoutMs = o.timeoutMs ?? PUBLISH_TIMEOUT_MS;
  try {
    const out = await client.send(new PublishCommand({ TopicArn: topic.arn, Message: msg.message, Subject: msg.subject }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
    if (typeof out.MessageId !== "string" || out.MessageId === "") {
      throw new PublishFailure(`SNS answered the publish to ${topic.arn} without a MessageId; whether it accepted the message is unknown`, true);
    }
    return out.MessageId;
  } catch (e) {
    if (e instanceof PublishFailure) throw e;
    throw publishFailure(e, topic.arn, timeoutMs, o.secrets);
  } finally {
    client.destroy();
  }
}

type Loose = Record<string, unknown>;

/**
 * A SigV4 signature and session token, which the shared redaction does not know by name:
 * a signed request can be replayed while it is fresh.
 */
function withoutSigV4(text: string): string {
  return text
    .replace(/((?:X-Amz-)?Signature=)[0-9a-f]{16,}/gi, "$1[REDACTED]")
    .replace(/((?:X-Amz-Security-Token|x-amz-security-token)[=:]\s*)[^\s&,;]+/g, "$1[REDACTED]");
}

function field(e: unknown, name: string): unknown {
  return typeof e === "object" && e !== null ? (e as Loose)[name] : undefined;
}

/**
 * A thrown SDK error as a plain PublishFailure: the error's class name, the HTTP status,
 * a network code and its message (redacted, cut), with a hint for the usual causes.
 * Nothing else of the error is kept.
 */
export function publishFailure(e: unknown, topicArn: string, timeoutMs: number, secrets: readonly string[]): PublishFailure {
  const rawName = field(e, "name");
  const name = typeof rawName === "string" && NAME_SHAPE.test(rawName) ? rawName : "Error";
  const meta = field(e, "$metadata");
  const status = typeof field(meta, "httpStatusCode") === "number" ? (field(meta, "httpStatusCode") as number) : undefined;
  const rawCode = field(e, "code");
  const code = typeof rawCode === "string" && /^[A-Z][A-Z0-9_]{1,40}$/.test(rawCode) ? rawCode : undefined;
  const rawMessage = field(e, "message");
  const text = redactAndTrim(withoutSigV4(typeof rawMessage === "string" ? rawMessage : String(e)), secrets, 240);
  const what = `${name}${status !== undefined ? ` (HTTP ${status})` : ""}${code !== undefined ? ` (${code})` : ""}: ${text}`;

  if (name === "CredentialsProviderError") {
    return new PublishFailure(
      `no AWS credentials to publish with (${what}); give the standard chain some (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a role assumed through OIDC in CI) that may sns:Publish to ${topicArn}`,
      false,
    );
  }
  if (name === "AbortError" || name === "TimeoutError" || code === "ETIMEDOUT" || code === "ECONNRESET") {
    return new PublishFailure(
      `SNS did not answer the publish to ${topicArn} within ${timeoutMs / 1000} s (${what}); whether it accepted the message is unknown. Check the network path to SNS and run the canary again`,
      true,
    );
  }
  if (status === undefined) {
    // No answer at all: the connection failed before a request reached SNS.
    return new PublishFailure(
      `could not reach SNS to publish to ${topicArn} (${what}); check the network path to SNS (or AWS_ENDPOINT_URL_SNS) and run the canary again`,
      false,
    );
  }
  if (/AuthorizationError|AccessDenied|InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken|UnrecognizedClient/.test(name) || status === 403) {
    return new PublishFailure(
      `SNS refused the publish to ${topicArn} (${what}); the credentials need sns:Publish on that topic ARN (docs/canary.md has the policy)`,
      false,
    );
  }
  if (/NotFound/.test(name) || status === 404) {
    return new PublishFailure(`SNS has no topic ${topicArn} (${what}); check --topic-arn or the stack's sns.topicArn output, and the region in it`, false);
  }
  return new PublishFailure(`SNS refused the publish to ${topicArn} (${what})`, status >= 500);
}
