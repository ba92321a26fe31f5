/**
 * One canary run: check that em_event can be read, publish one synthetic alarm, wait
 * for its event, and say what happened. SNS and ServiceNow are reached through the
 * functions in `CanaryDeps`, so the decisions here are the same whatever serves them.
 */
import { isMarker, newMarker } from "../../resources/servicenow/checks/syntheticAlarm";
import type { SnRecord } from "../../resources/servicenow/client/tableClient";
import type { Invocation } from "../cli/invocation";
import { CanaryOutcome, canaryExitCode } from "./exitCodes";
import { CanaryMessage, canaryMessage } from "./message";
import { PublishFailure } from "./publish";
import { CanaryEvent, CanaryReport, EVENT_LEFT } from "./report";
import type { TopicRef } from "./topic";
import { WaitClock, waitForEvent } from "./wait";

export interface CanaryRun {
  stack: string;
  /** The instance's URL, for the report. */
  instance: string;
  topic: TopicRef;
  timeoutSeconds: number;
  /** How the person typed keywire's commands, so the report's next step is one they can run where they are. */
  invoke: Invocation;
}

export interface CanaryDeps {
  /** Publishes the message; resolves to SNS's MessageId, rejects with a PublishFailure. */
  publish(msg: CanaryMessage): Promise<string>;
  /** The em_event row carrying the marker, if there is one. */
  find(marker: string): Promise<SnRecord | undefined>;
  clock: WaitClock;
  /** A failure of `find` as one safe line (redacted). */
  describe(e: unknown): string;
  marker?: () => string;
}

/** The canary could not start; nothing was published. The message is one safe line. */
export class CanaryCannotRun extends Error {}

/** `YYYY-MM-DD HH:MM:SS` (UTC, as the Table API returns it) in milliseconds, or undefined. */
export function glideTimeMs(value: string | undefined): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(value ?? "");
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isNaN(ms) ? undefined : ms;
}

function eventOf(row: SnRecord): CanaryEvent {
  const created = glideTimeMs(row.sys_created_on);
  return {
    sysId: row.sys_id ?? "",
    createdOn: created === undefined ? null : new Date(created).toISOString(),
    severity: row.severity ?? "",
    messageKey: row.message_key ?? "",
    state: row.state ?? "",
  };
}

export async function runCanary(run: CanaryRun, deps: CanaryDeps): Promise<CanaryReport> {
  const marker = (deps.marker ?? (() => newMarker("canary")))();
  if (!isMarker(marker)) throw new CanaryCannotRun(`not a canary marker: ${marker.slice(0, 80)}`);

  // Read before publishing: a canary that cannot read em_event would report every
  // delivery as lost, and would leave an event behind for nothing.
  let before: SnRecord | undefined;
  try {
    before = await deps.find(marker);
  } catch (e) {
    throw new CanaryCannotRun(`cannot read em_event on ${run.instance} (${deps.describe(e)}); the canary needs read access to em_event. Nothing was published`);
  }
  if (before) throw new CanaryCannotRun(`an event already carries the new marker ${marker}; run the canary again`);

  const publishedMs = deps.clock.now();
  const msg = canaryMessage(marker, new Date(publishedMs), run.topic);
  const base = {
    stack: run.stack,
    instance: run.instance,
    topicArn: run.topic.arn,
    marker,
    subject: msg.subject,
    publishedAt: new Date(publishedMs).toISOString(),
    timeoutSeconds: run.timeoutSeconds,
  };
  // Fields in reading order: what was sent, what came of it, what it leaves.
  const report = (outcome: CanaryOutcome, rest: Omit<CanaryReport, keyof typeof base | "outcome" | "exitCode">): CanaryReport => ({
    stack: base.stack,
    instance: base.instance,
    topicArn: base.topicArn,
    marker: base.marker,
    subject: base.subject,
    publishedAt: base.publishedAt,
    messageId: rest.messageId,
    outcome,
    exitCode: canaryExitCode(outcome),
    timeoutSeconds: base.timeoutSeconds,
    latency: rest.latency,
    event: rest.event,
    detail: rest.detail,
    leaves: rest.leaves,
    next: rest.next,
  });
  const noLatency = { publishToEventCreatedSeconds: null, publishToSeenMs: null };

  let messageId: string;
  try {
    messageId = await deps.publish(msg);
  } catch (e) {
    const failure = e instanceof PublishFailure ? e : new PublishFailure(`the publish failed: ${deps.describe(e)}`, true);
    return report("failed", {
      messageId: null,
      latency: noLatency,
      event: null,
      detail: failure.message,
      leaves: failure.outcomeUnknown ? `nothing, unless SNS accepted the message after all; then ${EVENT_LEFT}` : "nothing: SNS did not take the message",
      next: null,
    });
  }

  let found;
  try {
    found = await waitForEvent(() => deps.find(marker), { startedAt: publishedMs, timeoutMs: run.timeoutSeconds * 1000, clock: deps.clock });
  } catch (e) {
    return report("failed", {
      messageId,
      latency: noLatency,
      event: null,
      detail: `SNS accepted the message (MessageId ${messageId}), but reading em_event failed: ${deps.describe(e)}. Whether ServiceNow recorded the event is unknown`,
      leaves: `probably ${EVENT_LEFT}`,
      next: null,
    });
  }

  if (!found.event || found.seenAt === undefined) {
    return report("not-delivered", {
      messageId,
      latency: noLatency,
      event: null,
      detail:
        `SNS accepted the message (MessageId ${messageId}) and ServiceNow recorded no event carrying ${marker} within ${run.timeoutSeconds} s. ` +
        "SNS counts a 4xx answer from the endpoint as delivered and never retries it, so alarms published to this topic are being lost",
      leaves: `nothing that ServiceNow recorded; should the event still arrive, ${EVENT_LEFT}`,
      next: `${run.invoke("drift")} --stack ${run.stack}`,
    });
  }

  const event = eventOf(found.event);
  const createdMs = glideTimeMs(found.event.sys_created_on);
  return report("delivered", {
    messageId,
    latency: {
      // sys_created_on has whole seconds: compare it with the publish time's whole second.
      publishToEventCreatedSeconds: createdMs === undefined ? null : Math.round((createdMs - Math.floor(publishedMs / 1000) * 1000) / 1000),
      publishToSeenMs: Math.max(0, found.seenAt - publishedMs),
    },
    event,
    detail: `SNS accepted the message (MessageId ${messageId}) and ServiceNow recorded it as em_event ${event.sysId}: the chain delivers`,
    leaves: EVENT_LEFT.replace("one em_event row", `one em_event row (${event.sysId})`),
    next: null,
  });
}
