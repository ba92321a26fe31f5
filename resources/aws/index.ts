/**
 * `keywire/aws`: the AWS side — the SNS topic that delivers CloudWatch alarms to
 * ServiceNow's inbound endpoint, and the publication of a key to Secrets Manager.
 */
// First: says what to install when @pulumi/aws (an optional peer dependency) is missing.
import "./requirePeer";
export { SnsEventIntegration, deliveryPolicyJson, type SnsEventIntegrationArgs, type DeliveryPolicySettings } from "./snsEventIntegration";
export { deliveryPolicyProblems, type DelayTargets, type DeliveryPolicyProblem } from "./deliveryPolicy";
export {
  KeyDistribution,
  KEY_DISTRIBUTION_TYPE,
  freshserviceKeyPayload,
  ivantiKeyPayload,
  stableJson,
  type KeyDistributionArgs,
} from "./secretsManagerDistribution";
