/**
 * ApiKeyVerification: proves the whole chain behind an API key — key, inbound
 * profile, access policy, the key's user and its roles — the way the connector
 * guide's curl check does, and proves it again on every refresh, so a chain that
 * broke after deployment shows as drift in `pulumi preview --refresh`.
 *
 * When the probe is refused, keywire looks at the records (with the deploying
 * identity) and names the link that broke: the key inactive, expired or gone; the
 * user inactive or missing a role; the profile inactive or expecting the key
 * elsewhere (header vs query); a policy that outranks yours and does not admit the
 * profile; or the deploying identity itself refused (credentials, roles, Basic
 * Auth Restriction).
 */
import * as pulumi from "@pulumi/pulumi";
import { q } from "../client/encodedQuery";
import type { SnRecord } from "../client/tableClient";
import { AdoptionInputs, SERVICENOW_MODULE, withSecretConnection } from "../engine/spec";
import type { ConnectionArgs } from "../client/connection";
import { containsUnknown } from "../../core/unknown";
import { EngineContext, Runtime, createRuntime } from "../engine/runtime";
import { parseDateTime } from "../engine/glideDateTime";
import { probeToken, tableProbe } from "../apiKey/probe";
import { EVENT_MANAGEMENT_API_PATH, TABLE_API_PATH } from "../records/accessPolicy";
import { INBOUND_EVENT_PATH } from "../components/eventEndpoint";
import { BrokenLink, ChainLinkId, brokenLink } from "./chainLinks";
import { POLICY_FIELDS, PolicyRequest, winningPolicy } from "./policyResolution";
import { failRunWithReportedError } from "../../core/reportedFailure";
import { EventTarget, EventVerdict, probeEventEndpoint } from "./eventProbe";
import { NamedProvider, ReferencedResource, providerReference, referencedProvider } from "../../core/providerLoading/providerReference";

interface VerificationInputs {
  /** The instance to check, instead of the stack's `servicenow:*` settings. */
  connection?: ConnectionArgs;
  token: string;
  keySysId: string;
  profileSysId: string;
  /** Roles the key's user must hold (e.g. evt_mgmt_integration). */
  requiredRoles: string[];
  /** Table API table the probe reads (one row, sys_id only). */
  probeTable: string;
  via: "header" | "query";
  /** The Event Management endpoint SNS posts to: proven too, as SNS calls it, when given. */
  event?: EventTarget;
}

interface VerificationOutputs extends VerificationInputs {
  verified: boolean;
  /** What the table probe's answer was ("HTTP 200 with ServiceNow's JSON result", "HTTP 401: …", "an HTML page …"). */
  probeSaw: string;
  /** What the event probe's answer was; "" when there is no event endpoint or the chain broke before it. */
  eventProbeSaw: string;
  /** Empty when verified; otherwise which link broke and what to do, for people. */
  brokenLink: string;
  /** Empty when verified; otherwise the broken link's id (chainLinks.ts), for drift and the audit. */
  brokenLinkId: ChainLinkId | "";
  /** When the record that breaks the chain last changed (`YYYY-MM-DD HH:MM:SS` UTC); "" when unknown. */
  brokenSince: string;
}

/** The Table API request the table probe makes: unversioned calls are served by the API's default version. */
function tableRequest(table: string): PolicyRequest {
  return { apiPath: TABLE_API_PATH, method: "GET", resource: `/now/table/${table}`, version: "v2", table };
}

/** The request SNS makes: a POST to the Event Management API's inbound_event resource. */
const EVENT_REQUEST: PolicyRequest = {
  apiPath: EVENT_MANAGEMENT_API_PATH,
  method: "POST",
  resource: INBOUND_EVENT_PATH.replace(/^\/api/, ""),
  version: "v1",
};

/** When a record was last changed, as the instance keeps it. */
function changedAt(r: SnRecord | undefined): string {
  return r?.sys_updated_on || r?.sys_created_on || "";
}

/**
 * A key can authenticate and still be useless: the Event Management endpoint
 * needs the user's roles, which a Table API probe cannot show.
 */
async function missingRoles(ctx: EngineContext, roles: string[], user: { sys_id: string; user_name: string }): Promise<BrokenLink | undefined> {
  if (roles.length === 0) return undefined;
  const grants = await ctx.client.list("sys_user_has_role", {
    query: q().eq("user", user.sys_id).build(),
    fields: ["role.name"],
  });
  const held = new Set(grants.map((g) => g["role.name"]));
  const missing = roles.filter((r) => !held.has(r));
  if (missing.length === 0) return undefined;
  const them = missing.length > 1 ? "them" : "it";
  return brokenLink(
    "user.roles",
    `the key's user ${user.user_name} is missing the role${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: grant ${them} (UserRoleGrant), then run pulumi up`,
  );
}

/** The links every API-key request passes, in the order the instance checks them: key, user, roles, profile. */
async function diagnoseKeyChain(ctx: EngineContext, inputs: VerificationInputs): Promise<BrokenLink | undefined> {
  const key = await ctx.client.get("api_key", inputs.keySysId, { fields: ["sys_id", "active", "expires", "user", "sys_updated_on"] });
  if (!key) return brokenLink("key.missing", `the key record ${inputs.keySysId} no longer exists: run pulumi up to create a new one`);
  if (key.active !== "true") return brokenLink("key.inactive", "the key is inactive: run pulumi up to re-activate it", changedAt(key));
  const expires = key.expires ? parseDateTime(key.expires) : undefined;
  if (expires && expires.getTime() <= Date.now()) {
    return brokenLink("key.expired", `the key expired at ${key.expires} UTC: rotate it (change rotation.trigger) or raise its expiry`, key.expires);
  }
  const user = key.user ? await ctx.client.get("sys_user", key.user, { fields: ["sys_id", "active", "user_name", "locked_out", "sys_updated_on"] }) : undefined;
  if (!user) return brokenLink("user.missing", "the key's user no longer exists: point the key at an existing user");
  if (user.active !== "true" || user.locked_out === "true") {
    return brokenLink("user.inactive", `the key's user ${user.user_name} is inactive or locked out: re-activate it`, changedAt(user));
  }
  const roles = await missingRoles(ctx, inputs.requiredRoles, { sys_id: user.sys_id ?? "", user_name: user.user_name ?? "" });
  if (roles) return roles;
  const profile = await ctx.client.get("http_key_auth", inputs.profileSysId, { fields: ["sys_id", "active", "auth_parameter.type", "name", "sys_updated_on"] });
  if (!profile) return brokenLink("profile.missing", "the inbound profile no longer exists: run pulumi up to recreate it");
  if (profile.active !== "true")
    return brokenLink("profile.inactive", `the inbound profile "${profile.name}" is inactive: run pulumi up to re-activate it`, changedAt(profile));
  const isHeader = profile["auth_parameter.type"] === "auth_header";
  if (isHeader !== (inputs.via === "header")) {
    return brokenLink(
      "profile.keyLocation",
      `the inbound profile "${profile.name}" expects the key in the ${isHeader ? "header" : "query parameter"}, but it is sent in the ${inputs.via === "header" ? "header" : "query parameter"}: run pulumi up to switch it back`,
      changedAt(profile),
    );
  }
  return undefined;
}

/** The policy that governs `req` and whether it admits the profile; undefined when it does. */
async function diagnosePolicy(ctx: EngineContext, inputs: VerificationInputs, req: PolicyRequest, api: "table" | "event"): Promise<BrokenLink | undefined> {
  const policies = await ctx.client.list("sys_api_access_policy", {
    query: q().eq("api_path", req.apiPath).or().eq("apply_global", "true").build(),
    fields: POLICY_FIELDS,
  });
  const winner = winningPolicy(policies, req);
  const what = api === "table" ? `the Table API (GET ${req.table})` : `the Event Management API (${req.method} ${req.apiPath})`;
  if (!winner || winner.apply_global === "true") {
    return brokenLink(
      api === "table" ? "policy.tableNone" : "policy.eventNone",
      `no active access policy applies to ${what}, so token auth falls to the global policy, which never admits it: run pulumi up to re-activate or recreate keywire's`,
    );
  }
  const links = await ctx.client.list("sys_auth_profile_mapping", {
    query: q().eq("api_access_policy", winner.sys_id).build(),
    fields: ["inbound_auth_profile"],
  });
  if (links.some((l) => l.inbound_auth_profile === inputs.profileSysId)) return undefined;
  return brokenLink(
    api === "table" ? "link.table" : "link.event",
    `the policy "${winner.name}" (sys_id ${winner.sys_id}) outranks the others for ${what} and does not admit keywire's inbound profile: ` +
      "link the profile to it (AccessPolicyProfileLink) or deactivate it, then run pulumi up --refresh",
    changedAt(winner),
  );
}

/** Finds the first broken link behind a refused table probe, in the order the instance checks them. */
async function diagnose(ctx: EngineContext, inputs: VerificationInputs): Promise<BrokenLink> {
  return (
    (await diagnoseKeyChain(ctx, inputs)) ??
    (await diagnosePolicy(ctx, inputs, tableRequest(inputs.probeTable), "table")) ??
    brokenLink(
      "key.token",
      "every record looks right, yet the instance refused the key: check that the token belongs to this key (copy it again) and the instance's system log",
    )
  );
}

/** The Event Management API's own definition; absent or inactive when its plugin is not active. */
async function eventApiMissing(ctx: EngineContext): Promise<boolean> {
  const defs = await ctx.client.list("sys_ws_definition", {
    query: q().eq("namespace", "sn_em_connector").eq("service_id", "em").build(),
    fields: ["sys_id", "active"],
  });
  return !defs.some((d) => d.active !== "false");
}

const EVENT_API_MISSING = brokenLink(
  "endpoint.eventManagement",
  "the Event Management inbound API (sn_em_connector/em) is not on the instance: activate the Event Management plugin, then run pulumi up --refresh",
);

/** The push connector and its definition, as the endpoint's `sys_id` and `source` name them. */
async function diagnoseConnector(ctx: EngineContext, target: EventTarget): Promise<BrokenLink | undefined> {
  const instance = await ctx.client.get("sn_em_connector_push_instance", target.pushConnectorSysId, {
    fields: ["sys_id", "name", "active", "push_connector_definition", "sys_updated_on"],
  });
  if (!instance) {
    return brokenLink(
      "endpoint.connectorMissing",
      `the push connector instance ${target.pushConnectorSysId} that the endpoint names no longer exists: run pulumi up to recreate or re-adopt it`,
    );
  }
  if (instance.active !== "true") {
    return brokenLink(
      "endpoint.connectorInactive",
      `the push connector "${instance.name}" is inactive: run pulumi up --refresh to re-activate it, or activate it in Event Management`,
      changedAt(instance),
    );
  }
  const definition = instance.push_connector_definition
    ? await ctx.client.get("sn_em_connector_listener", instance.push_connector_definition, { fields: ["sys_id", "name", "active", "source", "sys_updated_on"] })
    : undefined;
  if (!definition || definition.active !== "true") {
    return brokenLink(
      "endpoint.connectorInactive",
      `the push connector definition of "${instance.name}" is ${definition ? "inactive" : "gone"}: activate the AWS push connector definition in Event Management`,
      changedAt(definition),
    );
  }
  if (definition.source !== target.source) {
    return brokenLink(
      "endpoint.source",
      `the endpoint sends source=${target.source} but the push connector's definition expects source=${definition.source}: set keywire:pushConnector.source`,
      changedAt(definition),
    );
  }
  return undefined;
}

/** Names the broken link behind an event probe that did not deliver. */
async function diagnoseEvent(ctx: EngineContext, inputs: VerificationInputs, target: EventTarget, verdict: EventVerdict): Promise<BrokenLink> {
  if (verdict.outcome === "unknown") {
    return brokenLink(
      "instance.unknown",
      `the event probe saw ${verdict.seen}, which neither proves nor refuses delivery: check that the instance answers normally and run again`,
    );
  }
  if (verdict.outcome === "rejected") {
    if (/does not represent any resource/i.test(verdict.message ?? "") || (await eventApiMissing(ctx))) return EVENT_API_MISSING;
    return (
      (await diagnoseConnector(ctx, target)) ??
      brokenLink("instance.unknown", `the Event Management API refused the event (${verdict.seen}): check the push connector and the instance's system log`)
    );
  }
  if (verdict.outcome === "forbidden") {
    const key = await ctx.client.get("api_key", inputs.keySysId, { fields: ["user.sys_id", "user.user_name"] });
    const user = { sys_id: key?.["user.sys_id"] ?? "", user_name: key?.["user.user_name"] ?? "" };
    const roles = await missingRoles(ctx, [...new Set(["evt_mgmt_integration", ...inputs.requiredRoles])], user);
    return (
      roles ??
      brokenLink(
        "key.scope",
        `the Event Management API refused the authenticated key (${verdict.seen}): give the key the useraccount auth scope or one that grants this API`,
      )
    );
  }
  // Refused: the token was good for the Table API, so the Event Management API's own policy is the suspect.
  if (await eventApiMissing(ctx)) return EVENT_API_MISSING;
  return (
    (await diagnoseKeyChain(ctx, inputs)) ??
    (await diagnosePolicy(ctx, inputs, EVENT_REQUEST, "event")) ??
    brokenLink(
      "instance.unknown",
      "every record looks right, yet the Event Management API refused the key: check its access policies and the instance's system log",
    )
  );
}

async function verify(ctx: EngineContext, inputs: VerificationInputs): Promise<VerificationOutputs> {
  const broken = (probeSaw: string, link: BrokenLink, eventProbeSaw = ""): VerificationOutputs => ({
    ...inputs,
    verified: false,
    probeSaw,
    eventProbeSaw,
    brokenLink: link.message,
    brokenLinkId: link.id,
    brokenSince: link.since,
  });
  const probe = await probeToken(ctx, inputs.token, tableProbe(inputs.probeTable, inputs.via));
  if (probe.outcome === "unknown") {
    return broken(
      probe.seen,
      brokenLink(
        "instance.unknown",
        `the probe saw ${probe.seen}, which neither proves nor refuses the key: check that the instance answers normally and run again`,
      ),
    );
  }
  if (probe.outcome === "refused") return broken(probe.seen, await diagnose(ctx, inputs));
  if (inputs.requiredRoles.length > 0) {
    const key = await ctx.client.get("api_key", inputs.keySysId, { fields: ["user.sys_id", "user.user_name"] });
    const user = { sys_id: key?.["user.sys_id"] ?? "", user_name: key?.["user.user_name"] ?? "" };
    const missing = await missingRoles(ctx, inputs.requiredRoles, user);
    if (missing) return broken(probe.seen, missing);
  }
  let eventProbeSaw = "";
  if (inputs.event) {
    const event = await probeEventEndpoint(ctx, inputs.token, inputs.event);
    eventProbeSaw = event.seen;
    if (event.outcome !== "delivered") return broken(probe.seen, await diagnoseEvent(ctx, inputs, inputs.event, event), event.seen);
  }
  return { ...inputs, verified: true, probeSaw: probe.seen, eventProbeSaw, brokenLink: "", brokenLinkId: "", brokenSince: "" };
}

/** What a person reads when the chain is broken: the link, since when, and what the probes saw. */
function brokenChainMessage(out: Pick<VerificationOutputs, "brokenLink" | "brokenLinkId" | "brokenSince" | "probeSaw" | "eventProbeSaw">): string {
  const saw = out.eventProbeSaw ? `the table probe saw ${out.probeSaw}; the event probe saw ${out.eventProbeSaw}` : `the probe saw ${out.probeSaw}`;
  const since = out.brokenSince ? ` (since ${out.brokenSince} UTC)` : "";
  return `the chain SNS delivers through is broken at ${out.brokenLinkId}${since}: ${out.brokenLink} [${saw}]`;
}

function verificationProvider(): NamedProvider {
  let runtime: Runtime = createRuntime(undefined);
  return {
    typeName: "ApiKeyVerification",
    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      runtime = createRuntime(req.config);
    },

    async check(_olds: VerificationInputs, news: VerificationInputs): Promise<pulumi.dynamic.CheckResult> {
      const failures: pulumi.dynamic.CheckFailure[] = [];
      if (!/^[0-9a-f]{32}$/.test(String(news.keySysId ?? ""))) failures.push({ property: "keySysId", reason: "ApiKeyVerification.keySysId: must be a sys_id" });
      if (!/^[0-9a-f]{32}$/.test(String(news.profileSysId ?? "")))
        failures.push({ property: "profileSysId", reason: "ApiKeyVerification.profileSysId: must be a sys_id" });
      if (!/^[a-z0-9_]+$/.test(String(news.probeTable ?? "")))
        failures.push({ property: "probeTable", reason: "ApiKeyVerification.probeTable: must be a table name" });
      if (news.via !== "header" && news.via !== "query") failures.push({ property: "via", reason: 'ApiKeyVerification.via: must be "header" or "query"' });
      if (typeof news.token !== "string" || news.token === "") failures.push({ property: "token", reason: "ApiKeyVerification.token: is required" });
      if (news.event !== undefined && !containsUnknown(news.event)) {
        const e = news.event as Partial<EventTarget>;
        if (
          typeof e !== "object" ||
          e === null ||
          !/^[a-z0-9_]{1,80}$/.test(String(e.source ?? "")) ||
          !/^[0-9a-f]{32}$/.test(String(e.pushConnectorSysId ?? ""))
        ) {
          failures.push({
            property: "event",
            reason: 'ApiKeyVerification.event: must be { source: "aws" or another source value, pushConnectorSysId: a sys_id }',
          });
        }
      }
      // Values from other resources are unknown during a preview: checked once known.
      return { inputs: news, failures: failures.filter((f) => !containsUnknown(news[f.property as keyof VerificationInputs])) };
    },

    async diff(_id: string, olds: VerificationOutputs, news: VerificationInputs): Promise<pulumi.dynamic.DiffResult> {
      const changed =
        olds.verified !== true ||
        olds.token !== news.token ||
        olds.keySysId !== news.keySysId ||
        olds.profileSysId !== news.profileSysId ||
        olds.via !== news.via ||
        olds.probeTable !== news.probeTable ||
        JSON.stringify(olds.requiredRoles) !== JSON.stringify(news.requiredRoles) ||
        JSON.stringify(olds.event ?? null) !== JSON.stringify(news.event ?? null) ||
        JSON.stringify(olds.connection ?? {}) !== JSON.stringify(news.connection ?? {});
      return { changes: changed };
    },

    // A broken chain is recorded, not thrown: the state (and so the stack's outputs)
    // must say verified: false. The resource fails the up from the program (below).
    async create(inputs: VerificationInputs): Promise<pulumi.dynamic.CreateResult> {
      return { id: `verify-${inputs.keySysId}`, outs: await verify(runtime.context(inputs.connection), inputs) };
    },

    async read(id: string, props: VerificationOutputs): Promise<pulumi.dynamic.ReadResult> {
      // A refresh probes again: a chain that broke since the last up reads as verified: false.
      return { id, props: await verify(runtime.context(props.connection), props) };
    },

    async update(_id: string, _olds: VerificationOutputs, news: VerificationInputs): Promise<pulumi.dynamic.UpdateResult> {
      return { outs: await verify(runtime.context(news.connection), news) };
    },

    async delete(): Promise<void> {
      // Nothing on the instance belongs to a verification.
    },
  };
}

export const apiKeyVerificationProvider = referencedProvider(verificationProvider(), providerReference("keywire/servicenow", "apiKeyVerificationProvider"));

export interface ApiKeyVerificationArgs {
  connection?: AdoptionInputs["connection"];
  token: pulumi.Input<string>;
  keySysId: pulumi.Input<string>;
  profileSysId: pulumi.Input<string>;
  requiredRoles?: pulumi.Input<pulumi.Input<string>[]>;
  /** Default `incident`, as in the connector guide's curl check. */
  probeTable?: pulumi.Input<string>;
  via: pulumi.Input<"header" | "query">;
  /** The Event Management endpoint SNS posts to (its `source` and push connector): proven as SNS calls it. */
  event?: pulumi.Input<{ source: pulumi.Input<string>; pushConnectorSysId: pulumi.Input<string> }>;
}

export class ApiKeyVerification extends ReferencedResource {
  declare readonly verified: pulumi.Output<boolean>;
  declare readonly brokenLink: pulumi.Output<string>;
  declare readonly brokenLinkId: pulumi.Output<ChainLinkId | "">;
  declare readonly brokenSince: pulumi.Output<string>;
  declare readonly probeSaw: pulumi.Output<string>;
  declare readonly eventProbeSaw: pulumi.Output<string>;

  constructor(name: string, args: ApiKeyVerificationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      apiKeyVerificationProvider,
      name,
      {
        verified: undefined,
        brokenLink: undefined,
        brokenLinkId: undefined,
        brokenSince: undefined,
        probeSaw: undefined,
        eventProbeSaw: undefined,
        requiredRoles: [],
        probeTable: "incident",
        ...withSecretConnection(args),
        token: pulumi.secret(args.token),
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      SERVICENOW_MODULE,
      "ApiKeyVerification",
    );
    // The up fails here, once, naming the link, after the state has recorded verified: false.
    // The output still resolves to false, so a failed up leaves the stack's outputs saying so
    // (the engine keeps outputs registered before a failure). A preview never knows the result.
    const recorded = this.verified;
    this.verified = pulumi
      .all([recorded, this.brokenLink, this.brokenLinkId, this.brokenSince, this.probeSaw, this.eventProbeSaw])
      .apply(([verified, link, id, since, probeSaw, eventProbeSaw]) => {
        if (verified === false && !pulumi.runtime.isDryRun()) {
          const message = brokenChainMessage({ brokenLink: link, brokenLinkId: id, brokenSince: since, probeSaw, eventProbeSaw });
          failRunWithReportedError(`${message}. Fix that link, then run pulumi up again.`, this);
        }
        return verified;
      });
  }
}
