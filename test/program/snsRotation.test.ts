/**
 * A rotated token is a new endpoint, hence a new SNS subscription (endpoint forces
 * replacement). The new subscription must exist before the old one goes, so no
 * alarm is dropped while the key changes.
 */
import * as pulumi from "@pulumi/pulumi";
import { Registered, mockRuntime, settle, unwrap } from "../support/programMocks";
import { SnsEventIntegration } from "../../resources/aws/snsEventIntegration";
import { inboundEventEndpoint } from "../../resources/servicenow/components/eventEndpoint";

jest.setTimeout(120_000);

const registered: Registered[] = [];
beforeAll(async () => {
  await mockRuntime("unused", registered);
});

async function deploy(name: string, token: string) {
  const seen: pulumi.ResourceTransformationArgs[] = [];
  const endpoint = inboundEventEndpoint({
    instanceUrl: "https://dev12345.service-now.com",
    source: "aws",
    pushConnectorSysId: "0123456789abcdef0123456789abcdef",
    token: pulumi.secret(token),
  });
  const sns = new SnsEventIntegration(
    name,
    {
      endpoint,
      topicName: "alarms",
      deliveryPolicy: { numRetries: 3, minDelayTarget: 20, maxDelayTarget: 20, backoffFunction: "linear" },
      deadLetterQueueArn: "arn:aws:sqs:eu-west-1:123456789012:dlq",
      confirmationTimeoutInMinutes: 5,
      allowCloudWatchAlarms: true,
    },
    {
      transformations: [
        (args) => {
          seen.push(args);
          return undefined;
        },
      ],
    },
  );
  await settle(sns.subscriptionArn);
  await new Promise((r) => setTimeout(r, 20));
  const sub = registered.find((r) => r.type === "aws:sns/topicSubscription:TopicSubscription" && r.name === `${name}-subscription`)!;
  const subOpts = seen.find((s) => s.type === "aws:sns/topicSubscription:TopicSubscription")!.opts as pulumi.CustomResourceOptions;
  return { sub, subOpts, endpoint: await settle(sns.endpoint) };
}

test("a new token gives a new endpoint, replaced create-before-delete, and stays secret", async () => {
  const before = await deploy("before", "now_first");
  const after = await deploy("after", "now_second");
  expect(unwrap(before.sub.inputs.endpoint)).not.toBe(unwrap(after.sub.inputs.endpoint));
  expect(String(unwrap(after.sub.inputs.endpoint))).toContain("x-sn-apikey=now_second");
  expect(after.subOpts.deleteBeforeReplace).toBe(false);
  expect(after.subOpts.additionalSecretOutputs).toContain("endpoint");
  expect(after.endpoint.secret).toBe(true);
  expect(JSON.parse(String(after.sub.inputs.redrivePolicy))).toEqual({ deadLetterTargetArn: "arn:aws:sqs:eu-west-1:123456789012:dlq" });
});

test("a delivery policy whose shortest delay exceeds its longest is refused before any AWS resource", () => {
  const before = registered.length;
  expect(
    () =>
      new SnsEventIntegration("bad-policy", {
        endpoint: pulumi.secret("https://dev12345.service-now.com/api/sn_em_connector/em/inbound_event"),
        topicName: "alarms",
        deliveryPolicy: { numRetries: 3, minDelayTarget: 60, maxDelayTarget: 20, backoffFunction: "linear" },
        confirmationTimeoutInMinutes: 5,
        allowCloudWatchAlarms: true,
      }),
  ).toThrow(/SnsEventIntegration\.deliveryPolicy\.minDelayTarget: must be at most maxDelayTarget \(20\)/);
  expect(registered.slice(before).filter((r) => r.type.startsWith("aws:"))).toEqual([]);
});
