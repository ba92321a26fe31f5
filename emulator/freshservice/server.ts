/**
 * The HTTP server and its request pipeline:
 * Host/Origin check (the shared loopback server) -> URL under /api/v2 -> injected faults
 * -> rate limit -> authenticate -> route handler. Every answer is counted under its route.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { listenOnLoopback, type LoopbackServer } from "../shared/loopbackServer";
import { authenticate } from "./auth";
import { faultBody, faultHeaders, type Faults } from "./faults";
import { sendJson } from "./http";
import type { Metrics } from "./metrics";
import type { RateLimiter } from "./rateLimit";
import { codeBody, codeReply, MESSAGES, notFound, type Reply } from "./reply";
import type { ApiHandler } from "./request";
import { methodNotAllowed, routeOf, type ApiRoute } from "./routes";
import type { AccountState, AgentEntry } from "./state";

const API_PREFIX = "/api/v2";
const MAX_URL_LENGTH = 4096;

/** The parts of the emulator the pipeline uses. */
export interface PipelineParts {
  account: Pick<AccountState, "authenticate">;
  limiter: Pick<RateLimiter, "take" | "limits">;
  metrics: Pick<Metrics, "count">;
  faults: Pick<Faults, "take">;
  /** Keyed by `"<METHOD> <pattern>"`. */
  handlers: ReadonlyMap<string, ApiHandler>;
  /** The server's own URL, known once it listens. */
  baseUrl(): string;
}

/** A reply and the route it is counted under. */
interface Answer {
  route: string;
  reply: Reply;
}

/** The path under /api/v2 and the query; for a URL outside the API, its answer. */
function apiTarget(rawUrl: string): { path: string; query: URLSearchParams } | Answer {
  if (rawUrl.length > MAX_URL_LENGTH) return { route: "(too long)", reply: codeReply(414, "uri_too_long", "The request URL is too long.") };
  let url: URL;
  try {
    url = new URL(rawUrl, "http://127.0.0.1");
  } catch {
    return { route: "(unknown)", reply: codeReply(400, "invalid_url", "The request URL cannot be parsed.") };
  }
  if (!url.pathname.startsWith(`${API_PREFIX}/`)) return { route: "(unknown)", reply: notFound() };
  return { path: url.pathname.slice(API_PREFIX.length).replace(/\/+$/, "") || "/", query: url.searchParams };
}

/** The refusals in front of every handler, in the platform's order; past them, the caller and the minute's headers. */
function admit(
  p: PipelineParts,
  req: IncomingMessage,
  method: string,
  path: string,
  route: ApiRoute | undefined,
): { reply: Reply } | { agent: AgentEntry; route: ApiRoute; rateHeaders: Record<string, string> } {
  // Injected failures come first, like an outage in front of the account.
  const fault = p.faults.take(path);
  if (fault) return { reply: { status: fault.status, body: faultBody(fault.status), headers: faultHeaders(fault, p.limiter.limits.perMinute) } };
  // Every call counts against the account's minute, failed ones included.
  const decision = p.limiter.take(method === "GET" && route?.pattern === "/agents");
  if (!decision.allowed) return { reply: codeReply(429, "rate_limited", MESSAGES.rate_limited, decision.headers) };
  const rateHeaders = decision.headers;
  const agent = authenticate(p.account, req.headers.authorization);
  if (!agent) return { reply: codeReply(401, "invalid_credentials", undefined, rateHeaders) };
  if (!route) return { reply: codeReply(404, "not_found", undefined, rateHeaders) };
  return { agent, route, rateHeaders };
}

/** Every answer past the rate limiter carries the minute's headers. */
function withHeaders(reply: Reply, rateHeaders: Record<string, string>): Reply {
  return { ...reply, headers: { ...rateHeaders, ...reply.headers } };
}

async function respond(p: PipelineParts, req: IncomingMessage): Promise<Answer> {
  const method = (req.method ?? "GET").toUpperCase();
  const target = apiTarget(req.url ?? "/");
  if ("reply" in target) {
    req.resume();
    return { route: `${method} ${target.route}`, reply: target.reply };
  }
  const route = routeOf(target.path);
  const name = `${method} ${route?.pattern ?? "(unknown)"}`;
  const admitted = admit(p, req, method, target.path, route);
  if ("reply" in admitted) {
    req.resume();
    return { route: name, reply: admitted.reply };
  }
  const handler = p.handlers.get(`${method} ${admitted.route.pattern}`);
  if (!handler) {
    req.resume();
    return { route: name, reply: withHeaders(methodNotAllowed(admitted.route.pattern), admitted.rateHeaders) };
  }
  const selfUrl = `${p.baseUrl()}${API_PREFIX}${target.path}`;
  const reply = await handler({ req, query: target.query, agent: admitted.agent, id: admitted.route.id, selfUrl });
  return { route: name, reply: withHeaders(reply, admitted.rateHeaders) };
}

async function handle(p: PipelineParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { route, reply } = await respond(p, req);
  p.metrics.count(route, reply.status);
  if (!reply.unsent) sendJson(res, reply.status, reply.body, reply.headers);
}

/** Serves the API on 127.0.0.1 through the server all the emulators share. */
export function listenFreshservice(p: PipelineParts, opts: { port?: number; requestTimeoutMs: number }): Promise<LoopbackServer> {
  return listenOnLoopback(
    (req, res) => {
      handle(p, req, res).catch(() => {
        p.metrics.count("(internal)", 500);
        sendJson(res, 500, codeBody("server_error"));
      });
    },
    { ...(opts.port !== undefined ? { port: opts.port } : {}), requestTimeoutMs: opts.requestTimeoutMs },
  );
}
