/**
 * The links of the chain an SNS delivery depends on, as data: the verification
 * names the broken one by id, and drift, the audit and the chain diagram read the id,
 * never the sentence. An id is `<node>.<what>`, where the node is the chain's box
 * that breaks (the integration user, the key, the profile, a policy link, a policy,
 * the event endpoint) or `instance` when the answer proves nothing either way.
 */

export const CHAIN_LINK_IDS = [
  "user.missing",
  "user.inactive",
  "user.roles",
  "key.missing",
  "key.inactive",
  "key.expired",
  "key.token",
  "key.scope",
  "profile.missing",
  "profile.inactive",
  "profile.keyLocation",
  "policy.tableNone",
  "link.table",
  "policy.eventNone",
  "link.event",
  "endpoint.connectorMissing",
  "endpoint.connectorInactive",
  "endpoint.source",
  "endpoint.eventManagement",
  "instance.unknown",
] as const;

export type ChainLinkId = (typeof CHAIN_LINK_IDS)[number];

/** The chain's boxes, in the order a delivery passes them; `instance` is no box. */
export type ChainNode = "user" | "key" | "profile" | "link" | "policy" | "endpoint" | "instance";

export function isChainLinkId(s: unknown): s is ChainLinkId {
  return typeof s === "string" && (CHAIN_LINK_IDS as readonly string[]).includes(s);
}

export function nodeOfLink(id: ChainLinkId): ChainNode {
  return id.slice(0, id.indexOf(".")) as ChainNode;
}

/** The first broken link: which, why in words, and since when, where a record's change tells. */
export interface BrokenLink {
  id: ChainLinkId;
  /** What broke and what to do, for people. */
  message: string;
  /** `YYYY-MM-DD HH:MM:SS` UTC: when the record that breaks the chain was last changed; "" when no record tells. */
  since: string;
}

export function brokenLink(id: ChainLinkId, message: string, since = ""): BrokenLink {
  return { id, message, since };
}
