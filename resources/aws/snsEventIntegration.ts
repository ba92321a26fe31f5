/**
 * SnsEventIntegration: an SNS topic (or an existing one) whose HTTPS subscription
 * delivers to ServiceNow's Event Management inbound endpoint.
 *
 * - Raw message delivery stays off: the connector reads the SNS envelope and needs
 *   the `x-amz-sns-message-type` header.
 * - The connector confirms the subscription itself, so the subscription waits for
 *   it (`endpointAutoConfirms`) with a timeout that leaves room for a slow instance.
 * - The endpoint carries the token: it is a secret output, and a new token means a
 *   new subscription, created before the old one is deleted so no alarm is lost.
 * - CloudWatch alarms may publish to the topic; nobody else is granted anything.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deliveryPolicyProblems } from "./deliveryPolicy";

export interface DeliveryPolicySettings {
  numRetries: number;
  minDelayTarget: number;
  maxDelayTarget: number;
  backoffFunction: "linear" | "arithmetic" | "geometric" | "exponential";
  maxReceivesPerSecond?: number;
}

export interface SnsEventIntegrationArgs {
  /** The inbound endpoint with the token (see eventEndpoint.ts); must be secret. */
  endpoint: pulumi.Input<string>;
  topicName?: string;
  existingTopicArn?: string;
  deliveryPolicy: DeliveryPolicySettings;
  deadLetterQueueArn?: string;
  confirmationTimeoutInMinutes: number;
  allowCloudWatchAlarms: boolean;
}

/** SNS's subscription delivery policy JSON for HTTP/S endpoints. */
export function deliveryPolicyJson(p: DeliveryPolicySettings): string {
  return JSON.stringify({
    healthyRetryPolicy: {
      minDelayTarget: p.minDelayTarget,
      maxDelayTarget: p.maxDelayTarget,
      numRetries: p.numRetries,
      backoffFunction: p.backoffFunction,
    },
    ...(p.maxReceivesPerSecond ? { throttlePolicy: { maxReceivesPerSecond: p.maxReceivesPerSecond } } : {}),
    requestPolicy: { headerContentType: "text/plain; charset=UTF-8" },
  });
}

export class SnsEventIntegration extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;
  readonly subscriptionArn: pulumi.Output<string>;
  /** Secret. */
  readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: SnsEventIntegrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keywire:aws:SnsEventIntegration", name, {}, opts);
    const child = { parent: this };
    if (!args.topicName === !args.existingTopicArn) {
      throw new Error("SnsEventIntegration: give exactly one of topicName and existingTopicArn");
    }
    const policyProblem = deliveryPolicyProblems(args.deliveryPolicy)[0];
    if (policyProblem) {
      throw new pulumi.ResourceError(`SnsEventIntegration.deliveryPolicy.${policyProblem.path.join(".")}: ${policyProblem.message}`, this, true);
    }

    let topicArn: pulumi.Output<string>;
    if (args.topicName) {
      const topic = new aws.sns.Topic(`${name}-topic`, { name: args.topicName, signatureVersion: 2 }, child);
      topicArn = topic.arn;
      if (args.allowCloudWatchAlarms) {
        new aws.sns.TopicPolicy(
          `${name}-topic-policy`,
          {
            arn: topic.arn,
            policy: topic.arn.apply((arn) =>
              JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                  {
                    Sid: "AllowCloudWatchAlarmsToPublish",
                    Effect: "Allow",
                    Principal: { Service: "cloudwatch.amazonaws.com" },
                    Action: "sns:Publish",
                    Resource: arn,
                  },
                ],
              }),
            ),
          },
          child,
        );
      }
    } else {
      topicArn = pulumi.output(args.existingTopicArn as string);
    }

    const endpoint = pulumi.secret(args.endpoint);
    const subscription = new aws.sns.TopicSubscription(
      `${name}-subscription`,
      {
        topic: topicArn,
        protocol: "https",
        endpoint,
        endpointAutoConfirms: true,
        confirmationTimeoutInMinutes: args.confirmationTimeoutInMinutes,
        rawMessageDelivery: false,
        deliveryPolicy: deliveryPolicyJson(args.deliveryPolicy),
        redrivePolicy: args.deadLetterQueueArn ? JSON.stringify({ deadLetterTargetArn: args.deadLetterQueueArn }) : undefined,
      },
      // The endpoint forces replacement; the default create-before-delete order keeps
      // deliveries flowing while the token changes. Stated here so nobody flips it.
      { ...child, additionalSecretOutputs: ["endpoint"], deleteBeforeReplace: false },
    );

    this.topicArn = topicArn;
    this.subscriptionArn = subscription.arn;
    this.endpoint = endpoint;
    this.registerOutputs({ topicArn: this.topicArn, subscriptionArn: this.subscriptionArn, endpoint: this.endpoint });
  }
}
