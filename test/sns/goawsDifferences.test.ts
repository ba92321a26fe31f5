/**
 * Where the SNS test server (goaws v0.4.5) differs from Amazon SNS, as docs/local-sns.md
 * lists them: each test here pins one listed difference, so a goaws upgrade that changes
 * it fails here and the page gets corrected.
 */
import { verify, X509Certificate } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  PublishCommand,
  SetSubscriptionAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import { startSnsTestServer, type SnsTestServer } from "../../scripts/sns/snsTestServer";
import { waitFor } from "./waitFor";

const FIRST_START_TIMEOUT_MS = 10 * 60_000;

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe("goaws as the SNS test server, beside Amazon SNS", () => {
  let sns: SnsTestServer;
  let client: SNSClient;
  let subscriber: Server;
  let subscriberUrl: string;
  let deliveries: Delivery[];
  /** The status the subscriber answers with. */
  let answer: number;

  beforeAll(async () => {
    sns = await startSnsTestServer();
    client = new SNSClient({
      endpoint: sns.endpoint,
      region: sns.region,
      credentials: { accessKeyId: "keywire-test", secretAccessKey: "keywire-test-secret" },
      maxAttempts: 1,
    });
    subscriber = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        deliveries.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((r) => subscriber.listen(0, "127.0.0.1", r));
    subscriberUrl = `http://127.0.0.1:${(subscriber.address() as AddressInfo).port}`;
  }, FIRST_START_TIMEOUT_MS);
  afterAll(async () => {
    client?.destroy();
    await sns?.stop();
    await new Promise((r) => subscriber?.close(r));
  });
  beforeEach(() => {
    deliveries = [];
    answer = 200;
  });

  /** A topic of its own with the subscriber subscribed at /<name>; resolves once the confirmation arrived. */
  async function subscribed(name: string, attributes?: Record<string, string>): Promise<{ topicArn: string; subscriptionArn: string; path: string }> {
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: name }));
    const path = `/${name}`;
    const { SubscriptionArn } = await client.send(
      new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: subscriberUrl + path, ...(attributes ? { Attributes: attributes } : {}) }),
    );
    await waitFor(`the confirmation for ${name}`, () =>
      deliveries.find((d) => d.path === path && d.headers["x-amz-sns-message-type"] === "SubscriptionConfirmation"),
    );
    return { topicArn: TopicArn!, subscriptionArn: SubscriptionArn!, path };
  }

  const notifications = (path: string): Delivery[] => deliveries.filter((d) => d.path === path && d.headers["x-amz-sns-message-type"] === "Notification");

  test("Subscribe answers with the ARN at once, and delivery does not wait for the confirmation", async () => {
    const { topicArn, subscriptionArn, path } = await subscribed("unconfirmed");
    expect(subscriptionArn).toMatch(new RegExp(`^${topicArn}:[0-9a-f-]{36}$`));
    const { Attributes } = await client.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }));
    expect(Attributes?.PendingConfirmation).toBe("false");
    // Nobody visited SubscribeURL, yet the message is delivered.
    await client.send(new PublishCommand({ TopicArn: topicArn, Message: "before any confirmation" }));
    const [n] = await waitFor("the notification", () => (notifications(path).length ? notifications(path) : undefined));
    expect(JSON.parse(n.body).Message).toBe("before any confirmation");
  });

  test("a notification: JSON content type, SignatureVersion 1 over http, and a MessageId other than Publish's", async () => {
    const { topicArn, subscriptionArn, path } = await subscribed("shape");
    const { MessageId } = await client.send(new PublishCommand({ TopicArn: topicArn, Message: "shape" }));
    const [n] = await waitFor("the notification", () => (notifications(path).length ? notifications(path) : undefined));
    expect(n.headers["content-type"]).toBe("application/json");
    expect(n.headers["user-agent"]).not.toBe("Amazon Simple Notification Service Agent");
    expect(n.headers["x-amz-sns-subscription-arn"]).toBe(subscriptionArn);
    const body = JSON.parse(n.body) as Record<string, unknown>;
    expect(body).toMatchObject({ Type: "Notification", SignatureVersion: "1", Subject: "", Token: "", SubscribeURL: "" });
    expect(String(body.SigningCertURL)).toMatch(new RegExp(`^${sns.endpoint}/SimpleNotificationService/`));
    expect(body.Timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(body.MessageId).toEqual(n.headers["x-amz-sns-message-id"]);
    expect(body.MessageId).not.toEqual(MessageId);
  });

  test("the signature is SHA1withRSA over SNS's string to sign, by a self-signed certificate valid for 5 seconds", async () => {
    const { topicArn, path } = await subscribed("signed");
    await client.send(new PublishCommand({ TopicArn: topicArn, Message: "signed" }));
    const [n] = await waitFor("the notification", () => (notifications(path).length ? notifications(path) : undefined));
    const body = JSON.parse(n.body) as Record<string, string>;
    const pem = await (await fetch(body.SigningCertURL, { signal: AbortSignal.timeout(10_000) })).text();
    const cert = new X509Certificate(pem);
    expect(cert.issuer).toBe(cert.subject);
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(5_000);
    // No Subject was published, so none is signed.
    const signed = ["Message", "MessageId", "Timestamp", "TopicArn", "Type"].map((k) => `${k}\n${body[k]}\n`).join("");
    expect(verify("sha1", Buffer.from(signed), cert.publicKey, Buffer.from(body.Signature, "base64"))).toBe(true);
  });

  test("a subscriber's failure is not the publisher's: Publish succeeds when the subscriber answers 500", async () => {
    const { topicArn, path } = await subscribed("failing");
    answer = 500;
    const { MessageId } = await client.send(new PublishCommand({ TopicArn: topicArn, Message: "refused" }));
    expect(MessageId).toBeTruthy();
    expect(notifications(path)).toHaveLength(1);
  });

  test("a filter policy is kept but not applied to http subscriptions", async () => {
    const { topicArn, subscriptionArn, path } = await subscribed("filtered", { FilterPolicy: JSON.stringify({ severity: ["critical"] }) });
    const { Attributes } = await client.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }));
    expect(JSON.parse(Attributes?.FilterPolicy ?? "{}")).toEqual({ severity: ["critical"] });
    await client.send(new PublishCommand({ TopicArn: topicArn, Message: "no attributes at all" }));
    await waitFor("the unfiltered notification", () => (notifications(path).length ? true : undefined));
  });

  test("a DeliveryPolicy is accepted by Subscribe and dropped; SetSubscriptionAttributes refuses one", async () => {
    const policy = JSON.stringify({ healthyRetryPolicy: { numRetries: 5, minDelayTarget: 1, maxDelayTarget: 5 } });
    const { subscriptionArn } = await subscribed("delivery-policy", { DeliveryPolicy: policy });
    const { Attributes } = await client.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }));
    expect(Attributes?.DeliveryPolicy).toBeUndefined();
    await expect(
      client.send(new SetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn, AttributeName: "DeliveryPolicy", AttributeValue: policy })),
    ).rejects.toMatchObject({ name: "AWS.SimpleNotificationService.NonExistentSubscription" });
  });

  test("raw message delivery posts the message as a JSON string, without the raw-delivery header", async () => {
    const { topicArn, subscriptionArn, path } = await subscribed("raw");
    await client.send(new SetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn, AttributeName: "RawMessageDelivery", AttributeValue: "true" }));
    await client.send(new PublishCommand({ TopicArn: topicArn, Message: "plain text" }));
    const [n] = await waitFor("the raw notification", () => (notifications(path).length ? notifications(path) : undefined));
    expect(n.body).toBe('"plain text"');
    expect(n.headers["x-amz-sns-rawdelivery"]).toBeUndefined();
  });

  test("a SubscribeURL with a token goaws did not issue is answered 500; GetTopicAttributes is not implemented", async () => {
    const { topicArn } = await subscribed("bad-token");
    const res = await fetch(`${sns.endpoint}/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=not-issued`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("<Code>InternalFailure</Code>");
    const unknown = await fetch(sns.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ Action: "GetTopicAttributes", TopicArn: topicArn, Version: "2010-03-31" }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toBe("Bad Request");
  });
});
