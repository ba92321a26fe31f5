/**
 * An emulator's HTTP server: bound to 127.0.0.1 only, bounded (request and header
 * deadlines, idle sockets, connection and header counts), answering a malformed
 * request with 400 rather than failing, refusing requests addressed to another host or
 * sent from another site's page, and closed together with every connection
 * it holds so that a test's stop never waits on a keep-alive socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { refuseForeign } from "./loopbackGuard";

export interface LoopbackServer {
  server: Server;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export async function listenOnLoopback(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  opts: { port?: number; requestTimeoutMs: number },
): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    if (!refuseForeign(req, res)) handler(req, res);
  });
  server.requestTimeout = opts.requestTimeoutMs;
  server.headersTimeout = Math.min(opts.requestTimeoutMs, 10_000);
  server.keepAliveTimeout = 2_000;
  server.maxHeadersCount = 100;
  server.maxConnections = 256;
  server.on("connection", (s) => s.setTimeout(opts.requestTimeoutMs, () => s.destroy()));
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
