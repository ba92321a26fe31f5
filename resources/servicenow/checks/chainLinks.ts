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

/** What a person runs once the link is repaired or to repair it, by link; drift and the audit print it beside the message. */
export const LINK_REMEDY: Record<ChainLinkId, string> = {
  "user.missing": "point the key at an existing user (or let keywire create it), then pulumi up --refresh",
  "user.inactive": "re-activate the integration user on the instance, then pulumi up --refresh",
  "user.roles": "pulumi up --refresh (keywire grants the roles it manages back)",
  "key.missing": "pulumi up --refresh (a new key; on the manual token route it stops for the token)",
  "key.inactive": "pulumi up --refresh (keywire re-activates its key)",
  "key.expired": "rotate the key: change keywire:apiKey.rotation.trigger, then pulumi up",
  "key.token": "copy the key's token again into the token config key, then pulumi up --refresh",
  "key.scope": "give the key the useraccount auth scope (keywire:apiKey.authScopes), then pulumi up",
  "profile.missing": "pulumi up --refresh (keywire recreates its profile)",
  "profile.inactive": "pulumi up --refresh (keywire re-activates its profile)",
  "profile.keyLocation": "pulumi up --refresh (keywire switches the profile back to the query parameter)",
  "policy.tableNone": "pulumi up --refresh (keywire re-activates or recreates its Table API policy)",
  "link.table": "link keywire's profile to the named policy or deactivate that policy on the instance, then pulumi up --refresh",
  "policy.eventNone": "pulumi up --refresh (keywire re-activates or recreates its Event Management policy)",
  "link.event": "link keywire's profile to the named policy or deactivate that policy on the instance, then pulumi up --refresh",
  "endpoint.connectorMissing": "pulumi up --refresh (keywire recreates or re-adopts the push connector; the SNS endpoint follows)",
  "endpoint.connectorInactive": "activate the push connector and its definition in Event Management, then pulumi up --refresh",
  "endpoint.source": "set keywire:pushConnector.source to the definition's source, then pulumi up",
  "endpoint.eventManagement": "activate the Event Management plugin on the instance, then pulumi up --refresh",
  "instance.unknown": "check that the instance answers normally (not asleep, no proxy in the way), then run the check again",
};

export function brokenLink(id: ChainLinkId, message: string, since = ""): BrokenLink {
  return { id, message, since };
}
