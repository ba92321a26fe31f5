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
import { parseDateTime } from "../engine/columns";
import { probeToken, tableProbe } from "../apiKey/probe";
import { KeywireError } from "../../core/errors";
import { NamedProvider, ReferencedResource, providerReference, referencedProvider } from "../../core/providerReference";

export interface VerificationInputs {
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
}

export interface VerificationOutputs extends VerificationInputs {
  verified: boolean;
  /** What the probe's answer was ("HTTP 200 with ServiceNow's JSON result", "HTTP 401: …", "an HTML page …"). */
  probeSaw: string;
  /** Empty when verified; otherwise which link broke and what to do. */
  brokenLink: string;
}

/** The most specific active Table API policy for GET on `table`, as the instance would pick it. */
export function winningTablePolicy(policies: SnRecord[], table: string): SnRecord | undefined {
  const score = (p: SnRecord): number => {
    if (p.apply_global === "true") return 0;
    const method = p.apply_all_methods !== "true" && p.http_method ? (p.http_method.toUpperCase() === "GET" ? 2 : -1) : 0;
    const tables = p.apply_all_tables !== "true" && p.api_tablename ? p.api_tablename.split(",").map((s) => s.trim()) : [];
    const tableScore = tables.length > 0 ? (tables.includes(table) ? 4 : -1) : 0;
    if (method < 0 || tableScore < 0) return -1;
    return 1 + method + tableScore;
  };
  return policies
    .filter((p) => p.active === "true")
    .map((p) => ({ p, s: score(p) }))
    .filter((x) => x.s > 0)
    .sort((a, b) => b.s - a.s)[0]?.p;
}

/**
 * A key can authenticate and still be useless: the Event Management endpoint
 * needs the user's roles, which a Table API probe cannot show.
 */
async function missingRoleMessage(ctx: EngineContext, inputs: VerificationInputs, user: SnRecord): Promise<string | undefined> {
  if (inputs.requiredRoles.length === 0) return undefined;
  const grants = await ctx.client.list("sys_user_has_role", {
    query: q().eq("user", user.sys_id).build(),
    fields: ["role.name"],
  });
  const held = new Set(grants.map((g) => g["role.name"]));
  const missing = inputs.requiredRoles.filter((r) => !held.has(r));
  if (missing.length === 0) return undefined;
  return `the key's user ${user.user_name} is missing the role${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: grant ${missing.length > 1 ? "them" : "it"} (UserRoleGrant)`;
}

/** Finds the first broken link, in the order the instance checks them. */
export async function diagnose(ctx: EngineContext, inputs: VerificationInputs): Promise<string> {
  const key = await ctx.client.get("api_key", inputs.keySysId, { fields: ["sys_id", "active", "expires", "user"] });
  if (!key) return `the key record ${inputs.keySysId} no longer exists: run pulumi up to create a new one`;
  if (key.active !== "true") return "the key is inactive: run pulumi up to re-activate it";
  const expires = key.expires ? parseDateTime(key.expires) : undefined;
  if (expires && expires.getTime() <= Date.now()) return `the key expired at ${key.expires} UTC: rotate it (change rotation.trigger) or raise its expiry`;
  const user = key.user ? await ctx.client.get("sys_user", key.user, { fields: ["sys_id", "active", "user_name", "locked_out"] }) : undefined;
  if (!user) return "the key's user no longer exists: point the key at an existing user";
  if (user.active !== "true" || user.locked_out === "true") return `the key's user ${user.user_name} is inactive or locked out: re-activate it`;
  const missingRoles = await missingRoleMessage(ctx, inputs, user);
  if (missingRoles) return missingRoles;
  const profile = await ctx.client.get("http_key_auth", inputs.profileSysId, { fields: ["sys_id", "active", "auth_parameter.type", "name"] });
  if (!profile) return "the inbound profile no longer exists: run pulumi up to recreate it";
  if (profile.active !== "true") return `the inbound profile "${profile.name}" is inactive: run pulumi up to re-activate it`;
  const isHeader = profile["auth_parameter.type"] === "auth_header";
  if (isHeader !== (inputs.via === "header")) {
    return `the inbound profile "${profile.name}" expects the key in the ${isHeader ? "header" : "query parameter"}, but it is sent in the ${inputs.via === "header" ? "header" : "query parameter"}: run pulumi up to switch it back`;
  }
  const policies = await ctx.client.list("sys_api_access_policy", {
    query: q().eq("api_path", "now/table").build(),
    fields: ["sys_id", "name", "active", "apply_global", "apply_all_methods", "http_method", "apply_all_tables", "api_tablename"],
  });
  const winner = winningTablePolicy(policies, inputs.probeTable);
  if (!winner) return "no active Table API access policy applies, so token auth falls to the global policy, which never admits it: re-activate or create one";
  const links = await ctx.client.list("sys_auth_profile_mapping", {
    query: q().eq("api_access_policy", winner.sys_id).build(),
    fields: ["inbound_auth_profile"],
  });
  if (!links.some((l) => l.inbound_auth_profile === inputs.profileSysId)) {
    return `the policy "${winner.name}" outranks the others for ${inputs.probeTable} and does not admit the keywire profile: link it (AccessPolicyProfileLink) or deactivate it`;
  }
  return "every record looks right, yet the instance refused the key: check that the token belongs to this key (copy it again) and the instance's system log";
}

async function verify(ctx: EngineContext, inputs: VerificationInputs): Promise<VerificationOutputs> {
  const probe = await probeToken(ctx, inputs.token, tableProbe(inputs.probeTable, inputs.via));
  if (probe.outcome === "unknown") {
    return { ...inputs, verified: false, probeSaw: probe.seen, brokenLink: `the probe saw ${probe.seen}, which neither proves nor refuses the key: check that the instance answers normally and run again` };
  }
  if (probe.outcome === "refused") return { ...inputs, verified: false, probeSaw: probe.seen, brokenLink: await diagnose(ctx, inputs) };
  if (inputs.requiredRoles.length > 0) {
    const key = await ctx.client.get("api_key", inputs.keySysId, { fields: ["user.sys_id", "user.user_name"] });
    const user = { sys_id: key?.["user.sys_id"] ?? "", user_name: key?.["user.user_name"] ?? "" };
    const missing = await missingRoleMessage(ctx, inputs, user);
    if (missing) return { ...inputs, verified: false, probeSaw: probe.seen, brokenLink: missing };
  }
  return { ...inputs, verified: true, probeSaw: probe.seen, brokenLink: "" };
}

function failure(out: VerificationOutputs): KeywireError {
  return new KeywireError({
    platform: "servicenow",
    operation: "verify the API key chain",
    table: "api_key",
    ...(/^HTTP 401/.test(out.probeSaw) ? { status: 401 } : {}),
    reason: `a request authenticated only by the key was not proven (the probe saw ${out.probeSaw}): ${out.brokenLink}`,
    hint: "Fix the link named above, then run pulumi up again.",
  });
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
      if (!/^[0-9a-f]{32}$/.test(String(news.profileSysId ?? ""))) failures.push({ property: "profileSysId", reason: "ApiKeyVerification.profileSysId: must be a sys_id" });
      if (!/^[a-z0-9_]+$/.test(String(news.probeTable ?? ""))) failures.push({ property: "probeTable", reason: "ApiKeyVerification.probeTable: must be a table name" });
      if (news.via !== "header" && news.via !== "query") failures.push({ property: "via", reason: 'ApiKeyVerification.via: must be "header" or "query"' });
      if (typeof news.token !== "string" || news.token === "") failures.push({ property: "token", reason: "ApiKeyVerification.token: is required" });
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
      JSON.stringify(olds.connection ?? {}) !== JSON.stringify(news.connection ?? {});
      return { changes: changed };
    },

    async create(inputs: VerificationInputs): Promise<pulumi.dynamic.CreateResult> {
      const out = await verify(runtime.context(inputs.connection), inputs);
      if (!out.verified) throw failure(out);
      return { id: `verify-${inputs.keySysId}`, outs: out };
    },

    async read(id: string, props: VerificationOutputs): Promise<pulumi.dynamic.ReadResult> {
      // A refresh probes again: a chain that broke since the last up reads as verified: false.
      return { id, props: await verify(runtime.context(props.connection), props) };
    },

    async update(_id: string, _olds: VerificationOutputs, news: VerificationInputs): Promise<pulumi.dynamic.UpdateResult> {
      const out = await verify(runtime.context(news.connection), news);
      if (!out.verified) throw failure(out);
      return { outs: out };
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
}

export class ApiKeyVerification extends ReferencedResource {
  declare readonly verified: pulumi.Output<boolean>;
  declare readonly brokenLink: pulumi.Output<string>;

  constructor(name: string, args: ApiKeyVerificationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      apiKeyVerificationProvider,
      name,
      {
        verified: undefined,
        brokenLink: undefined,
        requiredRoles: [],
        probeTable: "incident",
        ...withSecretConnection(args),
        token: pulumi.secret(args.token),
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      SERVICENOW_MODULE,
      "ApiKeyVerification",
    );
  }
}
