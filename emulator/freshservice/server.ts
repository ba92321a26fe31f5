/**
 * The Freshservice emulator: the slice of API v2 keywire uses (agents, roles, a ticket
 * list for verification), Basic auth with an agent's API key, per-minute rate limits
 * with their headers and 429, documented error bodies, `page`/`per_page` pagination.
 *
 * It stands in for `https://<domain>.freshservice.com`; the API lives under `/api/v2`.
 * Keys are made by test controls only, as a person makes them in the UI.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { listenOnLoopback } from "../shared/loopbackServer";
import { authenticate } from "./auth";
import { Faults, faultBody, faultHeaders } from "./faults";
import { sendJson, readBody } from "./http";
import { Metrics } from "./metrics";
import { RateLimiter } from "./rateLimit";
import { codeBody, MESSAGES, validationBody } from "./reply";
import { AccountState, AgentEntry, publicAgent, publicRole } from "./state";
import { FreshserviceEmulatorOptions, PLAN_RATE_LIMITS, RateLimits, RunningFreshserviceEmulator } from "./types";
import { FieldError, parseAgentBody, parseAgentQuery } from "./validation";

const API_PREFIX = "/api/v2";
const MAX_URL_LENGTH = 4096;
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Path after /api/v2, e.g. "/agents/12". */
  path: string;
  query: URLSearchParams;
  agent: AgentEntry;
  route: string;
}

/** Which route a path is, for metrics and method checks. */
function routeOf(path: string): { pattern: string; id?: number } | undefined {
  let m: RegExpExecArray | null;
  if (path === "/agents") return { pattern: "/agents" };
  if ((m = /^\/agents\/(\d{1,15})$/.exec(path))) return { pattern: "/agents/{id}", id: Number(m[1]) };
  if ((m = /^\/agents\/(\d{1,15})\/reactivate$/.exec(path))) return { pattern: "/agents/{id}/reactivate", id: Number(m[1]) };
  if ((m = /^\/agents\/(\d{1,15})\/forget$/.exec(path))) return { pattern: "/agents/{id}/forget", id: Number(m[1]) };
  if (path === "/roles") return { pattern: "/roles" };
  if ((m = /^\/roles\/(\d{1,15})$/.exec(path))) return { pattern: "/roles/{id}", id: Number(m[1]) };
  if (path === "/tickets") return { pattern: "/tickets" };
  return undefined;
}

const ALLOWED_METHODS: Record<string, string[]> = {
  "/agents": ["GET", "POST"],
  "/agents/{id}": ["GET", "PUT", "DELETE"],
  "/agents/{id}/reactivate": ["PUT"],
  "/agents/{id}/forget": ["DELETE"],
  "/roles": ["GET"],
  "/roles/{id}": ["GET"],
  "/tickets": ["GET"],
};

export async function startFreshserviceEmulator(opts: FreshserviceEmulatorOptions = {}): Promise<RunningFreshserviceEmulator> {
  const domain = opts.domain ?? "keywire-test";
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(domain)) throw new Error("domain must be a Freshservice subdomain such as 'mycompany'");
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024;
  const maxAgents = opts.maxAgents ?? 1000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  let clockOffset = 0;
  const baseClock = opts.now ?? Date.now;
  const clock = () => baseClock() + clockOffset;

  const initialLimits = (): RateLimits => ({ ...PLAN_RATE_LIMITS[opts.plan ?? "growth"], ...(opts.rateLimits ?? {}) });
  const state = new AccountState(domain, clock);
  const limiter = new RateLimiter(initialLimits(), clock);
  const metrics = new Metrics();
  const faults = new Faults();
  let baseUrl = "";

  const count = (route: string, status: number) => metrics.count(route, status);

  const answer = (res: ServerResponse, route: string, status: number, body: unknown, headers: Record<string, string> = {}) => {
    count(route, status);
    sendJson(res, status, body, headers);
  };

  function paginate<T>(items: T[], ctx: Ctx, rl: Record<string, string>): { page: T[]; headers: Record<string, string> } | FieldError[] {
    const errors: FieldError[] = [];
    const pageRaw = ctx.query.get("page");
    const perRaw = ctx.query.get("per_page");
    const page = pageRaw === null ? 1 : /^\d{1,6}$/.test(pageRaw) ? Number(pageRaw) : NaN;
    const per = perRaw === null ? DEFAULT_PER_PAGE : /^\d{1,6}$/.test(perRaw) ? Number(perRaw) : NaN;
    if (!Number.isInteger(page) || page < 1) errors.push({ field: "page", message: "It should be a positive number", code: "invalid_value" });
    if (!Number.isInteger(per) || per < 1 || per > MAX_PER_PAGE) {
      errors.push({ field: "per_page", message: `It should be a number between 1 and ${MAX_PER_PAGE}`, code: "invalid_value" });
    }
    if (errors.length) return errors;
    const start = (page - 1) * per;
    const slice = items.slice(start, start + per);
    const headers = { ...rl };
    if (start + per < items.length) {
      const next = new URLSearchParams(ctx.query);
      next.set("page", String(page + 1));
      next.set("per_page", String(per));
      headers["Link"] = `<${baseUrl}${API_PREFIX}${ctx.path}?${next.toString()}>; rel="next"`;
    }
    return { page: slice, headers };
  }

  function unknownParams(q: URLSearchParams, allowed: string[]): FieldError[] {
    const out: FieldError[] = [];
    for (const k of new Set(q.keys())) {
      if (!allowed.includes(k)) out.push({ field: k.slice(0, 100), message: "Unexpected/invalid field in request", code: "invalid_field" });
    }
    return out.slice(0, 20);
  }

  async function readJson(ctx: Ctx, rl: Record<string, string>): Promise<{ ok: true; value: unknown } | { ok: false }> {
    const ct = String(ctx.req.headers["content-type"] ?? "");
    if (!/^application\/json\b/i.test(ct)) {
      ctx.req.resume();
      answer(ctx.res, ctx.route, 415, codeBody("invalid_content_type"), rl);
      return { ok: false };
    }
    const body = await readBody(ctx.req, maxBodyBytes);
    if (!body.ok) {
      if (body.reason === "too_large") {
        answer(ctx.res, ctx.route, 413, codeBody("request_too_large", `The request body is larger than ${maxBodyBytes} bytes.`), {
          ...rl,
          Connection: "close",
        });
      } else {
        count(ctx.route, 400);
      }
      return { ok: false };
    }
    try {
      return { ok: true, value: JSON.parse(body.text) as unknown };
    } catch {
      answer(ctx.res, ctx.route, 400, validationBody([{ field: "body", message: "The request body is not valid JSON", code: "invalid_json" }]), rl);
      return { ok: false };
    }
  }

  function requireManager(ctx: Ctx, rl: Record<string, string>): boolean {
    if (state.canManageAgents(ctx.agent)) return true;
    ctx.req.resume();
    answer(ctx.res, ctx.route, 403, codeBody("access_denied"), rl);
    return false;
  }

  async function handleApi(ctx: Ctx, route: { pattern: string; id?: number }, rl: Record<string, string>): Promise<void> {
    const { res } = ctx;
    const notFound = () => answer(res, ctx.route, 404, codeBody("not_found"), rl);
    switch (`${ctx.method} ${route.pattern}`) {
      case "GET /agents": {
        const bad = unknownParams(ctx.query, ["page", "per_page", "email", "active", "state", "query"]);
        const email = ctx.query.get("email");
        const active = ctx.query.get("active");
        const st = ctx.query.get("state");
        const q = ctx.query.get("query");
        if (active !== null && active !== "true" && active !== "false") bad.push({ field: "active", message: "It should be true or false", code: "invalid_value" });
        if (st !== null && st !== "fulltime" && st !== "occasional") bad.push({ field: "state", message: "It should be fulltime or occasional", code: "invalid_value" });
        const clauses = q === null ? [] : parseAgentQuery(q);
        if (clauses === undefined) bad.push({ field: "query", message: "It should be field:'value' terms joined by AND", code: "invalid_value" });
        if (email !== null && email.length > 254) bad.push({ field: "email", message: "It is too long", code: "invalid_value" });
        if (bad.length) return answer(res, ctx.route, 400, validationBody(bad), rl);
        let list = [...state.agents.values()];
        if (email !== null) list = list.filter((a) => a.email.toLowerCase() === email.toLowerCase());
        if (active !== null) list = list.filter((a) => a.active === (active === "true"));
        if (st !== null) list = list.filter((a) => a.occasional === (st === "occasional"));
        for (const c of clauses ?? []) {
          list = list.filter((a) => {
            const v = (a as unknown as Record<string, unknown>)[c.field];
            return typeof v === "string" && typeof c.value === "string" ? v.toLowerCase() === c.value.toLowerCase() : v === c.value;
          });
        }
        const p = paginate(list, ctx, rl);
        if (Array.isArray(p)) return answer(res, ctx.route, 400, validationBody(p), rl);
        return answer(res, ctx.route, 200, { agents: p.page.map(publicAgent) }, p.headers);
      }
      case "GET /agents/{id}": {
        const a = state.agents.get(route.id!);
        if (!a) return notFound();
        return answer(res, ctx.route, 200, { agent: publicAgent(a) }, rl);
      }
      case "POST /agents": {
        if (!requireManager(ctx, rl)) return;
        const body = await readJson(ctx, rl);
        if (!body.ok) return;
        const parsed = parseAgentBody(body.value, "create", state);
        if (!parsed.ok) return answer(res, ctx.route, 400, validationBody(parsed.errors), rl);
        const v = parsed.value;
        if (state.findAgentByEmail(v.email!)) {
          return answer(res, ctx.route, 409, validationBody([{ field: "email", message: "An agent or requester already uses this email", code: "duplicate_value" }]), rl);
        }
        if (state.agents.size >= maxAgents) {
          return answer(res, ctx.route, 409, codeBody("inconsistent_state", "The account has no room for more agents."), rl);
        }
        const a = state.createAgent({
          email: v.email!,
          first_name: v.first_name!,
          last_name: v.last_name,
          job_title: v.job_title,
          occasional: v.occasional,
          roles: v.roles,
          department_ids: v.department_ids,
        });
        return answer(res, ctx.route, 201, { agent: publicAgent(a) }, rl);
      }
      case "PUT /agents/{id}": {
        if (!requireManager(ctx, rl)) return;
        const a = state.agents.get(route.id!);
        if (!a) {
          ctx.req.resume();
          return notFound();
        }
        const body = await readJson(ctx, rl);
        if (!body.ok) return;
        const parsed = parseAgentBody(body.value, "update", state);
        if (!parsed.ok) return answer(res, ctx.route, 400, validationBody(parsed.errors), rl);
        const v = parsed.value;
        if (v.email !== undefined) {
          const other = state.findAgentByEmail(v.email);
          if (other && other.id !== a.id) {
            return answer(res, ctx.route, 409, validationBody([{ field: "email", message: "An agent or requester already uses this email", code: "duplicate_value" }]), rl);
          }
          a.email = v.email;
        }
        if (v.first_name !== undefined) a.first_name = v.first_name;
        if (v.last_name !== undefined) a.last_name = v.last_name;
        if (v.job_title !== undefined) a.job_title = v.job_title;
        if (v.occasional !== undefined) a.occasional = v.occasional;
        if (v.department_ids !== undefined) a.department_ids = v.department_ids;
        if (v.roles !== undefined) a.roles = v.roles;
        a.updated_at = state.nowIso();
        return answer(res, ctx.route, 200, { agent: publicAgent(a) }, rl);
      }
      case "DELETE /agents/{id}": {
        if (!requireManager(ctx, rl)) return;
        const a = state.agents.get(route.id!);
        if (!a) return notFound();
        if (a.id === ctx.agent.id) return answer(res, ctx.route, 409, codeBody("inconsistent_state", "An agent cannot deactivate itself."), rl);
        a.active = false;
        a.updated_at = state.nowIso();
        return answer(res, ctx.route, 204, undefined, rl);
      }
      case "PUT /agents/{id}/reactivate": {
        if (!requireManager(ctx, rl)) return;
        ctx.req.resume();
        const a = state.agents.get(route.id!);
        if (!a) return notFound();
        a.active = true;
        a.updated_at = state.nowIso();
        return answer(res, ctx.route, 200, { agent: publicAgent(a) }, rl);
      }
      case "DELETE /agents/{id}/forget": {
        if (!requireManager(ctx, rl)) return;
        const a = state.agents.get(route.id!);
        if (!a) return notFound();
        if (a.id === ctx.agent.id) return answer(res, ctx.route, 409, codeBody("inconsistent_state", "An agent cannot forget itself."), rl);
        state.agents.delete(a.id);
        for (const k of state.keysOf(a.id)) state.keys.delete(k);
        return answer(res, ctx.route, 204, undefined, rl);
      }
      case "GET /roles": {
        const bad = unknownParams(ctx.query, ["page", "per_page"]);
        if (bad.length) return answer(res, ctx.route, 400, validationBody(bad), rl);
        const p = paginate([...state.roles.values()], ctx, rl);
        if (Array.isArray(p)) return answer(res, ctx.route, 400, validationBody(p), rl);
        return answer(res, ctx.route, 200, { roles: p.page.map(publicRole) }, p.headers);
      }
      case "GET /roles/{id}": {
        const r = state.roles.get(route.id!);
        if (!r) return notFound();
        return answer(res, ctx.route, 200, { role: publicRole(r) }, rl);
      }
      case "GET /tickets": {
        if (!state.modules.tickets) return answer(res, ctx.route, 403, codeBody("require_feature"), rl);
        const bad = unknownParams(ctx.query, ["page", "per_page", "updated_since", "order_type"]);
        if (bad.length) return answer(res, ctx.route, 400, validationBody(bad), rl);
        const p = paginate(state.tickets, ctx, rl);
        if (Array.isArray(p)) return answer(res, ctx.route, 400, validationBody(p), rl);
        return answer(res, ctx.route, 200, { tickets: p.page.map((t) => ({ ...t })) }, p.headers);
      }
      default: {
        ctx.req.resume();
        return answer(res, ctx.route, 405, codeBody("method_not_allowed"), { ...rl, Allow: (ALLOWED_METHODS[route.pattern] ?? []).join(", ") });
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const rawUrl = req.url ?? "/";
    if (rawUrl.length > MAX_URL_LENGTH) {
      req.resume();
      return answer(res, `${method} (too long)`, 414, codeBody("uri_too_long", "The request URL is too long."));
    }
    let url: URL;
    try {
      url = new URL(rawUrl, "http://127.0.0.1");
    } catch {
      req.resume();
      return answer(res, `${method} (unknown)`, 400, codeBody("invalid_url", "The request URL cannot be parsed."));
    }
    if (!url.pathname.startsWith(`${API_PREFIX}/`)) {
      req.resume();
      return answer(res, `${method} (unknown)`, 404, codeBody("not_found"));
    }
    const path = url.pathname.slice(API_PREFIX.length).replace(/\/+$/, "") || "/";
    const route = routeOf(path);
    const routeName = `${method} ${route?.pattern ?? "(unknown)"}`;

    // Injected failures come first, like an outage in front of the account.
    const fault = faults.take(path);
    if (fault) {
      req.resume();
      return answer(res, routeName, fault.status, faultBody(fault.status), faultHeaders(fault, limiter.limits.perMinute));
    }

    // Every call counts against the account's minute, failed ones included.
    const decision = limiter.take(method === "GET" && route?.pattern === "/agents");
    if (!decision.allowed) {
      req.resume();
      return answer(res, routeName, 429, codeBody("rate_limited", MESSAGES.rate_limited), decision.headers);
    }
    const rl = decision.headers;

    const agent = authenticate(state, req.headers.authorization);
    if (!agent) {
      req.resume();
      return answer(res, routeName, 401, codeBody("invalid_credentials"), rl);
    }
    if (!route) {
      req.resume();
      return answer(res, routeName, 404, codeBody("not_found"), rl);
    }
    const ctx: Ctx = { req, res, method, path, query: url.searchParams, agent, route: routeName };
    await handleApi(ctx, route, rl);
  }

  const listening = await listenOnLoopback(
    (req, res) => {
      handle(req, res).catch(() => {
        count("(internal)", 500);
        sendJson(res, 500, codeBody("server_error"));
      });
    },
    { ...(opts.port !== undefined ? { port: opts.port } : {}), requestTimeoutMs },
  );
  baseUrl = listening.url;

  const mustAgent = (id: number): AgentEntry => {
    const a = state.agents.get(id);
    if (!a) throw new Error(`no agent ${id}`);
    return a;
  };

  return {
    url: baseUrl,
    domain,
    get adminAgentId() {
      return state.adminAgentId;
    },
    stop: () => listening.close(),
    metrics: () => metrics.snapshot(),
    resetMetrics: () => metrics.reset(),
    reset() {
      state.seed();
      limiter.limits = initialLimits();
      limiter.reset();
      faults.clear();
      clockOffset = 0;
      metrics.reset();
    },
    addKey(o = {}) {
      const agentId = o.agentId ?? state.adminAgentId;
      const a = mustAgent(agentId);
      a.apiKeyEnabled = true;
      return { key: state.issueKey(agentId), agentId };
    },
    regenerateKey(agentId) {
      mustAgent(agentId);
      for (const k of state.keysOf(agentId)) state.keys.delete(k);
      return state.issueKey(agentId);
    },
    revokeKey(key) {
      state.keys.delete(key);
    },
    setApiKeyEnabled(agentId, enabled) {
      mustAgent(agentId).apiKeyEnabled = enabled;
    },
    addAgent(a) {
      if (state.agents.size >= maxAgents) throw new Error("agent limit reached");
      if (state.findAgentByEmail(a.email)) throw new Error("email already used");
      const roles = (a.roleNames ?? ["SD Agent"]).map((n) => {
        const r = [...state.roles.values()].find((x) => x.name === n);
        if (!r) throw new Error(`no role named ${n}`);
        return { role_id: r.id, assignment_scope: "entire_helpdesk" as const, groups: [] };
      });
      const created = state.createAgent({ email: a.email, first_name: a.first_name, last_name: a.last_name, roles });
      if (a.active === false) created.active = false;
      return publicAgent(created);
    },
    addRole(r) {
      if (state.roles.size >= 200) throw new Error("role limit reached");
      return publicRole(state.addRole(r.name, r.description ?? "", r.manageAgents ?? false));
    },
    agent(id) {
      const a = state.agents.get(id);
      return a ? publicAgent(a) : undefined;
    },
    agents: () => [...state.agents.values()].map(publicAgent),
    roles: () => [...state.roles.values()].map(publicRole),
    setPlan(plan) {
      limiter.limits = { ...PLAN_RATE_LIMITS[plan] };
    },
    setRateLimits(l) {
      const next = { ...limiter.limits, ...l };
      if (!(next.perMinute >= 1 && next.listAgentsPerMinute >= 1)) throw new Error("rate limits must be at least 1");
      limiter.limits = next;
    },
    advanceClock(ms) {
      if (!(ms >= 0 && ms <= 24 * 3600_000)) throw new Error("advanceClock takes 0..1 day in ms");
      clockOffset += ms;
    },
    setModuleEnabled(module, enabled) {
      state.modules[module] = enabled;
    },
    failNext: (f) => faults.add(f),
  };
}
