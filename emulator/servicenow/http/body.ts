/** Reads a request body with a size limit; an oversized body is drained (within bounds), not kept. */
import type { IncomingMessage } from "node:http";

/**
 * `body` is the text most handlers parse; `bytes` the same body unchanged, for binary uploads.
 * `gone`: the connection was cut (here, or by the client mid-body); there is no one to answer.
 */
export type BodyResult = { body: string; bytes: Buffer } | { tooLarge: true } | { gone: true };

const EMPTY = Buffer.alloc(0);

/** Past this many times the limit, the connection is cut instead of drained. */
const DRAIN_FACTOR = 16;

export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const te = req.headers["transfer-encoding"];
  const cl = req.headers["content-length"];
  // No framing headers means no body: skip the stream machinery (most GETs take this path).
  if (te === undefined && (cl === undefined || cl === "0")) return Promise.resolve({ body: "", bytes: EMPTY });
  return new Promise((resolve) => {
    const declared = Number(req.headers["content-length"] ?? "");
    let size = 0;
    let over = Number.isFinite(declared) && declared > limit;
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (r: BodyResult): void => {
      if (!done) {
        done = true;
        resolve(r);
      }
    };
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      if (!over) chunks.push(c);
      else if (size > limit * DRAIN_FACTOR) {
        req.destroy();
        finish({ gone: true });
      }
    });
    req.on("end", () => {
      if (over) return finish({ tooLarge: true });
      const bytes = Buffer.concat(chunks);
      finish({ body: bytes.toString("utf8"), bytes });
    });
    req.on("error", () => finish({ gone: true }));
    // A connection closed before the body ended: nothing to answer, and a partial body must never be acted on.
    req.on("close", () => finish({ gone: true }));
  });
}
