/**
 * The one message the canary publishes: the shared synthetic OK alarm
 * (resources/servicenow/checks/syntheticAlarm.ts) as CloudWatch would send it to
 * SNS, with the topic's region and account, so the push connector handles it like
 * any other alarm and gives it the Clear severity.
 */
import { CloudWatchAlarmMessage, clearAlarm } from "../../resources/servicenow/checks/syntheticAlarm";
import type { TopicRef } from "./topic";

export interface CanaryMessage {
  marker: string;
  alarm: CloudWatchAlarmMessage;
  /** The SNS `Message`: the alarm as JSON, as CloudWatch publishes it. */
  message: string;
  /** The SNS `Subject`, in CloudWatch's form: `OK: "<alarm name>" in <region>`. */
  subject: string;
}

/** SNS refuses a Subject longer than this. */
const MAX_SUBJECT = 100;

export function canaryMessage(marker: string, at: Date, topic: TopicRef): CanaryMessage {
  const alarm = clearAlarm(marker, at, { region: topic.region, accountId: topic.accountId });
  const subject = `OK: "${alarm.AlarmName}" in ${topic.region}`.slice(0, MAX_SUBJECT);
  return { marker, alarm, message: JSON.stringify(alarm), subject };
}
