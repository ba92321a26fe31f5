/**
 * The SNS test server (goaws, tools/sns-test-server) delivering to the ServiceNow
 * emulator's Event Management endpoint: the subscription is confirmed through the
 * SubscribeURL goaws sends, a CloudWatch alarm published through the AWS SDK becomes an
 * em_event, and once the API key is deactivated SNS still reports success while no
 * event arrives — what only an end-to-end check notices.
 */
import { execFile } from "node:child_process";
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import type { GlideRecord } from "../../emulator/servicenow";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { startSnsTestServer, type SnsTestServer } from "../../scripts/sns/snsTestServer";
import { makeKey, makeKeyProfile, makeUser, mapProfile } from "../emulator/servicenow/helpers";
import { ADMIN_PASSWORD } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";
import { waitFor } from "./waitFor";

/** A cold Go module and build cache makes the first start build the server. */
const FIRST_START_TIMEOUT_MS = 10 * 60_000;
const INBOUND_ROUTE = "POST em/inbound_event";

function alarm(name: string): string {
  return JSON.stringify({
    AlarmName: name,
    AWSAccountId: "123456789012",
    NewStateValue: "ALARM",
    NewStateReason: "Threshold Crossed: 1 datapoint [97.0] was greater than the threshold (80.0).",
    StateChangeTime: "2025-03-04T05:06:07.891+0000",
    Region: "US East (N. Virginia)",
    OldStateValue: "OK",
    Trigger: {
      MetricName: "CPUUtilization",
      Namespace: "AWS/EC2",
      Statistic: "AVERAGE",
      Dimensions: [{ name: "InstanceId", value: "i-0abc123" }],
      Period: 300,
      EvaluationPeriods: 1,
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 80,
    },
  });
}

describe("the SNS test server", () => {
  let sns: SnsTestServer;
  let client: SNSClient;

  beforeAll(async () => {
    sns = await startSnsTestServer();
    // In-process, the client is given what `env` gives a child process.
    client = new SNSClient({
      endpoint: sns.endpoint,
      region: sns.region,
      credentials: { accessKeyId: "keywire-test", secretAccessKey: "keywire-test-secret" },
      maxAttempts: 1,
    });
  }, FIRST_START_TIMEOUT_MS);
  afterAll(async () => {
    client?.destroy();
    await sns?.stop();
  });

  test("listens on loopback and names its region and account in topic ARNs", async () => {
    expect(sns.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: "keywire-naming" }));
    expect(TopicArn).toBe(`arn:aws:sns:${sns.region}:${sns.accountId}:keywire-naming`);
  });

  test("`env` alone points a child process's AWS SDK client at it, over a developer's profile and session token", async () => {
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: "keywire-child" }));
    const script = `
      const { SNSClient, ListTopicsCommand } = require("@aws-sdk/client-sns");
      new SNSClient({ maxAttempts: 1 }).send(new ListTopicsCommand({})).then(
        (r) => console.log(JSON.stringify(r.Topics.map((t) => t.TopicArn))),
        (e) => { console.error(e.name + ": " + e.message); process.exit(1); });`;
    const env = { ...process.env, AWS_PROFILE: "developer", AWS_SESSION_TOKEN: "stale-token", ...sns.env };
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["-e", script], { cwd: REPO_ROOT, env, timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    expect(JSON.parse(out)).toContain(TopicArn);
  });

  describe("delivering to the ServiceNow emulator", () => {
    const em = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD }, { resetAfterEach: false });
    let keyId: string;
    let endpoint: string;

    beforeAll(() => {
      // The chain keywire builds, made out of band: an integration user with a key, the
      // query-parameter profile, a policy for the Event Management API mapped to it.
      const user = makeUser(em, "aws.sns", ["evt_mgmt_integration"]);
      const key = makeKey(em, user.sys_id);
      keyId = key.row.sys_id;
      const profile = makeKeyProfile(em, "query");
      const policy = em.store.insert("sys_api_access_policy", { name: "Event Management API key", api_path: "sn_em_connector/em" });
      mapProfile(em, policy.sys_id, profile.sys_id);
      const [instance] = em.store.query("sn_em_connector_push_instance", (r) => r.active === "true");
      const query = new URLSearchParams({ source: "aws", sys_id: instance.sys_id, "x-sn-apikey": key.token });
      endpoint = `${em.url}/api/sn_em_connector/em/inbound_event?${query.toString()}`;
    });

    const inboundRequests = (): number => em.metrics().byRoute[INBOUND_ROUTE] ?? 0;
    const events = (alarmName: string): GlideRecord[] => em.store.query("em_event", (r) => r.resource === alarmName);

    test("the subscription is confirmed through SubscribeURL, an alarm becomes an em_event; with the key deactivated SNS still reports success and no event arrives", async () => {
      const { TopicArn } = await client.send(new CreateTopicCommand({ Name: "keywire-alarms" }));
      const { SubscriptionArn } = await client.send(new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: endpoint }));
      expect(SubscriptionArn).toMatch(new RegExp(`^${TopicArn}:`));

      // goaws posts the SubscriptionConfirmation; the emulator visits its SubscribeURL,
      // which goaws answers with the subscription's ARN.
      const confirmation = await waitFor(
        "the confirmed subscription in sn_em_connector_push_log",
        () => em.store.query("sn_em_connector_push_log", (r) => r.message_type === "SubscriptionConfirmation")[0],
      );
      expect(confirmation).toMatchObject({ status: "confirmed", topic_arn: TopicArn, subscription_arn: SubscriptionArn });
      expect(confirmation.subscribe_url).toMatch(new RegExp(`^${sns.endpoint}/\\?Action=ConfirmSubscription&`));

      const published = await client.send(new PublishCommand({ TopicArn, Subject: 'ALARM: "web-01-cpu-high"', Message: alarm("web-01-cpu-high") }));
      expect(published.MessageId).toBeTruthy();
      const [event] = await waitFor("the alarm's em_event", () => (events("web-01-cpu-high").length > 0 ? events("web-01-cpu-high") : undefined));
      expect(event).toMatchObject({
        source: "aws",
        node: "i-0abc123",
        metric_name: "CPUUtilization",
        type: "AWS/EC2",
        severity: "1",
        sys_created_by: "aws.sns",
      });
      const info = JSON.parse(event.additional_info) as Record<string, string>;
      expect(info).toMatchObject({ sns_topic_arn: TopicArn, sns_subject: 'ALARM: "web-01-cpu-high"', alarm_name: "web-01-cpu-high" });

      // The key is switched off on the instance; nothing on the AWS side changes.
      em.store.update("api_key", keyId, { active: false });
      const eventsBefore = em.store.query("em_event").length;
      const requestsBefore = inboundRequests();
      const refused = await client.send(new PublishCommand({ TopicArn, Subject: 'ALARM: "web-02-cpu-high"', Message: alarm("web-02-cpu-high") }));
      expect(refused.MessageId).toBeTruthy();
      // goaws did deliver (the emulator counted the request) …
      await waitFor("goaws' delivery of the second alarm", () => (inboundRequests() > requestsBefore ? true : undefined));
      // … and the instance refused it: the same URL, asked directly, says why.
      const direct = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification" },
        body: JSON.stringify({ Type: "Notification", MessageId: "direct", TopicArn, Message: alarm("web-02-cpu-high") }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(direct.status).toBe(401);
      expect(events("web-02-cpu-high")).toEqual([]);
      expect(em.store.query("em_event")).toHaveLength(eventsBefore);
    });
  });
});
