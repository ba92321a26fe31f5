/**
 * The synthetic CloudWatch alarm that keywire's delivery checks send: the chain
 * verification posts it to the Event Management endpoint directly, the canary
 * publishes it to the stack's SNS topic. Both find it again by its marker.
 *
 * Why it pages nobody: it reports an OK state, which the AWS push connector maps to
 * the Clear severity, under an alarm name nobody else uses. Event Management keys
 * alerts by the event's message key, and a Clear event only closes an open alert
 * with the same key; with none open, no alert is created (docs/delivery.md has the
 * documentation behind each step).
 */
import { randomBytes } from "crypto";
import { q } from "../client/encodedQuery";
import type { SnRecord, TableClient } from "../client/tableClient";

/** Every marker starts with this, so a person (or an event rule) can tell keywire's checks apart. */
const MARKER_PREFIX = "keywire-delivery-check";

export type MarkerKind = "verify" | "canary";

/** A marker no other event carries: the prefix, the kind and 96 random bits. */
export function newMarker(kind: MarkerKind): string {
  return `${MARKER_PREFIX}-${kind}-${randomBytes(12).toString("hex")}`;
}

/** Is `s` a marker `newMarker` could have made? */
export function isMarker(s: string): boolean {
  return /^keywire-delivery-check-(verify|canary)-[0-9a-f]{24}$/.test(s);
}

/** The fields of a CloudWatch alarm notification's `Message`, as SNS delivers it. */
export interface CloudWatchAlarmMessage {
  AlarmName: string;
  AlarmDescription: string;
  AWSAccountId: string;
  NewStateValue: "OK";
  NewStateReason: string;
  StateChangeTime: string;
  Region: string;
  OldStateValue: "INSUFFICIENT_DATA";
  Trigger: {
    MetricName: string;
    Namespace: string;
    Statistic: string;
    Dimensions: Array<{ name: string; value: string }>;
    Period: number;
    EvaluationPeriods: number;
    ComparisonOperator: string;
    Threshold: number;
  };
}

/** A CloudWatch alarm moving to OK: the Clear severity, which raises no alert. */
export function clearAlarm(marker: string, at: Date, where: { region?: string; accountId?: string } = {}): CloudWatchAlarmMessage {
  return {
    AlarmName: marker,
    AlarmDescription: "keywire delivery check: a synthetic OK state change that raises no alert",
    AWSAccountId: where.accountId ?? "000000000000",
    NewStateValue: "OK",
    NewStateReason: `keywire delivery check ${marker}: no action needed`,
    StateChangeTime: at.toISOString().replace("Z", "+0000"),
    Region: where.region ?? "keywire",
    OldStateValue: "INSUFFICIENT_DATA",
    Trigger: {
      MetricName: "KeywireDeliveryCheck",
      Namespace: "keywire",
      Statistic: "MAXIMUM",
      Dimensions: [{ name: "Check", value: marker }],
      Period: 60,
      EvaluationPeriods: 1,
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 1,
    },
  };
}

/** The Notification envelope SNS posts to an HTTP(S) subscriber, for a message published to `topicArn`. */
export function snsNotification(message: string, topicArn: string, at: Date, subject?: string): Record<string, string> {
  return {
    Type: "Notification",
    MessageId: randomUuid(),
    TopicArn: topicArn,
    ...(subject !== undefined ? { Subject: subject } : {}),
    Message: message,
    Timestamp: at.toISOString(),
    SignatureVersion: "2",
    // keywire's direct post is not signed by SNS; no source says the connector checks signatures.
    Signature: "",
    SigningCertURL: "",
    UnsubscribeURL: "",
  };
}

/** The headers SNS sends with a delivery of `body` (sns.md of the AWS developer guide: HTTP/S deliveries). */
export function snsHeaders(body: Record<string, string>): Record<string, string> {
  return {
    "content-type": "text/plain; charset=UTF-8",
    "x-amz-sns-message-type": body.Type,
    "x-amz-sns-message-id": body.MessageId,
    "x-amz-sns-topic-arn": body.TopicArn,
    "user-agent": "Amazon Simple Notification Service Agent",
  };
}

function randomUuid(): string {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The em_event fields a delivery check reads back; `alert` is the alert the event raised or updated, if any. */
const EVENT_FIELDS = ["sys_id", "sys_created_on", "source", "severity", "message_key", "resource", "state", "alert"];

/**
 * The em_event row carrying `marker`, if the instance recorded one. How the AWS
 * connector maps an alarm onto event fields is not documented beyond "the payload lands
 * in additional_info", so every field the marker can reach is searched.
 */
export async function findMarkedEvent(client: TableClient, marker: string): Promise<SnRecord | undefined> {
  if (!isMarker(marker)) throw new Error(`not a keywire delivery-check marker: ${marker.slice(0, 80)}`);
  const rows = await client.list("em_event", {
    query: q().like("additional_info", marker).or().like("message_key", marker).or().eq("resource", marker).or().like("description", marker).build(),
    fields: EVENT_FIELDS,
    limit: 5,
  });
  return rows[0];
}
