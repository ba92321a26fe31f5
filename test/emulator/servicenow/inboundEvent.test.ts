import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { GlideRecord } from "../../../emulator/servicenow/types";
import { basic, call, makeKey, makeKeyProfile, makeUser, mapProfile, one } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:keywire-alarms";

function alarm(state: "ALARM" | "OK" | "INSUFFICIENT_DATA") {
  return {
    AlarmName: "web-01-cpu-high",
    AlarmDescription: "CPU above 90%",
    AWSAccountId: "123456789012",
    NewStateValue: state,
    NewStateReason: `Threshold Crossed: 1 datapoint [95.0] was ${state === "OK" ? "not " : ""}greater than the threshold (90.0).`,
    StateChangeTime: "2025-03-04T05:06:07.891+0000",
    Region: "EU (Ireland)",
    OldStateValue: state === "OK" ? "ALARM" : "OK",
    Trigger: {
      MetricName: "CPUUtilization",
      Namespace: "AWS/EC2",
      Statistic: "AVERAGE",
      Dimensions: [{ name: "InstanceId", value: "i-0abc123" }],
      Period: 300,
      EvaluationPeriods: 1,
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 90,
    },
  };
}

function notification(message: string, subject = "ALARM: web-01-cpu-high") {
  return JSON.stringify({
    Type: "Notification",
    MessageId: "6b7c0d1e-aaaa-bbbb-cccc-000000000001",
    TopicArn: TOPIC,
    Subject: subject,
    Message: message,
    Timestamp: "2025-03-04T05:06:08.000Z",
    SignatureVersion: "1",
    Signature: "c2ln",
    SigningCertURL: "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem",
    UnsubscribeURL: "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
  });
}

describe("6. Event Management inbound endpoint", () => {
  const em = useServiceNowEmulator();
  let sns: Server;
  let snsUrl: string;
  let visits: string[];
  let user: GlideRecord;
  let token: string;
  let instanceId: string;

  beforeAll(async () => {
    sns = createServer((req, res) => {
      visits.push(req.url ?? "");
      res.writeHead(200, { "Content-Type": "text/xml" });
      res.end(
        `<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>${TOPIC}:1111-2222</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`,
      );
    });
    await new Promise<void>((r) => sns.listen(0, "127.0.0.1", r));
    snsUrl = `http://127.0.0.1:${(sns.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => sns.close(r));
  });
  beforeEach(() => {
    visits = [];
    user = makeUser(em, "aws.sns", ["evt_mgmt_integration"]);
    token = makeKey(em, user.sys_id).token;
    const profile = makeKeyProfile(em, "query");
    const policy = em.store.insert("sys_api_access_policy", { name: "Event Management API key", api_path: "sn_em_connector/em" });
    mapProfile(em, policy.sys_id, profile.sys_id);
    instanceId = one(em, "sn_em_connector_push_instance", () => true).sys_id;
  });

  const endpoint = (q: Record<string, string> = {}) =>
    "/api/sn_em_connector/em/inbound_event?" + new URLSearchParams({ source: "aws", sys_id: instanceId, "x-sn-apikey": token, ...q }).toString();
  const post = (body: string, type: string | null = "Notification", q: Record<string, string> = {}, headers: Record<string, string> = {}) =>
    call(em.url, "POST", endpoint(q), {
      rawBody: body,
      headers: {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
        ...(type ? { "x-amz-sns-message-type": type } : {}),
        ...headers,
      },
    });

  test("a SubscriptionConfirmation is confirmed by visiting SubscribeURL and recorded", async () => {
    const body = JSON.stringify({
      Type: "SubscriptionConfirmation",
      MessageId: "m-1",
      Token: "tok",
      TopicArn: TOPIC,
      Message: "You have chosen to subscribe…",
      SubscribeURL: `${snsUrl}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=tok`,
      Timestamp: "2025-03-04T05:00:00.000Z",
    });
    const res = await post(body, "SubscriptionConfirmation");
    expect(res.status).toBe(200);
    expect(res.body.result.status).toBe("confirmed");
    expect(visits).toEqual([`/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=tok`]);
    const log = one(em, "sn_em_connector_push_log", () => true);
    expect(log).toMatchObject({
      status: "confirmed",
      message_type: "SubscriptionConfirmation",
      topic_arn: TOPIC,
      subscription_arn: `${TOPIC}:1111-2222`,
      push_connector_instance: instanceId,
    });
  });

  test("a SubscribeURL outside loopback is not visited and is recorded as not confirmed", async () => {
    const body = JSON.stringify({
      Type: "SubscriptionConfirmation",
      MessageId: "m-2",
      TopicArn: TOPIC,
      SubscribeURL: "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=x",
    });
    const res = await post(body, "SubscriptionConfirmation");
    expect(res.status).toBe(200);
    expect(res.body.result.status).toBe("not_confirmed");
    expect(one(em, "sn_em_connector_push_log", () => true).status).toBe("not_confirmed");
  });

  test("an unreachable loopback SubscribeURL is recorded as a failed confirmation", async () => {
    const body = JSON.stringify({ Type: "SubscriptionConfirmation", MessageId: "m-3", TopicArn: TOPIC, SubscribeURL: "http://127.0.0.1:1/confirm" });
    const res = await post(body, "SubscriptionConfirmation");
    expect(res.status).toBe(200);
    expect(one(em, "sn_em_connector_push_log", () => true).status).toBe("confirmation_failed");
  });

  test("a CloudWatch ALARM notification becomes an em_event with the mapped fields and the raw payload", async () => {
    const body = notification(JSON.stringify(alarm("ALARM")));
    const res = await post(body);
    expect(res.status).toBe(200);
    const event = em.store.get("em_event", res.body.result.em_event)!;
    expect(event).toMatchObject({
      source: "aws",
      node: "i-0abc123",
      resource: "web-01-cpu-high",
      metric_name: "CPUUtilization",
      type: "AWS/EC2",
      severity: "1",
      description: expect.stringContaining("Threshold Crossed"),
      time_of_event: "2025-03-04 05:06:07",
      message_key: "123456789012:EU (Ireland):web-01-cpu-high",
      // Processed as it is inserted: an ALARM opens an alert for its message key.
      state: "Processed",
      alert: expect.stringMatching(/^[0-9a-f]{32}$/),
      sys_created_by: "aws.sns",
    });
    const info = JSON.parse(event.additional_info);
    expect(info.payload).toBe(body);
    expect(Object.values(info).every((v) => typeof v === "string")).toBe(true);
    expect(info.sns_topic_arn).toBe(TOPIC);
  });

  test("OK maps to severity 0 (clear); the header decides the type, the content type may be JSON", async () => {
    const res = await post(notification(JSON.stringify(alarm("OK")), "OK: web-01-cpu-high"), "Notification", {}, { "Content-Type": "application/json" });
    expect(res.status).toBe(200);
    expect(em.store.get("em_event", res.body.result.em_event)!.severity).toBe("0");
  });

  test("a notification that is not an alarm still becomes an event", async () => {
    const res = await post(notification("plain text message", "hello"));
    expect(res.status).toBe(200);
    const event = em.store.get("em_event", res.body.result.em_event)!;
    expect(event.source).toBe("aws");
    expect(event.description).toBe("hello");
  });

  test("the events are readable over the Table API by the integration user's role", async () => {
    await post(notification(JSON.stringify(alarm("ALARM"))));
    const res = await call(em.url, "GET", "/api/now/table/em_event?sysparm_query=source=aws&sysparm_fields=resource,severity", {
      auth: basic("aws.sns", "pw"),
    });
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual([{ resource: "web-01-cpu-high", severity: "1" }]);
  });

  test.each([
    ["missing x-amz-sns-message-type", () => post(notification("{}"), null), 400, "Missing header x-amz-sns-message-type"],
    ["unknown push connector", () => post(notification("{}"), "Notification", { sys_id: "0".repeat(32) }), 404, "Push connector not found"],
    ["malformed push connector id", () => post(notification("{}"), "Notification", { sys_id: "nope" }), 404, "Push connector not found"],
    ["wrong source", () => post(notification("{}"), "Notification", { source: "AWSSNS" }), 400, "Invalid source"],
    [
      "missing source",
      () =>
        call(em.url, "POST", `/api/sn_em_connector/em/inbound_event?sys_id=${instanceId}&x-sn-apikey=${encodeURIComponent(token)}`, {
          rawBody: "{}",
          headers: { "x-amz-sns-message-type": "Notification" },
        }),
      400,
      "Missing parameter: source",
    ],
    ["malformed body", () => post("{not json"), 400, "Exception while reading request"],
    ["unsupported message type", () => post(notification("{}"), "Bogus"), 400, "Unsupported message type"],
  ])("%s: error envelope, no crash", async (_name, send, status, message) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.status).toBe("failure");
    expect(res.body.error.message).toBe(message);
    expect(em.store.query("em_event")).toHaveLength(0);
  });

  test("authentication: the key must be admitted by the endpoint's policy; the user needs evt_mgmt_integration", async () => {
    // Sent as a header, while the policy maps only the query-parameter profile.
    const viaHeader = await call(em.url, "POST", `/api/sn_em_connector/em/inbound_event?source=aws&sys_id=${instanceId}`, {
      rawBody: notification("{}"),
      headers: { "x-amz-sns-message-type": "Notification", "x-sn-apikey": token },
    });
    expect(viaHeader.status).toBe(401);
    const noRole = makeUser(em, "no.role", []);
    const res = await post(notification("{}"), "Notification", { "x-sn-apikey": makeKey(em, noRole.sys_id).token });
    expect(res.status).toBe(403);
    // Without a policy for the endpoint, the global rules refuse token auth.
    for (const p of em.store.query("sys_api_access_policy", (r) => r.api_path === "sn_em_connector/em"))
      em.store.update("sys_api_access_policy", p.sys_id, { active: false });
    const global = await post(notification("{}"));
    expect(global.status).toBe(401);
    expect(global.body.error.detail).toBe("Token Based Auth isn't allowed in the Global REST API Policy");
  });

  test("requests are counted under the route", async () => {
    em.resetMetrics();
    await post(notification(JSON.stringify(alarm("ALARM"))));
    expect(em.metrics().byRoute["POST em/inbound_event"]).toBe(1);
  });
});
