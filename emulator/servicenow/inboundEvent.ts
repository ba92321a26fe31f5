/**
 * Event Management push connector endpoint: `POST /api/sn_em_connector/em/inbound_event`.
 * Amazon SNS posts here: subscription confirmations are confirmed by visiting SubscribeURL
 * (loopback targets only) and logged in sn_em_connector_push_log; notifications carrying a
 * CloudWatch alarm become em_event rows, processed into alerts at once (alerts.ts).
 */
import { request as httpRequest } from "node:http";
import { processEvent } from "./alerts";
import type { Principal } from "./auth/judge";
import { glideDateTime, isSysId } from "./glide";
import { errorReply, type Reply } from "./http/reply";
import type { Store } from "./store";
import type { GlideRecord } from "./types";
import type { WriteContext } from "./writeContext";

const CONFIRM_TIMEOUT_MS = 5000;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export interface InboundRequest {
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  principal: Principal;
}

function header(h: InboundRequest["headers"], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** Fetches the URL with a bounded wait; resolves to the status and body (status 0 on failure). */
function visit(url: URL): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: "GET", agent: false, timeout: CONFIRM_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", () => resolve({ status: 0, body: "" }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.end();
  });
}

const SEVERITY: Record<string, string> = { ALARM: "1", OK: "0", INSUFFICIENT_DATA: "4" };

/** CloudWatch's `2024-05-01T12:00:00.000+0000` (or any ISO time) as `YYYY-MM-DD HH:MM:SS` UTC. */
function toGlideTime(s: string): string {
  const normalized = s.replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const d = new Date(normalized);
  return Number.isNaN(d.getTime()) ? "" : glideDateTime(d);
}

interface Alarm {
  AlarmName: string;
  AlarmArn?: string;
  AWSAccountId?: string;
  Region?: string;
  NewStateValue: string;
  OldStateValue?: string;
  NewStateReason?: string;
  StateChangeTime?: string;
  Trigger?: { MetricName?: string; Namespace?: string; Dimensions?: Array<{ name?: string; value?: string }> };
}

function asAlarm(message: string): Alarm | undefined {
  try {
    const m = JSON.parse(message) as Partial<Alarm>;
    if (m && typeof m === "object" && typeof m.AlarmName === "string" && typeof m.NewStateValue === "string") return m as Alarm;
  } catch {
    // not JSON: a plain notification
  }
  return undefined;
}

/**
 * The push connector a request names. With `sys_id` (the API-key URL of "Integrate AWS with REST
 * API key token") it is that push connector instance, whose definition must carry `source`;
 * without it (the basic-auth URL of "Integrate AWS platform as a data source", `?source=aws`
 * only) it is the active definition with that source.
 */
function pushConnector(store: Store, source: string, instanceId: string | null): { instance?: GlideRecord; definition: GlideRecord } | { reply: Reply } {
  if (instanceId === null) {
    for (const d of store.scan("sn_em_connector_listener")) if (d.active === "true" && d.source === source) return { definition: d };
    return { reply: errorReply(400, "Invalid source", `No active push connector definition has source=${source}`) };
  }
  const instance = isSysId(instanceId) ? store.get("sn_em_connector_push_instance", instanceId) : undefined;
  const definition = instance ? store.get("sn_em_connector_listener", instance.push_connector_definition) : undefined;
  if (!instance || !definition) return { reply: errorReply(404, "Push connector not found", `No push connector instance with sys_id ${instanceId}`) };
  if (instance.active !== "true" || definition.active !== "true") {
    return { reply: errorReply(404, "Push connector not found", "The push connector instance or its definition is inactive") };
  }
  if (definition.source !== source) return { reply: errorReply(400, "Invalid source", `The push connector expects source=${definition.source}`) };
  return { instance, definition };
}

export async function handleInboundEvent(store: Store, r: InboundRequest): Promise<Reply> {
  const source = r.query.get("source");
  if (!source) return errorReply(400, "Missing parameter: source", "The source URL parameter names the push connector definition's source, e.g. source=aws");
  const connector = pushConnector(store, source, r.query.get("sys_id"));
  if ("reply" in connector) return connector.reply;
  const { instance } = connector;

  const type = header(r.headers, "x-amz-sns-message-type");
  if (!type)
    return errorReply(400, "Missing header x-amz-sns-message-type", "Amazon SNS sends this header with every message; raw message delivery must be off");
  let msg: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(r.body);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    msg = parsed as Record<string, unknown>;
  } catch {
    return errorReply(400, "Exception while reading request", "The payload is not an Amazon SNS JSON message.");
  }

  const ctx: WriteContext = { userName: r.principal.user.user_name, trusted: false, acceptToken: false };
  const log = (fields: Record<string, unknown>): GlideRecord =>
    store.insert(
      store.schema.get("sn_em_connector_push_log")!,
      { push_connector_instance: instance?.sys_id ?? "", message_type: type, message_id: str(msg.MessageId), topic_arn: str(msg.TopicArn), ...fields },
      ctx,
    );

  switch (type) {
    case "SubscriptionConfirmation": {
      const subscribeUrl = str(msg.SubscribeURL);
      let url: URL | undefined;
      try {
        url = new URL(subscribeUrl);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
        log({ subscribe_url: subscribeUrl, status: "not_confirmed", detail: "SubscribeURL is missing or not an http(s) URL" });
        return errorReply(400, "Invalid subscription confirmation", "SubscribeURL is missing or not an http(s) URL");
      }
      if (!LOOPBACK_HOSTS.has(url.hostname)) {
        const row = log({
          subscribe_url: subscribeUrl,
          status: "not_confirmed",
          detail: "SubscribeURL is not a loopback address; the emulator does not reach outside this machine",
        });
        return { status: 200, body: { result: { status: "not_confirmed", push_log: row.sys_id } } };
      }
      const answer = await visit(url);
      const ok = answer.status >= 200 && answer.status < 300;
      const arn = /<SubscriptionArn>([^<]*)<\/SubscriptionArn>/.exec(answer.body)?.[1] ?? "";
      const row = log({
        subscribe_url: subscribeUrl,
        subscription_arn: arn,
        status: ok ? "confirmed" : "confirmation_failed",
        detail: ok ? "" : answer.status ? `SubscribeURL answered ${answer.status}` : "SubscribeURL could not be reached",
      });
      return { status: 200, body: { result: { status: ok ? "confirmed" : "confirmation_failed", push_log: row.sys_id } } };
    }
    case "UnsubscribeConfirmation": {
      const row = log({ status: "unsubscribed", detail: str(msg.Message) });
      return { status: 200, body: { result: { status: "unsubscribed", push_log: row.sys_id } } };
    }
    case "Notification": {
      const message = str(msg.Message);
      const alarm = asAlarm(message);
      const additional: Record<string, string> = {
        payload: r.body,
        sns_message_id: str(msg.MessageId),
        sns_topic_arn: str(msg.TopicArn),
        sns_subject: str(msg.Subject),
        sns_timestamp: str(msg.Timestamp),
      };
      let fields: Record<string, unknown>;
      if (alarm) {
        const dims = alarm.Trigger?.Dimensions ?? [];
        Object.assign(additional, {
          alarm_name: alarm.AlarmName,
          aws_account_id: str(alarm.AWSAccountId),
          region: str(alarm.Region),
          new_state: alarm.NewStateValue,
          old_state: str(alarm.OldStateValue),
          namespace: str(alarm.Trigger?.Namespace),
          dimensions: dims.map((d) => `${str(d.name)}=${str(d.value)}`).join(","),
        });
        fields = {
          source: "aws",
          node: str(dims[0]?.value) || str(alarm.AWSAccountId),
          resource: alarm.AlarmName,
          metric_name: str(alarm.Trigger?.MetricName),
          type: str(alarm.Trigger?.Namespace),
          event_class: "AWS CloudWatch",
          severity: SEVERITY[alarm.NewStateValue] ?? "5",
          description: str(alarm.NewStateReason) || `${alarm.AlarmName} is ${alarm.NewStateValue}`,
          time_of_event: toGlideTime(str(alarm.StateChangeTime)) || toGlideTime(str(msg.Timestamp)) || glideDateTime(),
          message_key: alarm.AlarmArn || `${str(alarm.AWSAccountId)}:${str(alarm.Region)}:${alarm.AlarmName}`,
        };
      } else {
        fields = {
          source: "aws",
          type: "SNS",
          event_class: "AWS SNS",
          severity: "5",
          description: str(msg.Subject) || message,
          time_of_event: toGlideTime(str(msg.Timestamp)) || glideDateTime(),
          message_key: str(msg.MessageId),
        };
      }
      fields.additional_info = JSON.stringify(additional);
      fields.state = "Ready";
      const event = processEvent(store, store.insert(store.schema.get("em_event")!, fields, ctx));
      return { status: 200, body: { result: { status: "accepted", em_event: event.sys_id } } };
    }
    default:
      return errorReply(400, "Unsupported message type", `x-amz-sns-message-type ${type} is not handled`);
  }
}
