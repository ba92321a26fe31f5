/**
 * The HTTP server and its request pipeline:
 * Host/Origin check (the shared loopback server) -> drain the body -> URL under
 * `<api root>/odata/` -> injected faults -> key check -> GET only -> OData route.
 * Every answer is counted under its route.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { listenOnLoopback, type LoopbackServer } from "../shared/loopbackServer";
import { authorize, refusalBody } from "./auth";
import { businessObjectRoute, readBusinessObjects } from "./businessObjectApi";
import { faultBody, faultHeaders, type Faults } from "./faults";
import { sendJson, writeReply } from "./http";
import type { KeyStore } from "./keys";
import type { Metrics } from "./metrics";
import type { RecordStore } from "./records";
import { invalidPath, ismError, type Reply } from "./reply";

const MAX_URL_LENGTH = 4096;
const MAX_DRAIN_BYTES = 1024 * 1024;

/** What tests switch while the emulator runs. */
export interface Switches {
  /** Serve under `/HEAT/api` instead of `/api`. */
  heatPrefix: boolean;
  /** The client address the server believes it sees; undefined: the socket's. */
  clientIp: string | undefined;
}

/** The parts of the emulator the pipeline uses. */
export interface PipelineParts {
  tenant: string;
  keys: Pick<KeyStore, "get">;
  switches: Readonly<Switches>;
  records: Pick<RecordStore, "rowsOf">;
  metrics: Pick<Metrics, "count" | "refused">;
  faults: Pick<Faults, "take">;
  /** The server's own URL, known once it listens. */
  baseUrl(): string;
}

/** A reply and the route it is counted under. */
interface Answer {
  route: string;
  reply: Reply;
}

function apiRoot(switches: Readonly<Switches>): string {
  return switches.heatPrefix ? "/HEAT/api" : "/api";
}

/** Requests carry no body the emulator needs: it is drained, and an oversized one cut off. */
function drain(req: IncomingMessage): Answer | undefined {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) {
    req.resume();
    return {
      route: "(too large)",
      reply: { status: 413, json: ismError("ISM_4000", "Invalid Request Payload", "The request body is too large"), headers: { Connection: "close" } },
    };
  }
  let drained = 0;
  req.on("data", (c: Buffer) => {
    drained += c.length;
    if (drained > MAX_DRAIN_BYTES) req.destroy();
  });
  req.resume();
  return undefined;
}

/** The decoded path after `<api root>/odata/` and the query; for a URL outside it, its answer. */
function odataTarget(root: string, rawUrl: string, method: string): { rest: string; query: URLSearchParams } | Answer {
  if (rawUrl.length > MAX_URL_LENGTH)
    return { route: "(too long)", reply: { status: 414, json: ismError("ISM_4000", "Invalid Request Payload", "The request URL is too long") } };
  let url: URL;
  try {
    url = new URL(rawUrl, "http://127.0.0.1");
  } catch {
    return { route: "(unknown)", reply: invalidPath() };
  }
  if (!url.pathname.startsWith(root)) return { route: `${method} (unknown)`, reply: invalidPath() };
  try {
    return { rest: decodeURIComponent(url.pathname.slice(root.length)), query: url.searchParams };
  } catch {
    return { route: `${method} (unknown)`, reply: invalidPath() };
  }
}

function respond(p: PipelineParts, req: IncomingMessage): Answer {
  const tooLarge = drain(req);
  if (tooLarge) return tooLarge;
  const method = (req.method ?? "GET").toUpperCase();
  const root = apiRoot(p.switches);
  const target = odataTarget(`${root}/odata/`, req.url ?? "/", method);
  if ("reply" in target) return target;
  const route = businessObjectRoute(target.rest);
  const name = `${method} ${route?.pattern ?? "(unknown)"}`;

  const fault = p.faults.take();
  if (fault) return { route: name, reply: { status: fault.status, json: faultBody(fault.status), headers: faultHeaders(fault) } };
  const auth = authorize(req, p.keys, p.tenant, p.switches.clientIp);
  if (typeof auth === "string") {
    p.metrics.refused(auth);
    return { route: name, reply: { status: 401, json: refusalBody(auth) } };
  }
  if (!route) return { route: name, reply: invalidPath() };
  if (method !== "GET") {
    return { route: name, reply: { status: 405, json: ismError("ISM_4000", "Invalid Request Payload", "Only GET is served here"), headers: { Allow: "GET" } } };
  }
  const metadataUrl = () => `${p.baseUrl()}${root}/odata/$metadata`;
  return { route: name, reply: readBusinessObjects({ records: p.records, metrics: p.metrics, metadataUrl }, route, target.query, auth.role) };
}

async function handle(p: PipelineParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { route, reply } = respond(p, req);
  p.metrics.count(route, reply.status);
  writeReply(res, reply);
}

/** Serves the tenant on 127.0.0.1 through the server all the emulators share. */
export function listenIvanti(p: PipelineParts, opts: { port?: number; requestTimeoutMs: number }): Promise<LoopbackServer> {
  return listenOnLoopback(
    (req, res) => {
      handle(p, req, res).catch(() => {
        p.metrics.count("(internal)", 500);
        sendJson(res, 500, ismError("ISM_5000", "Internal Server Error", "Unexpected failure"));
      });
    },
    { ...(opts.port !== undefined ? { port: opts.port } : {}), requestTimeoutMs: opts.requestTimeoutMs },
  );
}
