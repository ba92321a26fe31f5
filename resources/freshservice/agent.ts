/**
 * FreshserviceAgent: the agent an integration's API key belongs to, and its roles.
 *
 * create adds the agent (`POST /api/v2/agents`) or, with `adopt: true`, takes over the
 * agent that already has the email; update changes fields and roles (`PUT`), deactivates
 * (`DELETE /agents/{id}`) or reactivates (`PUT /agents/{id}/reactivate`) it as `active`
 * says; read (every refresh) reports the live agent, so changes made in the UI show as
 * drift; destroy deactivates by default, `forget`s on request, or leaves it alone.
 *
 * The agent's own API key cannot be switched on through the API: an Account Admin does
 * that on the agent's Permissions tab (see docs/resources/freshservice-agent.md). The
 * `apiKey` input is the key of an agent allowed to manage agents (an admin's), secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { FRESHSERVICE_MODULE, FreshserviceClient, FreshserviceError, PLATFORM, connectionShape, createFreshserviceClient, resolveBaseUrl } from "./client";
import { KeywireError } from "../core/errors";
import { UNKNOWN_INPUT, failuresFrom } from "../core/checkInputs";
import { keyFingerprint } from "../core/providedKey";
import { NamedProvider, ReferencedResource, providerReference, referencedProvider } from "../core/providerLoading/providerReference";

export type AssignmentScope = "entire_helpdesk" | "member_groups" | "specified_groups" | "assigned_items";
export type AgentOnDestroy = "deactivate" | "forget" | "retain";

/** A role to give the agent: by id or by name (as listed by `GET /roles`). */
export interface AgentRoleInput {
  roleId?: number;
  roleName?: string;
  /** Default `entire_helpdesk`. */
  assignmentScope?: AssignmentScope;
  /** Group ids; required for `specified_groups`. */
  groups?: number[];
}

export interface FreshserviceAgentInputs {
  domain: string;
  apiKey: string;
  baseUrl?: string;
  email: string;
  firstName: string;
  lastName?: string;
  jobTitle?: string;
  occasional?: boolean;
  roles: AgentRoleInput[];
  active?: boolean;
  adopt?: boolean;
  onDestroy?: AgentOnDestroy;
}

export interface ResolvedRole {
  roleId: number;
  roleName: string;
  assignmentScope: AssignmentScope;
  groups: number[];
}

export interface FreshserviceAgentOutputs {
  agentId: number;
  domain: string;
  baseUrl: string;
  baseUrlInput: string;
  email: string;
  firstName: string;
  lastName: string;
  jobTitle: string;
  occasional: boolean;
  active: boolean;
  roles: ResolvedRole[];
  /** True when keywire took over an agent that already existed. */
  adopted: boolean;
  onDestroy: AgentOnDestroy;
  /**
   * Secret (additionalSecretOutputs): fingerprint of the managing key, to tell a key change
   * apart. Secret because a plain hash of a key is a guessing oracle.
   */
  keyFingerprint: string;
  /** Secret (additionalSecretOutputs): the managing key, kept so refresh and destroy can call. */
  apiKey: string;
}

/** The agent as the API returns it (the fields keywire reads). */
interface ApiAgent {
  id: number;
  email: string;
  first_name: string;
  last_name: string | null;
  job_title: string | null;
  occasional: boolean;
  active: boolean;
  roles: { role_id: number; assignment_scope: AssignmentScope; groups?: number[] | null }[];
}

interface ApiRole {
  id: number;
  name: string;
}

const TYPE = "FreshserviceAgent";

function clientFor(i: { domain: string; apiKey: string; baseUrl?: string }): FreshserviceClient {
  return createFreshserviceClient({ domain: i.domain, apiKey: i.apiKey, ...(i.baseUrl ? { baseUrl: i.baseUrl } : {}) });
}

function sortedGroups(g: number[] | null | undefined): number[] {
  return [...(g ?? [])].sort((a, b) => a - b);
}

/** Role inputs resolved to ids, names looked up with one `GET /roles` (paged). */
async function resolveRoles(client: FreshserviceClient, wanted: AgentRoleInput[]): Promise<ResolvedRole[]> {
  const roles = await client.listAll<ApiRole>("/api/v2/roles", "roles", {}, "list roles");
  return wanted.map((w) => {
    const found =
      w.roleId !== undefined
        ? roles.find((r) => r.id === w.roleId)
        : roles.find((r) => r.name.trim().toLowerCase() === (w.roleName ?? "").trim().toLowerCase());
    if (!found) {
      throw new KeywireError({
        platform: PLATFORM,
        operation: "resolve agent roles",
        reason: `${TYPE}.roles: no role ${w.roleId !== undefined ? `with id ${w.roleId}` : `named "${w.roleName}"`}; the account has ${roles.map((r) => `"${r.name}"`).join(", ") || "none"}`,
        hint: "Use a role listed under Admin > User Management > Roles (roles are read-only through the API).",
      });
    }
    return { roleId: found.id, roleName: found.name, assignmentScope: w.assignmentScope ?? "entire_helpdesk", groups: sortedGroups(w.groups) };
  });
}

function apiRoles(roles: ResolvedRole[]) {
  return roles.map((r) => ({ role_id: r.roleId, assignment_scope: r.assignmentScope, groups: r.groups }));
}

function agentBody(i: FreshserviceAgentInputs, roles: ResolvedRole[]): Record<string, unknown> {
  const body: Record<string, unknown> = {
    email: i.email,
    first_name: i.firstName,
    occasional: i.occasional ?? false,
    roles: apiRoles(roles),
  };
  if (i.lastName !== undefined) body.last_name = i.lastName;
  if (i.jobTitle !== undefined) body.job_title = i.jobTitle;
  return body;
}

function agentOf(data: unknown, operation: string): ApiAgent {
  const a = (data as { agent?: ApiAgent } | undefined)?.agent;
  if (!a || typeof a.id !== "number") {
    throw new KeywireError({
      platform: PLATFORM,
      operation,
      reason: "the answer holds no agent",
      hint: "Check that the domain (or baseUrl) points at Freshservice.",
    });
  }
  return a;
}

function outputsOf(
  i: { domain: string; apiKey: string; baseUrl?: string },
  a: ApiAgent,
  names: Map<number, string>,
  extra: { adopted: boolean; onDestroy: AgentOnDestroy },
): FreshserviceAgentOutputs {
  return {
    agentId: a.id,
    domain: i.domain,
    baseUrl: resolveBaseUrl(i.domain, i.baseUrl),
    baseUrlInput: i.baseUrl ?? "",
    email: a.email,
    firstName: a.first_name,
    lastName: a.last_name ?? "",
    jobTitle: a.job_title ?? "",
    occasional: a.occasional,
    active: a.active,
    roles: (a.roles ?? []).map((r) => ({
      roleId: r.role_id,
      roleName: names.get(r.role_id) ?? "",
      assignmentScope: r.assignment_scope,
      groups: sortedGroups(r.groups),
    })),
    adopted: extra.adopted,
    onDestroy: extra.onDestroy,
    keyFingerprint: keyFingerprint(i.apiKey),
    apiKey: i.apiKey,
  };
}

/** Whether the live roles are the wanted ones (order does not matter; names compare case-insensitively). */
function rolesMatch(wanted: AgentRoleInput[], live: ResolvedRole[]): boolean {
  if (wanted.length !== live.length) return false;
  const left = [...live];
  for (const w of wanted) {
    const scope = w.assignmentScope ?? "entire_helpdesk";
    const groups = sortedGroups(w.groups).join(",");
    const at = left.findIndex(
      (l) =>
        (w.roleId !== undefined ? l.roleId === w.roleId : l.roleName.trim().toLowerCase() === (w.roleName ?? "").trim().toLowerCase()) &&
        l.assignmentScope === scope &&
        l.groups.join(",") === groups,
    );
    if (at < 0) return false;
    left.splice(at, 1);
  }
  return true;
}

/** Input properties whose wanted value differs from the live outputs. */
function changedProperties(news: FreshserviceAgentInputs, olds: FreshserviceAgentOutputs): string[] {
  const changed: string[] = [];
  if (news.email.trim().toLowerCase() !== (olds.email ?? "").toLowerCase()) changed.push("email");
  if (news.firstName !== olds.firstName) changed.push("firstName");
  if (news.lastName !== undefined && news.lastName !== olds.lastName) changed.push("lastName");
  if (news.jobTitle !== undefined && news.jobTitle !== olds.jobTitle) changed.push("jobTitle");
  if ((news.occasional ?? false) !== olds.occasional) changed.push("occasional");
  if (!rolesMatch(news.roles ?? [], olds.roles ?? [])) changed.push("roles");
  if ((news.active ?? true) !== olds.active) changed.push("active");
  return changed;
}

async function findByEmail(client: FreshserviceClient, email: string): Promise<ApiAgent | undefined> {
  const found = await client.listAll<ApiAgent>("/api/v2/agents", "agents", { email }, `find agent ${email}`);
  return found.find((a) => a.email.toLowerCase() === email.toLowerCase());
}

async function deactivate(client: FreshserviceClient, id: number): Promise<void> {
  await client.request("DELETE", `/api/v2/agents/${id}`, { acceptStatus: [404], operation: `deactivate agent ${id}` });
}

/** Brings an existing agent to the wanted state; returns the live agent afterwards. */
async function converge(
  client: FreshserviceClient,
  live: ApiAgent,
  i: FreshserviceAgentInputs,
  roles: ResolvedRole[],
  olds?: FreshserviceAgentOutputs,
): Promise<ApiAgent> {
  const wantActive = i.active ?? true;
  let agent = live;
  if (wantActive && !agent.active) {
    agent = agentOf(
      (await client.request("PUT", `/api/v2/agents/${agent.id}/reactivate`, { operation: `reactivate agent ${agent.id}` })).data,
      "reactivate agent",
    );
  }
  const names = new Map(roles.map((r) => [r.roleId, r.roleName]));
  const current = outputsOf({ domain: i.domain, apiKey: i.apiKey, ...(i.baseUrl ? { baseUrl: i.baseUrl } : {}) }, agent, names, {
    adopted: olds?.adopted ?? false,
    onDestroy: "retain",
  });
  const fieldsChanged = changedProperties({ ...i, active: agent.active }, current).filter((p) => p !== "active");
  if (fieldsChanged.length > 0) {
    agent = agentOf(
      (await client.request("PUT", `/api/v2/agents/${agent.id}`, { json: agentBody(i, roles), operation: `update agent ${agent.id}` })).data,
      "update agent",
    );
  }
  if (!wantActive && agent.active) {
    await deactivate(client, agent.id);
    agent = { ...agent, active: false };
  }
  return agent;
}

function defaultOnDestroy(i: FreshserviceAgentInputs, adopted: boolean): AgentOnDestroy {
  return i.onDestroy ?? (adopted ? "retain" : "deactivate");
}

function normalize(i: FreshserviceAgentInputs): FreshserviceAgentInputs {
  return { ...i, domain: i.domain.trim().toLowerCase(), email: i.email.trim() };
}

const agentProvider: NamedProvider = {
  typeName: "FreshserviceAgent",
  async check(_olds: FreshserviceAgentInputs, news: FreshserviceAgentInputs): Promise<pulumi.dynamic.CheckResult> {
    const scope = z.enum(["entire_helpdesk", "member_groups", "specified_groups", "assigned_items"], {
      error: "must be entire_helpdesk, member_groups, specified_groups or assigned_items",
    });
    const id = z.number({ error: "must be a number" }).int("must be a whole number").positive("must be positive");
    const role = z
      .object({
        roleId: id.optional(),
        roleName: z.string().trim().min(1, "must not be empty").max(255).optional(),
        assignmentScope: scope.optional(),
        groups: z.array(id).max(100, "has more than 100 groups").optional(),
      })
      .strict()
      .superRefine((r, ctx) => {
        if ((r.roleId === undefined) === (r.roleName === undefined)) ctx.addIssue({ code: "custom", message: "needs exactly one of roleId or roleName" });
        if (r.assignmentScope === "specified_groups" && !(r.groups && r.groups.length > 0)) {
          ctx.addIssue({ code: "custom", path: ["groups"], message: "must list at least one group id for specified_groups" });
        }
      });
    const schema = z.object({
      ...connectionShape,
      email: z
        .string({ error: "is required" })
        .trim()
        .max(254, "is longer than 254 characters")
        .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "must be an email address"),
      firstName: z.string({ error: "is required" }).trim().min(1, "is required").max(255, "is longer than 255 characters"),
      lastName: z.string().max(255, "is longer than 255 characters").optional(),
      jobTitle: z.string().max(255, "is longer than 255 characters").optional(),
      occasional: z.boolean({ error: "must be true or false" }).optional(),
      roles: z.union([
        z.literal(UNKNOWN_INPUT),
        z.array(role, { error: "is required: at least one role" }).min(1, "needs at least one role").max(50, "has more than 50 roles"),
      ]),
      active: z.boolean({ error: "must be true or false" }).optional(),
      adopt: z.boolean({ error: "must be true or false" }).optional(),
      onDestroy: z.enum(["deactivate", "forget", "retain"], { error: "must be deactivate, forget or retain" }).optional(),
    });
    const parsed = schema.safeParse(news);
    if (!parsed.success) return { inputs: news, failures: failuresFrom(parsed.error, TYPE) };
    const inputs: Record<string, unknown> = { ...news, domain: parsed.data.domain, email: parsed.data.email, firstName: parsed.data.firstName };
    if (!news.baseUrl) delete inputs.baseUrl;
    return { inputs };
  },

  async diff(_id: string, olds: FreshserviceAgentOutputs, news: FreshserviceAgentInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces: string[] = [];
    if (news.domain !== olds.domain) replaces.push("domain");
    if ((news.baseUrl ?? "") !== (olds.baseUrlInput ?? "")) replaces.push("baseUrl");
    const changed = news.roles === (UNKNOWN_INPUT as unknown) ? ["roles"] : changedProperties(news, olds);
    if (news.apiKey === UNKNOWN_INPUT || keyFingerprint(news.apiKey) !== olds.keyFingerprint) changed.push("apiKey");
    if (defaultOnDestroy(news, olds.adopted) !== olds.onDestroy) changed.push("onDestroy");
    return { changes: replaces.length + changed.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(raw: FreshserviceAgentInputs): Promise<pulumi.dynamic.CreateResult> {
    const i = normalize(raw);
    const client = clientFor(i);
    const roles = await resolveRoles(client, i.roles);
    const existing = await findByEmail(client, i.email);
    let agent: ApiAgent;
    let adopted = false;
    if (existing) {
      if (!i.adopt) {
        throw new KeywireError({
          platform: PLATFORM,
          operation: `create agent ${i.email}`,
          status: 409,
          reason: `agent ${existing.id} already has this email`,
          hint: "Set adopt: true to manage that agent (destroy then leaves it in place unless onDestroy says otherwise), or use another email.",
        });
      }
      adopted = true;
      agent = await converge(client, existing, i, roles);
    } else {
      try {
        const res = await client.request("POST", "/api/v2/agents", {
          json: agentBody(i, roles),
          operation: `create agent ${i.email}`,
          // If the answer is lost, look the agent up by email before trying again.
          wasCommitted: async () => {
            const found = await findByEmail(client, i.email);
            return found ? { status: 201, headers: {}, data: { agent: found } } : undefined;
          },
        });
        agent = agentOf(res.data, "create agent");
      } catch (e) {
        if (e instanceof FreshserviceError && e.status === 409 && e.errorCode === "duplicate_value") {
          throw new KeywireError({
            platform: PLATFORM,
            operation: `create agent ${i.email}`,
            status: 409,
            reason: "an agent or requester already uses this email (a deactivated agent becomes a requester)",
            hint: "Reactivate or convert that contact in Freshservice and set adopt: true, or use another email.",
          });
        }
        throw e;
      }
      if (i.active === false) {
        await deactivate(client, agent.id);
        agent = { ...agent, active: false };
      }
    }
    const outs = outputsOf(i, agent, new Map(roles.map((r) => [r.roleId, r.roleName])), { adopted, onDestroy: defaultOnDestroy(i, adopted) });
    return { id: `${i.domain}/${agent.id}`, outs };
  },

  async read(id: string, props: FreshserviceAgentOutputs): Promise<pulumi.dynamic.ReadResult> {
    const conn = { domain: props.domain, apiKey: props.apiKey, ...(props.baseUrlInput ? { baseUrl: props.baseUrlInput } : {}) };
    const client = clientFor(conn);
    const res = await client.request("GET", `/api/v2/agents/${props.agentId}`, { acceptStatus: [404], operation: `read agent ${props.agentId}` });
    if (res.status === 404) return { id: "", props: {} };
    const agent = agentOf(res.data, "read agent");
    const names = new Map((props.roles ?? []).map((r) => [r.roleId, r.roleName]));
    if (agent.roles.some((r) => !names.has(r.role_id))) {
      for (const r of await client.listAll<ApiRole>("/api/v2/roles", "roles", {}, "list roles")) names.set(r.id, r.name);
    }
    return { id, props: outputsOf(conn, agent, names, { adopted: props.adopted, onDestroy: props.onDestroy }) };
  },

  async update(_id: string, olds: FreshserviceAgentOutputs, raw: FreshserviceAgentInputs): Promise<pulumi.dynamic.UpdateResult> {
    const i = normalize(raw);
    const client = clientFor(i);
    const roles = await resolveRoles(client, i.roles);
    const res = await client.request("GET", `/api/v2/agents/${olds.agentId}`, { acceptStatus: [404], operation: `read agent ${olds.agentId}` });
    if (res.status === 404) {
      throw new KeywireError({
        platform: PLATFORM,
        operation: `update agent ${olds.agentId}`,
        status: 404,
        reason: "the agent no longer exists (it was forgotten)",
        hint: "Run `pulumi refresh` so keywire forgets it, then `pulumi up` creates it again.",
      });
    }
    const agent = await converge(client, agentOf(res.data, "read agent"), i, roles, olds);
    return {
      outs: outputsOf(i, agent, new Map(roles.map((r) => [r.roleId, r.roleName])), { adopted: olds.adopted, onDestroy: defaultOnDestroy(i, olds.adopted) }),
    };
  },

  async delete(_id: string, props: FreshserviceAgentOutputs): Promise<void> {
    if (props.onDestroy === "retain") return;
    const client = clientFor({ domain: props.domain, apiKey: props.apiKey, ...(props.baseUrlInput ? { baseUrl: props.baseUrlInput } : {}) });
    await deactivate(client, props.agentId);
    if (props.onDestroy === "forget") {
      await client.request("DELETE", `/api/v2/agents/${props.agentId}/forget`, { acceptStatus: [404], operation: `forget agent ${props.agentId}` });
    }
  },
};

export const freshserviceAgentProvider = referencedProvider(agentProvider, providerReference("keywire/freshservice", "freshserviceAgentProvider"));

export interface FreshserviceAgentArgs {
  /** The subdomain of the Freshservice URL (`mycompany`). */
  domain: pulumi.Input<string>;
  /** Key of an agent allowed to manage agents (e.g. an Admin). Always stored as a secret. */
  apiKey: pulumi.Input<string>;
  /** HTTPS origin (or loopback HTTP, for the emulator) instead of `https://<domain>.freshservice.com`. */
  baseUrl?: pulumi.Input<string>;
  email: pulumi.Input<string>;
  firstName: pulumi.Input<string>;
  lastName?: pulumi.Input<string>;
  jobTitle?: pulumi.Input<string>;
  /** Occasional (day-pass) agent instead of full-time; default false. */
  occasional?: pulumi.Input<boolean>;
  roles: pulumi.Input<pulumi.Input<AgentRoleInput>[]>;
  /** false deactivates the agent (its API key stops working); default true. */
  active?: pulumi.Input<boolean>;
  /** Take over the agent that already has this email instead of failing. */
  adopt?: pulumi.Input<boolean>;
  /** What destroy does; default `deactivate`, or `retain` for an adopted agent. */
  onDestroy?: pulumi.Input<AgentOnDestroy>;
}

export class FreshserviceAgent extends ReferencedResource {
  declare readonly agentId: pulumi.Output<number>;
  declare readonly domain: pulumi.Output<string>;
  declare readonly baseUrl: pulumi.Output<string>;
  declare readonly email: pulumi.Output<string>;
  declare readonly firstName: pulumi.Output<string>;
  declare readonly lastName: pulumi.Output<string>;
  declare readonly jobTitle: pulumi.Output<string>;
  declare readonly occasional: pulumi.Output<boolean>;
  declare readonly active: pulumi.Output<boolean>;
  declare readonly roles: pulumi.Output<ResolvedRole[]>;
  declare readonly adopted: pulumi.Output<boolean>;
  declare readonly onDestroy: pulumi.Output<AgentOnDestroy>;
  /** Secret: the managing key. */
  declare readonly apiKey: pulumi.Output<string>;

  constructor(name: string, args: FreshserviceAgentArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      freshserviceAgentProvider,
      name,
      {
        agentId: undefined,
        baseUrlInput: undefined,
        adopted: undefined,
        keyFingerprint: undefined,
        ...args,
        apiKey: pulumi.secret(args.apiKey),
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["apiKey", "keyFingerprint"] }),
      FRESHSERVICE_MODULE,
      "Agent",
    );
  }
}
