/**
 * The whole keywire stack from validated configuration: the API-key auth chain,
 * the push connector, the inbound endpoint and, unless turned off, the SNS side.
 * index.ts calls this; tests call it under mocks with each configuration.
 */
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./stackConfig";
import { ServiceNowApiKeyAuth, inboundEventEndpoint } from "../resources";
import { SnsEventIntegration } from "../resources/aws";
import { adoptsAny, chainAdoptionOf } from "../resources/servicenow";

export interface KeywireStackOutputs {
  inboundEndpoint: pulumi.Output<string>;
  topicArn?: pulumi.Output<string>;
  subscriptionArn?: pulumi.Output<string>;
  apiKeySysId: pulumi.Output<string>;
  tokenSource: pulumi.Output<string>;
  inboundProfileSysId: pulumi.Output<string>;
  tablePolicySysIds: pulumi.Output<string[]>;
  eventPolicySysId: pulumi.Output<string>;
  pushConnectorSysId: pulumi.Output<string>;
  policyMode: string;
  integrationUser: string;
  verified: pulumi.Output<boolean>;
}

export function keywireStack(cfg: StackConfig, operatorToken?: pulumi.Output<string>): KeywireStackOutputs {
  const adopt = chainAdoptionOf(cfg.adopt);
  if (adoptsAny(adopt)) {
    pulumi.log.warn(
      "keywire:adopt is set: this up takes the records an earlier deployment made over instead of creating them. " +
        "Once it has succeeded, remove it with `pulumi config rm keywire:adopt`: the key cannot be rotated while it is adopted (docs/runbook.md).",
    );
  }
  const auth = new ServiceNowApiKeyAuth("keywire", {
    namePrefix: cfg.namePrefix,
    integrationUser: cfg.integrationUser,
    policyMode: cfg.policyMode,
    keepBasicAuth: cfg.keepBasicAuth,
    apiKey: cfg.apiKey,
    operatorToken,
    rateLimit: cfg.rateLimit.enabled ? { requestsPerHour: cfg.rateLimit.requestsPerHour, limitColumn: cfg.rateLimit.limitColumn } : false,
    pushConnector: cfg.pushConnector,
    adopt,
  });

  const endpoint = inboundEventEndpoint({
    instanceUrl: cfg.instanceUrl,
    source: cfg.pushConnector.source,
    pushConnectorSysId: auth.pushConnectorSysId,
    token: auth.token,
  });

  const sns = cfg.sns.enabled
    ? new SnsEventIntegration("keywire-sns", {
        endpoint,
        topicName: cfg.sns.topicName,
        existingTopicArn: cfg.sns.existingTopicArn,
        deliveryPolicy: cfg.sns.deliveryPolicy,
        deadLetterQueueArn: cfg.sns.deadLetterQueueArn,
        confirmationTimeoutInMinutes: cfg.sns.confirmationTimeoutInMinutes,
        allowCloudWatchAlarms: cfg.sns.allowCloudWatchAlarms,
      })
    : undefined;

  return {
    inboundEndpoint: endpoint,
    topicArn: sns?.topicArn,
    subscriptionArn: sns?.subscriptionArn,
    apiKeySysId: auth.keySysId,
    tokenSource: auth.tokenSource,
    inboundProfileSysId: auth.profileSysId,
    tablePolicySysIds: auth.tablePolicySysIds,
    eventPolicySysId: auth.eventPolicySysId,
    pushConnectorSysId: auth.pushConnectorSysId,
    policyMode: cfg.policyMode,
    integrationUser: auth.userName,
    verified: auth.verified,
  };
}
