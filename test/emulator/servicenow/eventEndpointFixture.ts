/** What the Event Management endpoint's contract tests share: the chain they start from, the calls they make, the answers they expect. */
import type { RunningEmulator } from "../../../emulator/servicenow";
import type { GlideRecord } from "../../../emulator/servicenow/types";
import { snsHeaders, snsNotification } from "../../../resources/servicenow/checks/syntheticAlarm";
import { call, makeKey, makeKeyProfile, makeUser, mapProfile, one, type CallOptions, type Res } from "./helpers";

export const TOPIC = "arn:aws:sns:eu-west-1:123456789012:keywire-events";
export const PATH = "/api/sn_em_connector/em/inbound_event";
export const EM_API = "sn_em_connector/em";
const BASIC_PROFILE = "BasicAuth for none public processors ";
export const NO_RESOURCE = "Requested URI does not represent any resource";

export type AlarmState = "ALARM" | "OK" | "INSUFFICIENT_DATA";

/** A CloudWatch alarm notification for `name` in `state`, as SNS posts it. */
export function alarmNotification(name: string, state: AlarmState): Record<string, string> {
  const message = {
    AlarmName: name,
    AWSAccountId: "123456789012",
    NewStateValue: state,
    NewStateReason: `${name} went to ${state}`,
    StateChangeTime: "2025-06-01T10:00:00.000+0000",
    Region: "EU (Ireland)",
    OldStateValue: state === "OK" ? "ALARM" : "OK",
    Trigger: { MetricName: "CPUUtilization", Namespace: "AWS/EC2", Dimensions: [{ name: "InstanceId", value: "i-0123" }] },
  };
  return snsNotification(JSON.stringify(message), TOPIC, new Date("2025-06-01T10:00:01.000Z"));
}

/** The platform's error envelope, sent as JSON. */
export function expectEnvelope(res: Res, status: number, message: string | RegExp): void {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.body).toEqual({ error: { message: expect.any(String), detail: res.body?.error?.detail === null ? null : expect.any(String) }, status: "failure" });
  if (typeof message === "string") expect(res.body.error.message).toBe(message);
  else expect(res.body.error.message).toMatch(message);
}

/** A refused API key: 401, the challenge the Table API sends, the envelope. */
export function expectKeyRefused(res: Res): void {
  expectEnvelope(res, 401, "User is not authenticated");
  expect(res.headers["www-authenticate"]).toBe('BASIC realm="Service-now"');
}

/** The chain each test starts from; see makeEventChain. */
export interface EventChain {
  user: GlideRecord;
  token: string;
  keyRow: GlideRecord;
  queryProfile: GlideRecord;
  eventPolicy: GlideRecord;
  instanceId: string;
}

export const basicProfileId = (em: RunningEmulator): string => one(em, "std_http_auth", (r) => r.name === BASIC_PROFILE).sys_id;

/**
 * keywire's chain in its dedicated mode: the integration user with evt_mgmt_integration, a key,
 * an API-key profile for the query parameter, and two policies of its own admitting it, one for
 * the Event Management API and one for the Table API (the shipped Table policies off; basic
 * auth kept on the Table API, so admin still signs in there).
 */
export function makeEventChain(em: RunningEmulator): EventChain {
  em.setOptions({ eventManagement: "active", shippedPolicies: "inactive", plugin: "active" });
  em.reset();
  const user = makeUser(em, "svc.events", ["evt_mgmt_integration"]);
  const { row: keyRow, token } = makeKey(em, user.sys_id);
  const queryProfile = makeKeyProfile(em, "query");
  const eventPolicy = em.store.insert("sys_api_access_policy", { name: "keywire Event Management", api_path: EM_API });
  mapProfile(em, eventPolicy.sys_id, queryProfile.sys_id);
  const tablePolicy = em.store.insert("sys_api_access_policy", { name: "keywire Table API", api_path: "now/table" });
  mapProfile(em, tablePolicy.sys_id, queryProfile.sys_id);
  mapProfile(em, tablePolicy.sys_id, basicProfileId(em));
  const instanceId = one(em, "sn_em_connector_push_instance", () => true).sys_id;
  return { user, token, keyRow, queryProfile, eventPolicy, instanceId };
}

/** Calls on the endpoint with the current chain's key and push connector (`chain()`, read at each call). */
export function endpointCalls(em: RunningEmulator, chain: () => Pick<EventChain, "token" | "instanceId">) {
  const endpoint = (q: Record<string, string | null> = {}): string => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ source: "aws", sys_id: chain().instanceId, "x-sn-apikey": chain().token, ...q })) if (v !== null) params.set(k, v);
    return `${PATH}?${params.toString()}`;
  };
  /** Posts an SNS message as SNS does: its body as text, its headers from snsHeaders(). */
  const deliver = (body: Record<string, string>, q: Record<string, string | null> = {}, o: CallOptions = {}): Promise<Res> =>
    call(em.url, "POST", endpoint(q), { rawBody: JSON.stringify(body), ...o, headers: { ...snsHeaders(body), ...o.headers } });
  const deliverAlarm = (name: string, state: AlarmState, q: Record<string, string | null> = {}): Promise<Res> => deliver(alarmNotification(name, state), q);
  /** The same token on the Table API. */
  const tableRead = (): Promise<Res> => call(em.url, "GET", `/api/now/table/em_event?sysparm_limit=1&x-sn-apikey=${encodeURIComponent(chain().token)}`);
  const events = (): GlideRecord[] => em.store.query("em_event");
  const alerts = (pred?: (r: GlideRecord) => boolean): GlideRecord[] => em.store.query("em_alert", pred);

  return { endpoint, deliver, deliverAlarm, tableRead, events, alerts };
}
