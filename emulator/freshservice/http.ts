/** Small HTTP helpers for the Freshservice emulator: bounded body reading and JSON answers. */
import type { IncomingMessage, ServerResponse } from "node:http";

export type BodyResult = { ok: true; text: string } | { ok: false; reason: "too_large" | "aborted" };

/** Reads at most `limit` bytes; anything longer is refused without buffering the rest. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve({ ok: false, reason: "too_large" });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    req.on("data", (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        finish({ ok: false, reason: "too_large" });
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => finish({ ok: true, text: Buffer.concat(chunks).toString("utf8") }));
    req.on("error", () => finish({ ok: false, reason: "aborted" }));
    req.on("close", () => finish({ ok: false, reason: "aborted" }));
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  const text = body === undefined ? "" : JSON.stringify(body);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (text) {
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.setHeader("Content-Length", Buffer.byteLength(text));
  } else {
    res.setHeader("Content-Length", 0);
  }
  res.statusCode = status;
  res.end(text);
}
