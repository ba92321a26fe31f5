/**
 * The HTTP server and its request pipeline:
 * Host/Origin check (the shared loopback server) -> admin routes | count -> read body -> injected faults
 * -> authenticate -> rate limit -> handler. Record forms (form.ts) sign in on their own, without
 * REST API policies or rate limits.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { listenOnLoopback, type LoopbackServer } from "../shared/loopbackServer";
import { handleAdmin } from "./admin";
import { attachmentBodyLimit, attachmentCall, attachmentRoute, attachmentRouteName, handleAttachment, type AttachmentRoute } from "./attachmentApi";
import { ATTACHMENT_TABLE } from "./attachmentStore";
import { rolesAllow } from "./auth/directory";
import { authenticate, type Principal } from "./auth/judge";
import type { ApiCall } from "./auth/policy";
import type { Emulator } from "./emulator";
import { writeCutOff } from "./faults";
import { formRoute, handleForm, type FormRoute } from "./form";
import { readBody } from "./http/body";
import { errorReply, writeReply, type Reply } from "./http/reply";
import { handleInboundEvent } from "./inboundEvent";
import { MAX_LATE_COMMIT_MS, MAX_LATENCY_MS } from "./options";
import { handleTable } from "./tableApi";

type Route =
  { kind: "table"; version: string; table: string; sysId?: string } | AttachmentRoute | { kind: "event" } | FormRoute | { kind: "oauth" } | { kind: "unknown" };

const TABLE_PATH = /^\/api\/now\/(?:(v\d+)\/)?table\/([^/]+)(?:\/([^/]+))?\/?$/;
const EVENT_PATH = /^\/api\/sn_em_connector\/(?:v\d+\/)?em\/inbound_event\/?$/;
const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const NO_RESOURCE = errorReply(400, "Requested URI does not represent any resource", null);
/** Deadline for receiving a whole request: roomier than the other emulators', for attachment uploads. */
const REQUEST_TIMEOUT_MS = 60_000;
/**
 * Injected latency (with jitter) and a late commit's hold leave a socket silent; their longest
 * values together, plus a minute, bound any such silence, so the idle-socket limit never cuts a held request.
 */
const HELD_SOCKET_MS = 2 * MAX_LATENCY_MS + MAX_LATE_COMMIT_MS + 60_000;
/**
 * Longer than the idle time of Node's default keep-alive agent (5 s), which keywire's clients use,
 * so the client drops an idle connection first and never sends a request on one the server is closing.
 */
const KEEP_ALIVE_MS = 30_000;

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function route(em: Emulator, path: string, query: URLSearchParams): Route {
  const t = TABLE_PATH.exec(path);
  if (t) {
    const version = t[1] ?? "";
    if (version && version !== "v1" && version !== "v2") return { kind: "unknown" };
    return { kind: "table", version, table: safeDecode(t[2]), sysId: t[3] === undefined ? undefined : safeDecode(t[3]) };
  }
  const a = attachmentRoute(path);
  if (a) return a;
  // Without the Event Management Connectors plugin its REST API does not exist, for any caller.
  if (EVENT_PATH.test(path)) return em.eventApiActive() ? { kind: "event" } : { kind: "unknown" };
  if (path === "/oauth_token.do") return { kind: "oauth" };
  return formRoute(path, query) ?? { kind: "unknown" };
}

function routeName(method: string, r: Route): string {
  switch (r.kind) {
    case "table":
      return `${method} now/table${r.sysId === undefined ? "" : "/{sys_id}"}`;
    case "attachment":
      return attachmentRouteName(method, r);
    case "event":
      return `${method} em/inbound_event`;
    case "oauth":
      return `${method} /oauth_token.do`;
    case "form":
      return `${method} form`;
    default:
      return `${method} other`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withHeaders(reply: Reply, headers: Record<string, string>): Reply {
  if (Object.keys(headers).length === 0) return reply;
  return { ...reply, headers: { ...headers, ...reply.headers } };
}

async function handle(em: Emulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const arrived = Date.now();
  const method = (req.method ?? "GET").toUpperCase();
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));

  if (path.startsWith("/__emulator/")) {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? "")) return writeReply(res, { status: 403, body: { error: "admin API is loopback-only" } });
    const body = await readBody(req, em.opts.maxBodyBytes);
    if ("gone" in body) return;
    if ("tooLarge" in body) return writeReply(res, { status: 413, body: { error: "body too large" }, headers: { Connection: "close" } });
    return writeReply(res, handleAdmin(em, method, path, body.body));
  }

  const r = route(em, path, query);
  // Attachment requests count, and match fault filters, under the table that holds them.
  const table = r.kind === "table" ? r.table : r.kind === "attachment" ? ATTACHMENT_TABLE : undefined;
  em.metrics.count(method, routeName(method, r), table);

  const bodyLimit = r.kind === "attachment" ? attachmentBodyLimit(em.opts) : em.opts.maxBodyBytes;
  const read = await readBody(req, bodyLimit);
  if ("gone" in read) return;
  if ("tooLarge" in read) {
    return writeReply(res, errorReply(413, "Request entity too large", `The request body exceeds ${bodyLimit} bytes`, { Connection: "close" }));
  }

  const delay = em.faults.delayMs();
  if (delay > 0) await sleep(delay);
  if (em.faults.takeDrop(method, table)) {
    req.socket.destroy();
    return;
  }
  const injected = em.faults.takeFailure(method, table);
  if (injected) return writeReply(res, injected);

  let reply: Reply;
  if (r.kind === "unknown") {
    reply = NO_RESOURCE;
  } else if (r.kind === "oauth") {
    reply = method === "POST" ? em.oauth.tokenRequest(req, read.body) : errorReply(405, "Method not Supported", "Use POST");
  } else if (r.kind === "form") {
    reply = handleForm(em, method, req.headers.authorization, r);
  } else {
    const call: ApiCall =
      r.kind === "table"
        ? {
            apiPath: "now/table",
            resource: `/now/table/${r.table}${r.sysId === undefined ? "" : `/${r.sysId}`}`,
            method,
            // Unversioned Table API calls are served by the default version, v2.
            version: r.version || "v2",
            table: r.table,
          }
        : r.kind === "attachment"
          ? attachmentCall(method, r)
          : { apiPath: "sn_em_connector/em", resource: "/sn_em_connector/em/inbound_event", method, version: "v1" };
    const judged = authenticate(em, req, query, call);
    if ("reply" in judged) return writeReply(res, judged.reply);
    const principal = judged.principal;
    const rate = em.rateLimiter.check(principal.user.sys_id, principal.roles, call);
    if (rate.refusal) return writeReply(res, rate.refusal);
    const lateMs = em.faults.takeLateCommit(method, table);
    let served: Reply | undefined;
    try {
      // A late commit is held before the handler runs, so the record is absent until delayMs after arrival.
      if (lateMs === undefined || (await em.faults.hold(arrived + lateMs - Date.now()))) {
        served = await apiReply(em, r, { method, query, req, body: read.body, bytes: read.bytes, principal });
      }
    } finally {
      if (lateMs !== undefined) em.faults.lateWriteDone();
    }
    if (served === undefined || lateMs !== undefined) {
      // Cancelled while held, or carried out late: either way the client, likely gone by now, never hears of it.
      req.socket.destroy();
      return;
    }
    reply = withHeaders(served, rate.headers);
    if (reply.status < 300 && method !== "GET") {
      const lose = em.faults.takeCommitThenFail(method, table);
      if (lose === "drop") {
        req.socket.destroy();
        return;
      }
      if (lose === "500") reply = errorReply(500, "Internal Server Error", "Injected fault after commit");
    }
  }
  if (reply.body !== undefined && em.faults.takeResetMidBody(method, table)) return writeCutOff(res, reply);
  writeReply(res, reply);
}

interface ApiRequest {
  method: string;
  query: URLSearchParams;
  req: IncomingMessage;
  body: string;
  bytes: Buffer;
  principal: Principal;
}

/** The answer of the Table, Attachment or Event Management API to an authenticated call. */
async function apiReply(em: Emulator, r: Extract<Route, { kind: "table" | "attachment" | "event" }>, a: ApiRequest): Promise<Reply> {
  if (r.kind === "table") {
    return handleTable(em, { method: a.method, version: r.version, table: r.table, sysId: r.sysId, query: a.query, body: a.body, principal: a.principal });
  }
  if (r.kind === "attachment")
    return handleAttachment(em, { method: a.method, route: r, query: a.query, headers: a.req.headers, bytes: a.bytes, principal: a.principal });
  if (a.method !== "POST") return errorReply(405, "Method not Supported", "Use POST");
  if (!rolesAllow(a.principal.roles, [["evt_mgmt_integration"]])) {
    return errorReply(403, "Insufficient rights", "The user needs the evt_mgmt_integration role to send events");
  }
  return handleInboundEvent(em.store, { query: a.query, headers: a.req.headers, body: a.body, principal: a.principal });
}

/** Serves the emulator on 127.0.0.1 through the server all the emulators share. */
export function listenServiceNow(em: Emulator, port: number | undefined): Promise<LoopbackServer> {
  return listenOnLoopback(
    (req, res) => {
      handle(em, req, res).catch(() => {
        // Whatever went wrong, answer like the platform's generic failure instead of crashing.
        if (!res.headersSent && !res.destroyed) writeReply(res, errorReply(500, "Internal Server Error", null));
        else res.destroy();
      });
    },
    {
      ...(port !== undefined ? { port } : {}),
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      idleSocketMs: HELD_SOCKET_MS,
      keepAliveMs: KEEP_ALIVE_MS,
      // Refusals carry the platform's error envelope, like every other answer of this emulator.
      refuse: (res, foreign) => writeReply(res, errorReply(foreign.status, foreign.message, foreign.detail)),
    },
  );
}
