/** Small HTTP helpers for the Freshservice emulator: bounded body reading and JSON answers. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { codeReply, validationReply, type Reply } from "./reply";

type BodyResult = { ok: true; text: string } | { ok: false; reason: "too_large" | "aborted" };

/** Reads at most `limit` bytes; anything longer is refused without buffering the rest. */
function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
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

/** The request's JSON body, or the answer for one that is not JSON, too large or cut off. */
export async function readJson(req: IncomingMessage, maxBodyBytes: number): Promise<{ ok: true; value: unknown } | { ok: false; reply: Reply }> {
  const ct = String(req.headers["content-type"] ?? "");
  if (!/^application\/json\b/i.test(ct)) {
    req.resume();
    return { ok: false, reply: codeReply(415, "invalid_content_type") };
  }
  const body = await readBody(req, maxBodyBytes);
  if (!body.ok) {
    if (body.reason === "too_large") {
      return { ok: false, reply: codeReply(413, "request_too_large", `The request body is larger than ${maxBodyBytes} bytes.`, { Connection: "close" }) };
    }
    return { ok: false, reply: { status: 400, unsent: true } };
  }
  try {
    return { ok: true, value: JSON.parse(body.text) as unknown };
  } catch {
    return { ok: false, reply: validationReply([{ field: "body", message: "The request body is not valid JSON", code: "invalid_json" }]) };
  }
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
