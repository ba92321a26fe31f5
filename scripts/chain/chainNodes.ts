/**
 * The boxes of the chain every SNS delivery depends on, and which box a resource type
 * or a broken link id belongs to. The drift report and the chain diagram both read
 * these; neither needs the other for it.
 */
import { isChainLinkId, nodeOfLink } from "../../resources/servicenow/checks/chainLinks";

export const CHAIN = [
  { id: "user", label: "integration user" },
  { id: "key", label: "API key" },
  { id: "profile", label: "inbound profile" },
  { id: "link", label: "policy link" },
  { id: "policy", label: "access policy" },
  { id: "endpoint", label: "event endpoint" },
  { id: "sns", label: "SNS subscription" },
] as const;

export type ChainNodeId = (typeof CHAIN)[number]["id"];

/** Which link a resource type is, by its type token's last part; undefined when it is not on the chain. */
export function nodeForType(type: string): ChainNodeId | undefined {
  const name = type.split(":").pop() ?? type;
  switch (name) {
    case "ServiceNowUser":
    case "UserRoleGrant":
      return "user";
    case "ApiKey":
      return "key";
    case "InboundProfile":
      return "profile";
    case "AccessPolicyProfileLink":
      return "link";
    case "AccessPolicy":
      return "policy";
    case "PushConnector":
      return "endpoint";
    case "Topic":
    case "TopicPolicy":
    case "TopicSubscription":
      return type.startsWith("aws:sns/") ? "sns" : undefined;
    default:
      return undefined;
  }
}

/**
 * Which box a broken link id names (ApiKeyVerification's `brokenLinkId`); undefined
 * for an answer that proves nothing either way (`instance.unknown`), which no box owns.
 */
export function nodeForLink(id: unknown): ChainNodeId | undefined {
  if (!isChainLinkId(id)) return undefined;
  const node = nodeOfLink(id);
  return node === "instance" ? undefined : node;
}
