/**
 * The event probe: the request SNS makes, made by keywire. It posts an SNS
 * Notification carrying a synthetic CloudWatch alarm in the OK state (syntheticAlarm.ts)
 * to the Event Management inbound endpoint, with the token in the `x-sn-apikey` query
 * parameter, the `source` and push-connector `sys_id` of the stack's endpoint, and SNS's
 * headers. A Table API probe cannot stand in for it: the Event Management API has access
 * policies of its own, and SNS counts a 401 from it as delivered.
 *
 * The rule is as strict as the table probe's: only ServiceNow's JSON answers count.
 * - delivered: a 2xx with a JSON `result` (only an authenticated caller gets past the
 *   access policy to the connector's script);
 * - refused: a 401 (the access policy or the key refused the token);
 * - forbidden: ServiceNow's 403 envelope for an authenticated caller without the right
 *   (the user lacks evt_mgmt_integration);
 * - rejected: ServiceNow's 400/404 envelope (no such API, push connector, or source);
 * - unknown: anything else (an HTML page, a proxy's answer, a 5xx, no answer).
 */
import { isKeywireHttpError } from "../../core/errors";
import type { HttpResult } from "../client/tableClient";
import type { EngineContext } from "../engine/runtime";
import { AUTHENTICATED_REFUSAL, envelopeMessage, isJson } from "../apiKey/probe";
import { INBOUND_EVENT_PATH } from "../components/eventEndpoint";
import { clearAlarm, findMarkedEvent, newMarker, snsHeaders, snsNotification } from "./syntheticAlarm";

/** Where SNS posts: the stack's endpoint without the instance and the token. */
export interface EventTarget {
  /** The push connector definition's source (`aws`). */
  source: string;
  /** The push connector instance's sys_id. */
  pushConnectorSysId: string;
}

type EventOutcome = "delivered" | "refused" | "forbidden" | "rejected" | "unknown";

export interface EventVerdict {
  outcome: EventOutcome;
  /** What the probe saw, for people. */
  seen: string;
  /** ServiceNow's error message, on a forbidden or rejected answer. */
  message?: string;
}

/** The topic keywire's direct post claims to come from: no topic of any account. */
const PROBE_TOPIC_ARN = "arn:aws:sns:keywire:000000000000:keywire-delivery-check";

/** Judges one answer of the inbound endpoint. Pure. */
export function judgeEventAnswer(res: HttpResult): EventVerdict {
  const status = res.status;
  if (status >= 200 && status < 300) {
    if (isJson(res) && Object.prototype.hasOwnProperty.call(res.data, "result")) {
      return { outcome: "delivered", seen: `HTTP ${status} with Event Management's JSON result` };
    }
    return { outcome: "unknown", seen: `HTTP ${status} without a JSON result (not Event Management's answer)` };
  }
  if (status === 401) return { outcome: "refused", seen: "HTTP 401: the Event Management API did not accept the token" };
  const message = isJson(res) ? envelopeMessage(res.data) : undefined;
  const quoted = message === undefined ? "" : ` "${message.slice(0, 80)}"`;
  if (status === 403 && message !== undefined && AUTHENTICATED_REFUSAL.test(message)) {
    return { outcome: "forbidden", seen: `HTTP 403${quoted}: authenticated, not allowed to send events`, message };
  }
  if ((status === 400 || status === 404) && message !== undefined) {
    return { outcome: "rejected", seen: `HTTP ${status}${quoted}`, message };
  }
  return {
    outcome: "unknown",
    seen: message !== undefined ? `HTTP ${status}${quoted}` : `HTTP ${status} without ServiceNow's error envelope (a proxy or firewall?)`,
  };
}

/**
 * Posts one synthetic OK alarm as SNS would and judges the answer. On delivery it also
 * looks for the event row (with the deploying identity), to say which row it left.
 */
export async function probeEventEndpoint(ctx: EngineContext, token: string, target: EventTarget, now: Date = new Date()): Promise<EventVerdict> {
  const marker = newMarker("verify");
  const alarm = clearAlarm(marker, now);
  const body = snsNotification(JSON.stringify(alarm), PROBE_TOPIC_ARN, now, `OK: "${alarm.AlarmName}" in ${alarm.Region}`);
  const { "content-type": contentType, ...headers } = snsHeaders(body);
  let verdict: EventVerdict;
  try {
    const res = await ctx.client.request("POST", INBOUND_EVENT_PATH, {
      auth: "none",
      headers,
      query: { source: target.source, sys_id: target.pushConnectorSysId, "x-sn-apikey": token },
      text: { body: JSON.stringify(body), contentType },
      secrets: [token],
      // A Clear event with a fresh message key changes nothing if it lands twice.
      idempotent: true,
      acceptStatus: [300, 301, 302, 303, 307, 308, 400, 401, 403, 404, 405, 406, 407, 409, 410],
      operation: "probe the Event Management inbound endpoint",
    });
    verdict = judgeEventAnswer(res);
  } catch (err) {
    if (!isKeywireHttpError(err)) throw err;
    const seen =
      err.kind === "http"
        ? `HTTP ${err.status ?? "?"}`
        : err.kind === "timeout"
          ? "no answer in time"
          : `a broken connection${err.networkCode ? ` (${err.networkCode})` : ""}`;
    return { outcome: "unknown", seen };
  }
  if (verdict.outcome !== "delivered") return verdict;
  try {
    const row = await findMarkedEvent(ctx.client, marker);
    const alert = row?.alert ? `, alert ${row.alert}` : "";
    // No row sys_id or marker here: the text is an output, and a refresh of an untouched chain must store the same one.
    const left = row ? `; its event reached em_event (severity ${row.severity || "?"}${alert})` : "; no em_event row carries its marker yet";
    return { ...verdict, seen: verdict.seen + left };
  } catch {
    // Reading em_event needs a role the deploying identity may lack; the answer alone is the proof.
    return { ...verdict, seen: `${verdict.seen}; the event row could not be read back` };
  }
}
