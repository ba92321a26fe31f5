/**
 * An emulator's HTTP server: bound to 127.0.0.1 only, bounded (request and header
 * deadlines, idle sockets, connection and header counts), answering a malformed
 * request with 400 rather than failing, refusing requests addressed to another host or
 * sent from another site's page, and closed together with every connection
 * it holds so that a test's stop never waits on a keep-alive socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { foreignRequest, writePlainRefusal, type ForeignRequest } from "./loopbackGuard";

export interface LoopbackServer {
  server: Server;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export interface LoopbackServerOptions {
  /** Default 0: the system picks a free port. */
  port?: number;
  /** Deadline for receiving a whole request; the headers alone get at most 10 s of it. */
  requestTimeoutMs: number;
  /**
   * A socket that sends and receives nothing for this long is destroyed; default
   * requestTimeoutMs. An emulator that holds requests unanswered on purpose sets it above
   * its longest hold, or the hold would end early in a closed connection.
   */
  idleSocketMs?: number;
  /** How long a kept-alive connection may wait for its next request; default 2 s. */
  keepAliveMs?: number;
  /** Answers a request refused as foreign, in the emulator's own error format; default a plain JSON body. */
  refuse?: (res: ServerResponse, foreign: ForeignRequest) => void;
}

export async function listenOnLoopback(handler: (req: IncomingMessage, res: ServerResponse) => void, opts: LoopbackServerOptions): Promise<LoopbackServer> {
  const refuse = opts.refuse ?? writePlainRefusal;
  const idleSocketMs = opts.idleSocketMs ?? opts.requestTimeoutMs;
  const server = createServer((req, res) => {
    // Before the handler, admin routes included: neither a rebound DNS name nor another site's page may drive an emulator.
    const foreign = foreignRequest(req.headers);
    if (foreign) refuse(res, foreign);
    else handler(req, res);
  });
  server.requestTimeout = opts.requestTimeoutMs;
  server.headersTimeout = Math.min(opts.requestTimeoutMs, 10_000);
  server.keepAliveTimeout = opts.keepAliveMs ?? 2_000;
  server.maxHeadersCount = 100;
  server.maxConnections = 256;
  server.on("connection", (s) => s.setTimeout(idleSocketMs, () => s.destroy()));
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
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
