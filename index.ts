/**
 * keywire: ServiceNow API-key authentication for Event Management, and the AWS
 * SNS topic that delivers CloudWatch alarms to it. One stack per environment
 * (stacks/Pulumi.<stack>.yaml). This file only reads validated configuration,
 * composes the components and exports what operators need.
 */
import { assertNodeVersion } from "./config/nodeVersion";
import { loadStackConfig } from "./config/stackConfig";
import { pulumiRawConfig, secretSetting } from "./config/pulumiConfig";
import { keywireStack } from "./config/keywireStack";
import { DEFAULT_TOKEN_CONFIG_KEY } from "./resources/servicenow";

// The engine runs this program with whatever `node` is first on PATH.
assertNodeVersion();
const cfg = loadStackConfig(pulumiRawConfig());
const operatorToken = cfg.hasOperatorToken ? secretSetting(DEFAULT_TOKEN_CONFIG_KEY) : undefined;
const out = keywireStack(cfg, operatorToken);

/** The SNS subscription endpoint, token included. Secret: `pulumi stack output --show-secrets inboundEndpoint`. */
export const inboundEndpoint = out.inboundEndpoint;
/** The SNS side, or `{ enabled: false }` on a stack without AWS (the local demo). */
export const sns = out.topicArn ? { topicArn: out.topicArn, subscriptionArn: out.subscriptionArn } : { enabled: false };
export const apiKeySysId = out.apiKeySysId;
export const tokenSource = out.tokenSource;
export const inboundProfileSysId = out.inboundProfileSysId;
export const tablePolicySysIds = out.tablePolicySysIds;
export const eventPolicySysId = out.eventPolicySysId;
export const pushConnectorSysId = out.pushConnectorSysId;
export const policyMode = out.policyMode;
export const integrationUser = out.integrationUser;
/** Whether the whole chain answered the last probe; a refresh probes again. */
export const verified = out.verified;
