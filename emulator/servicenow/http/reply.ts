/** Answers as values: handlers return a Reply, and one writer puts it on the wire. */
import type { ServerResponse } from "node:http";

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and Buffers as they are; undefined = no body. */
  body?: unknown;
}

export const JSON_TYPE = "application/json;charset=UTF-8";

/** The platform's error envelope. */
export function errorReply(status: number, message: string, detail: string | null = null, headers?: Record<string, string>): Reply {
  return { status, headers, body: { error: { message, detail }, status: "failure" } };
}

export function notAuthenticated(detail = "Required to provide Auth information"): Reply {
  return errorReply(401, "User Not Authenticated", detail, { "WWW-Authenticate": 'BASIC realm="Service-now"' });
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string | number> = { ...reply.headers };
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const text = typeof reply.body === "string" || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body);
  if (!headers["Content-Type"]) headers["Content-Type"] = JSON_TYPE;
  headers["Content-Length"] = Buffer.byteLength(text);
  res.writeHead(reply.status, headers);
  res.end(text);
}
