/** Small HTTP helpers for the Ivanti emulator. */
import type { ServerResponse } from "node:http";
import type { Reply } from "./reply";

function send(res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader("Content-Type", contentType);
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.statusCode = status;
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(body), "application/json; charset=utf-8", headers);
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  if ("json" in reply) sendJson(res, reply.status, reply.json, reply.headers);
  else send(res, reply.status, reply.text, reply.contentType);
}
