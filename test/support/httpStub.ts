/**
 * A scriptable HTTP server on 127.0.0.1 for client tests. Each test supplies a handler;
 * the stub records every request (method, path, query, headers, body) so tests can
 * count POSTs or inspect what was sent.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface StubRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type StubHandler = (req: StubRequest, res: http.ServerResponse) => void | Promise<void>;

export interface HttpStub {
  url: string;
  requests: StubRequest[];
  setHandler(h: StubHandler): void;
  stop(): Promise<void>;
}

export async function startHttpStub(handler: StubHandler): Promise<HttpStub> {
  let current = handler;
  const requests: StubRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const u = new URL(req.url ?? "/", "http://127.0.0.1");
      const sreq: StubRequest = {
        method: req.method ?? "GET",
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(sreq);
      Promise.resolve(current(sreq, res)).catch((e: unknown) => {
        res.statusCode = 599;
        res.end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler: (h) => {
      current = h;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(text);
}

/** The ServiceNow error envelope. */
export function sendSnError(res: http.ServerResponse, status: number, message: string, detail = "", headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { message, detail }, status: "failure" }, headers);
}

/** Drop the connection without an answer (the client sees ECONNRESET / socket hang up). */
export function dropConnection(res: http.ServerResponse): void {
  res.socket?.destroy();
}

/** Never answer; the socket is closed when the stub stops. */
export function hang(): void {
  // Intentionally nothing: the client's deadline must fire.
}
