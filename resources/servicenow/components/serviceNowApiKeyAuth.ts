/**
 * ServiceNowApiKeyAuth: everything an instance needs before an API key works for
 * the Event Management inbound endpoint — the integration user and its roles, an
 * inbound profile whose key travels as a query parameter (SNS cannot send headers),
 * the access policies that admit it, the links, and the key itself.
 *
 * Two policy modes, after the connector guide's two options:
 * - `attach`: take over the shipped "Table GET/POST API Access Policy" (kept active,
 *   restored on destroy) and link the profile to them;
 * - `dedicated`: a Table API policy of keywire's own for all methods, resources,
 *   versions and tables, and the shipped ones deactivated while the stack exists
 *   (they would otherwise outrank it for the tables they list).
 * In both, a policy of keywire's own admits the key on the Event Management inbound
 * API (`sn_em_connector/em`), where no shipped policy admits tokens.
 *
 * The key is created last, after every link, so that its token can be proven by a
 * probe through the very chain the integration will use.
 */
import * as pulumi from "@pulumi/pulumi";
import { AccessPolicy, EVENT_MANAGEMENT_API_PATH, SHIPPED_TABLE_POLICIES, TABLE_API_PATH } from "../records/accessPolicy";
import { AccessPolicyProfileLink } from "../records/accessPolicyProfileLink";
import { ApiKey } from "../apiKey/apiKey";
import { KeySettings } from "../apiKey/inputs";
import type { AdoptionInputs } from "../engine/spec";
import { tableProbe } from "../apiKey/probe";
import { DEFAULT_TOKEN_CONFIG_KEY } from "../apiKey/tokenPlan";
import { BasicAuthProfile } from "../records/basicAuthProfile";
import { InboundProfile } from "../records/inboundProfile";
import { ServiceNowUser } from "../records/user";
import { UserRoleGrant } from "../records/userRoleGrant";
import { Preflight } from "../checks/preflight";
import { DEFAULT_RATE_LIMIT_COLUMN, DEFAULT_REQUESTS_PER_HOUR, RateLimitRule } from "../records/rateLimitRule";
import { ApiKeyVerification } from "../checks/apiKeyVerification";
import { PushConnector } from "../records/pushConnector";
import { ChainAdoption } from "./chainAdoption";
import { KeyLeftovers } from "../apiKey/keyLeftovers";
import { PolicyHandover } from "./policyHandover";
import { recordIdentity } from "../engine/spec";

export type PolicyMode = "attach" | "dedicated";

/** The token an operator set under `namespace:key` (secret), or undefined when it is not set. */
function configuredToken(configKey: string): pulumi.Output<string> | undefined {
  const at = configKey.indexOf(":");
  const config = new pulumi.Config(at > 0 ? configKey.slice(0, at) : "keywire");
  return config.getSecret(at > 0 ? configKey.slice(at + 1) : configKey);
}

/** The shipped Basic-auth profile (its name really ends with a space). */
export const SHIPPED_BASIC_PROFILE = "BasicAuth for none public processors ";

export interface ServiceNowApiKeyAuthArgs {
  namePrefix: string;
  integrationUser: {
    userName: string;
    create: boolean;
    firstName?: string;
    lastName?: string;
    email?: string;
    roles: string[];
  };
  policyMode: PolicyMode;
  /** Keep Basic auth admitted on every policy keywire links a profile to. */
  keepBasicAuth: boolean;
  apiKey: KeySettings;
  /**
   * A token an operator copied from the record (manual route); secret. When left out,
   * the component reads the config key that keywire's instructions name
   * (`tokenConfigKey`), so `pulumi config set --secret keywire:apiKeyToken` works as
   * printed in any program.
   */
  operatorToken?: pulumi.Input<string>;
  /** Config key named in the manual-route instructions, and read when `operatorToken` is left out. */
  tokenConfigKey?: string;
  /** A per-hour ceiling for the integration user: 3600 requests an hour unless given, none with `false`. */
  rateLimit?: { requestsPerHour?: number; limitColumn?: string } | false;
  /**
   * The push connector instance the endpoint names: taken over by name and left as found
   * (`create: false`), or created for the definition whose source is `source`. The chain
   * verification posts to the endpoint it makes, as SNS will.
   */
  pushConnector: { name: string; create: boolean; source: string };
  /**
   * The records to take over instead of creating (a chain an earlier deployment made,
   * after a lost state); none when undefined. Taken-over records stay keywire's own:
   * every field managed, deleted on destroy.
   */
  adopt?: ChainAdoption;
  /**
   * The instance and credentials for every record of the chain, instead of the
   * stack's `servicenow:*` settings: one stack can manage several instances.
   * Kept secret in the state.
   */
  connection?: AdoptionInputs["connection"];
}

/** The rate limit as declared: on unless turned off, so a leaked key cannot flood the instance. */
function rateLimitOf(args: ServiceNowApiKeyAuthArgs): { requestsPerHour: number; limitColumn: string } | undefined {
  if (args.rateLimit === false) return undefined;
  return {
    requestsPerHour: args.rateLimit?.requestsPerHour ?? DEFAULT_REQUESTS_PER_HOUR,
    limitColumn: args.rateLimit?.limitColumn ?? DEFAULT_RATE_LIMIT_COLUMN,
  };
}

/** What every record of one chain shares: its names, its instance, its parent and preflight, what it takes over. */
interface Chain {
  name: string;
  prefix: string;
  args: ServiceNowApiKeyAuthArgs;
  component: pulumi.ComponentResource;
  /** The record's inputs on the chain's instance: the component's connection, or the stack's. */
  on<T extends object>(inputs: T): T;
  /** Adoption of a record (when `taken`) and its deletion on destroy. */
  own(taken: boolean | string | undefined): { adopt?: boolean | string; onDestroy: "delete" };
  adopt: ChainAdoption;
  /** Options of a record that waits for preflight and for `deps`. */
  after(...deps: pulumi.Resource[]): { parent: pulumi.Resource; dependsOn: pulumi.Resource[] };
}

/** The integration user, only with the roles it needs; what the key and rate limit wait for. */
function declareUser(c: Chain): pulumi.Resource[] {
  const u = c.args.integrationUser;
  if (!u.create) return [];
  const user = new ServiceNowUser(
    `${c.name}-user`,
    c.on({
      userName: u.userName,
      firstName: u.firstName ?? c.prefix,
      lastName: u.lastName ?? "integration",
      email: u.email,
      webServiceAccessOnly: true,
      ...c.own(c.adopt.user),
    }),
    c.after(),
  );
  const deps: pulumi.Resource[] = [user];
  for (const role of u.roles) {
    deps.push(new UserRoleGrant(`${c.name}-role-${role}`, c.on({ user: user.userName, role, ...c.own(c.adopt.grants) }), c.after(user)));
  }
  return deps;
}

const shippedSuffix = (shipped: string) => (shipped.startsWith("Table GET") ? "table-get" : "table-post");

/**
 * The Table API policies: in `attach` mode the shipped ones, kept active; in `dedicated`
 * mode keywire's own first, then the shipped ones deactivated.
 */
function declareTablePolicies(c: Chain): AccessPolicy[] {
  if (c.args.policyMode === "attach") {
    return SHIPPED_TABLE_POLICIES.map(
      (shipped) => new AccessPolicy(`${c.name}-${shippedSuffix(shipped)}`, c.on({ name: shipped, adopt: true, active: true }), c.after()),
    );
  }
  // keywire's own policy is the stack's "hold" on the shipped ones: every stack on the
  // instance sees it, so the shipped policies come back only when the last hold goes.
  const hold = new AccessPolicy(
    `${c.name}-table-api`,
    c.on({
      name: `${c.prefix} Table API policy`,
      apiPath: TABLE_API_PATH,
      applyAllMethods: true,
      applyAllResources: true,
      applyAllVersions: true,
      applyAllTables: true,
      holdsShipped: true,
      ...c.own(c.adopt.policies),
    }),
    c.after(),
  );
  // Deactivated, not deleted, after the hold has read them: restored on destroy, once no other stack holds them.
  const off = SHIPPED_TABLE_POLICIES.map(
    (shipped) =>
      new AccessPolicy(`${c.name}-${shippedSuffix(shipped)}-off`, c.on({ name: shipped, adopt: true, active: false, heldBy: hold.sysId }), c.after(hold)),
  );
  return [hold, ...off];
}

/**
 * The profile links, and the handover that makes the stack's own policies stop judging
 * before any link goes on destroy. Returns the links, which the key waits for.
 */
function declareLinks(c: Chain, profile: InboundProfile, tablePolicies: AccessPolicy[], eventPolicy: AccessPolicy): pulumi.Resource[] {
  // A policy with links admits only the linked profiles. The shipped policies already
  // link the Basic profile; keywire's own Table API policy needs it linked too.
  const links: pulumi.Resource[] = [];
  let basicLink: AccessPolicyProfileLink | undefined;
  if (c.args.policyMode === "dedicated") {
    if (c.args.keepBasicAuth) {
      const basic = new BasicAuthProfile(`${c.name}-basic-profile`, c.on({ name: SHIPPED_BASIC_PROFILE }), c.after());
      basicLink = new AccessPolicyProfileLink(
        `${c.name}-link-table-api-basic`,
        c.on({ policy: tablePolicies[0].sysId, profile: basic.sysId, ...c.own(c.adopt.links) }),
        c.after(),
      );
      links.push(basicLink);
    } else {
      pulumi.log.warn(
        "keepBasicAuth is false: the Table API policy admits only the API-key profile, so Basic auth to the Table API will be refused " +
          "while the shipped Table GET/POST policies are deactivated.",
        c.component,
      );
    }
  }

  // Links: the API-key profile on every policy that must admit the key. On keywire's own
  // Table API policy, after the Basic link (and deleted before it): with the API-key link
  // alone, the policy would refuse the deploying user's Basic auth for the rest of the run.
  const linkedPolicies: Array<[string, AccessPolicy]> = [["event-api", eventPolicy]];
  if (c.args.policyMode === "attach") {
    linkedPolicies.push(["table-get", tablePolicies[0]], ["table-post", tablePolicies[1]]);
  } else {
    linkedPolicies.push(["table-api", tablePolicies[0]]);
  }
  for (const [suffix, policy] of linkedPolicies) {
    const options = suffix === "table-api" && basicLink ? c.after(basicLink) : c.after();
    links.push(
      new AccessPolicyProfileLink(`${c.name}-link-${suffix}`, c.on({ policy: policy.sysId, profile: profile.sysId, ...c.own(c.adopt.links) }), options),
    );
  }

  // Deleted before the links: on destroy the stack's own policies stop judging first, so
  // another stack's equally specific policy takes its keys (and the deploying user's Basic
  // auth) over at once, never a policy that has lost some of its links.
  new PolicyHandover(
    `${c.name}-policy-handover`,
    c.on({ policies: [eventPolicy.sysId, ...(c.args.policyMode === "dedicated" ? [tablePolicies[0].sysId] : [])] }),
    c.after(...links),
  );
  return links;
}

/** The key, created after every link so its token is proven through the chain SNS will use. */
function declareKey(c: Chain, deps: pulumi.Resource[]): ApiKey {
  const args = c.args;
  const tokenConfigKey = args.tokenConfigKey ?? DEFAULT_TOKEN_CONFIG_KEY;
  const keyName = args.apiKey.name ?? `${c.prefix} event management`;
  // Destroyed after the key: removes the keys of this resource no state holds (parked by a
  // failed first up, or made by a killed run).
  const leftovers = new KeyLeftovers(`${c.name}-key-leftovers`, c.on({ keyIdentity: recordIdentity("ApiKey", `${c.name}-key`).identity, keyName }), c.after());
  return new ApiKey(
    `${c.name}-key`,
    c.on({
      name: keyName,
      description: "Managed by keywire: AWS SNS to Event Management",
      user: args.integrationUser.userName,
      authScopes: args.apiKey.authScopes,
      expiresInDays: args.apiKey.expiresInDays,
      tokenStrategy: args.apiKey.tokenStrategy,
      tokenConfigKey,
      token: args.operatorToken ?? configuredToken(tokenConfigKey),
      rotation: args.apiKey.rotation,
      // The same chain SNS will use: the key in the query string, through the Table API policy.
      probe: tableProbe("sys_user", "query"),
      ...c.own(c.adopt.key),
    }),
    c.after(leftovers, ...deps),
  );
}

/** The connector the endpoint names: taken over and left as found, or created for its definition. */
function declareConnector(c: Chain): PushConnector {
  const connector = c.args.pushConnector;
  // It was a root resource of keywire's own stack (and of programs that followed the
  // README) under this very name: the alias keeps that record.
  return new PushConnector(
    `${c.name}-push-connector`,
    c.on(
      connector.create
        ? { name: connector.name, source: connector.source, description: "Managed by keywire", ...c.own(c.adopt.connector) }
        : { name: connector.name, adopt: true, onDestroy: "retain" as const },
    ),
    { ...c.after(), aliases: [{ parent: pulumi.rootStackResource }] },
  );
}

export class ServiceNowApiKeyAuth extends pulumi.ComponentResource {
  readonly keySysId: pulumi.Output<string>;
  /** The proven token. Secret. */
  readonly token: pulumi.Output<string>;
  readonly tokenSource: pulumi.Output<string>;
  readonly profileSysId: pulumi.Output<string>;
  readonly tablePolicySysIds: pulumi.Output<string[]>;
  readonly eventPolicySysId: pulumi.Output<string>;
  /** The push connector instance: the endpoint's `sys_id`. */
  readonly pushConnectorSysId: pulumi.Output<string>;
  /** The endpoint's `source` (`aws`). */
  readonly pushConnectorSource: string;
  readonly policyMode: PolicyMode;
  readonly userName: string;
  /** Everything on the instance depends on this; other resources of the stack should too. */
  readonly preflight: Preflight;
  /** Whether the whole chain, the Event Management endpoint included, answered the last probes (re-probed on refresh). */
  readonly verified: pulumi.Output<boolean>;
  /** The proof of the chain: which link broke (`brokenLinkId`), since when, and what the probes saw. */
  readonly verification: ApiKeyVerification;

  constructor(name: string, args: ServiceNowApiKeyAuthArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keywire:servicenow:ApiKeyAuth", name, {}, opts);
    const rateLimit = rateLimitOf(args);
    const on = <T extends object>(a: T): T => (args.connection === undefined ? a : { ...a, connection: args.connection });
    this.preflight = new Preflight(
      `${name}-preflight`,
      on({
        pushConnectorName: args.pushConnector.create ? undefined : args.pushConnector.name,
        pushConnectorSource: args.pushConnector.create ? args.pushConnector.source : undefined,
        requiredColumns: ["api_key.auth_scope", ...(rateLimit ? [`sys_rate_limit_rules.${rateLimit.limitColumn}`] : [])],
        extraTables: args.integrationUser.create ? ["sys_user", "sys_user_has_role"] : [],
      }),
      { parent: this },
    );
    const preflight = this.preflight;
    const c: Chain = {
      name,
      prefix: args.namePrefix,
      args,
      component: this,
      on,
      // Every record is keywire's own, whether it creates it or takes it over: it is deleted
      // on destroy either way, and dropping `adopt` after a takeover changes nothing.
      own: (taken) => ({ ...(taken ? { adopt: taken } : {}), onDestroy: "delete" as const }),
      adopt: args.adopt ?? {},
      // Nothing is created on the instance unless preflight passed.
      after: (...deps) => ({ parent: this, dependsOn: [preflight, ...deps] }),
    };
    this.policyMode = args.policyMode;
    this.userName = args.integrationUser.userName;

    const userDeps = declareUser(c);
    const profile = new InboundProfile(
      `${name}-profile`,
      on({
        name: `${c.prefix} api key (query parameter)`,
        description: "Managed by keywire: API key in the x-sn-apikey query parameter",
        keyLocation: "query",
        ...c.own(c.adopt.profile),
      }),
      c.after(),
    );
    const tablePolicies = declareTablePolicies(c);
    const eventPolicy = new AccessPolicy(
      `${name}-event-api`,
      on({
        name: `${c.prefix} Event Management inbound policy`,
        apiPath: EVENT_MANAGEMENT_API_PATH,
        applyAllMethods: true,
        applyAllResources: true,
        applyAllVersions: true,
        ...c.own(c.adopt.policies),
      }),
      c.after(),
    );
    const links = declareLinks(c, profile, tablePolicies, eventPolicy);
    const key = declareKey(c, [...userDeps, ...links]);

    if (rateLimit) {
      new RateLimitRule(
        `${name}-rate-limit`,
        on({
          name: `${c.prefix} ${args.integrationUser.userName}`,
          user: args.integrationUser.userName,
          requestsPerHour: rateLimit.requestsPerHour,
          limitColumn: rateLimit.limitColumn,
          ...c.own(c.adopt.rateLimit),
        }),
        c.after(...userDeps),
      );
    }

    const connector = declareConnector(c);

    // Proven again on every refresh, through the Event Management endpoint as SNS calls it:
    // a chain that breaks later is drift.
    const verification = new ApiKeyVerification(
      `${name}-verification`,
      on({
        token: key.token,
        keySysId: key.sysId,
        profileSysId: profile.sysId,
        requiredRoles: args.integrationUser.roles,
        via: "query",
        probeTable: "incident",
        event: { source: args.pushConnector.source, pushConnectorSysId: connector.sysId },
      }),
      { parent: this, dependsOn: [key, connector] },
    );

    if (!args.apiKey.expiresInDays) {
      pulumi.log.warn("The API key has no expiry: set keywire:apiKey.expiresInDays (and a rotation) so a leaked key cannot live forever.", this);
    }
    if (args.integrationUser.roles.includes("admin")) {
      pulumi.log.warn("The integration user holds admin: an API key acting as admin is a full-instance credential. Grant only evt_mgmt_integration.", this);
    }

    this.keySysId = key.sysId;
    this.token = key.token;
    this.tokenSource = key.tokenSource;
    this.profileSysId = profile.sysId;
    this.tablePolicySysIds = pulumi.all(tablePolicies.map((t) => t.sysId));
    this.eventPolicySysId = eventPolicy.sysId;
    this.pushConnectorSysId = connector.sysId;
    this.pushConnectorSource = args.pushConnector.source;
    this.verification = verification;
    this.verified = verification.verified;
    this.registerOutputs({
      verified: this.verified,
      keySysId: this.keySysId,
      profileSysId: this.profileSysId,
      tablePolicySysIds: this.tablePolicySysIds,
      eventPolicySysId: this.eventPolicySysId,
      pushConnectorSysId: this.pushConnectorSysId,
    });
  }
}
