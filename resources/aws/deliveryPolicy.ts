/**
 * The rule an SNS HTTP/S delivery policy must keep beyond each number's own
 * range, for the stack configuration and SnsEventIntegration alike. SNS refuses
 * a retry policy whose minimum delay exceeds its maximum only when the
 * subscription is written; checked here, it is refused before any call.
 */

export interface DelayTargets {
  minDelayTarget: number;
  maxDelayTarget: number;
}

export interface DeliveryPolicyProblem {
  /** The setting to change, e.g. "minDelayTarget". */
  path: string[];
  message: string;
}

export function deliveryPolicyProblems(p: DelayTargets): DeliveryPolicyProblem[] {
  if (p.minDelayTarget <= p.maxDelayTarget) return [];
  return [
    {
      path: ["minDelayTarget"],
      message:
        `must be at most maxDelayTarget (${p.maxDelayTarget}): SNS refuses a retry policy whose shortest delay exceeds its longest. ` +
        "Lower minDelayTarget or raise maxDelayTarget",
    },
  ];
}
