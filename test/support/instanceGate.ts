/**
 * A loopback proxy in front of the in-process ServiceNow emulator, for the crash matrix:
 * the stack's `servicenow:instanceUrl` names the gate, and the gate tells the test the
 * moment the instance answered a given request, which is the moment it committed it (the
 * emulator answers a write only once it is in its store). From that moment the gate is
 * shut: that answer and every later one are held, and no new request reaches the emulator,
 * so nothing commits between the moment and the kill and the run never learns the outcome.
 * After the kill the test opens the gate again: held exchanges are dropped (their run is
 * dead) or delivered (to a run whose CLI alone was killed, as an instance would answer).
 *
 * The two-stack test (test/e2e/twoStacks.test.ts) uses the same moment differently: it
 * looks at the instance after each write a run makes, before the run learns of it (`inspect`).
 *
 * The emulator's own behaviour is untouched: requests and answers pass through unchanged,
 * only the Host header names the emulator.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** One request and the instance's answer to it. */
export interface Exchange {
  method: string;
  /** The request's path, without its query. */
  path: string;
  query: URLSearchParams;
  /** For a Table API request (`/api/now/table/<table>[/<sys_id>]`). */
  table?: string;
  sysId?: string;
  /** The instance's answer. */
  status: number;
  body: string;
}

/** Whether an exchange is the moment a test waits for. */
export type Moment = (x: Exchange) => boolean;

/** How long the gate waits for the emulator's answer to one request. */
const UPSTREAM_TIMEOUT_MS = 60_000;
/** A connection silent this long is closed, so an exchange nobody opens the gate for is not held forever. */
const HOLD_LIMIT_MS = 5 * 60_000;
const TABLE_PATH = /^\/api\/now\/(?:v\d+\/)?table\/([^/?]+)(?:\/([^/?]+))?\/?$/;

interface Held {
  /** Sends the exchange on: forwards a request not yet sent, or writes an answer already received. */
  deliver(): void;
  drop(): void;
}

export interface InstanceGate {
  /** `http://127.0.0.1:<port>`: what the stack's instanceUrl is set to. */
  url: string;
  /** Every exchange so far, one line each ("POST api_key 201"), for failure messages. */
  log: string[];
  /** Shuts the gate at the first exchange from now on for which `moment` is true; resolves with it. */
  arm(moment: Moment): Promise<Exchange>;
  /** Whether the gate is shut. */
  readonly shut: boolean;
  /**
   * From now on, `check` runs after the instance answered each request and before the answer
   * is passed on, so the run cannot act on a write before the check has seen its effect;
   * undefined stops it.
   */
  inspect(check: ((x: Exchange) => Promise<void>) | undefined): void;
  /** Opens the gate: held exchanges are dropped or delivered, and requests pass again. No-op when open. */
  open(held: "drop" | "deliver"): void;
  close(): Promise<void>;
}

/** One line for the log, e.g. "POST api_key 201". */
function summary(x: Exchange): string {
  return `${x.method} ${x.table !== undefined ? `${x.table}${x.sysId !== undefined ? `/${x.sysId}` : ""}` : x.path} ${x.status}`;
}

export async function startInstanceGate(upstreamUrl: string): Promise<InstanceGate> {
  const upstream = new URL(upstreamUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const log: string[] = [];
  let armed: { moment: Moment; resolve: (x: Exchange) => void } | undefined;
  let inspector: ((x: Exchange) => Promise<void>) | undefined;
  let shut = false;
  let held: Held[] = [];

  /** Holds `h` while the gate is shut, else runs it now. */
  const pass = (h: Held): void => {
    if (!shut) return h.deliver();
    held.push(h);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => res.destroy());
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const forward = (): void => {
        const headers = { ...req.headers, host: upstream.host };
        const up = http.request(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent, timeout: UPSTREAM_TIMEOUT_MS },
          (answer) => {
            const parts: Buffer[] = [];
            answer.on("data", (c: Buffer) => parts.push(c));
            answer.on("error", () => res.destroy());
            answer.on("end", () => {
              const text = Buffer.concat(parts);
              const u = new URL(req.url ?? "/", upstreamUrl);
              const t = TABLE_PATH.exec(u.pathname);
              const x: Exchange = {
                method: (req.method ?? "GET").toUpperCase(),
                path: u.pathname,
                query: u.searchParams,
                ...(t ? { table: decodeURIComponent(t[1]), ...(t[2] !== undefined ? { sysId: decodeURIComponent(t[2]) } : {}) } : {}),
                status: answer.statusCode ?? 0,
                body: text.toString("utf8"),
              };
              log.push(summary(x));
              const write = (): void => {
                if (res.destroyed) return;
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                res.end(text);
              };
              const passOn = (): void => {
                // Decided before the answer is passed on: from this exchange on, the gate is shut.
                if (armed && !shut && armed.moment(x)) {
                  shut = true;
                  const { resolve } = armed;
                  armed = undefined;
                  held.push({ deliver: write, drop: () => res.destroy() });
                  resolve(x);
                  return;
                }
                pass({ deliver: write, drop: () => res.destroy() });
              };
              // A check that fails records its own finding; the answer goes on either way.
              if (inspector) inspector(x).then(passOn, passOn);
              else passOn();
            });
          },
        );
        up.on("timeout", () => up.destroy(new Error("upstream timeout")));
        up.on("error", () => res.destroy());
        up.end(body);
      };
      pass({ deliver: forward, drop: () => res.destroy() });
    });
  });
  server.requestTimeout = HOLD_LIMIT_MS;
  server.keepAliveTimeout = 2_000;
  server.on("connection", (s) => s.setTimeout(HOLD_LIMIT_MS, () => s.destroy()));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    arm: (moment) =>
      new Promise<Exchange>((resolve) => {
        armed = { moment, resolve };
      }),
    get shut() {
      return shut;
    },
    inspect: (check) => {
      inspector = check;
    },
    open: (how) => {
      armed = undefined;
      if (!shut) return;
      shut = false;
      const waiting = held;
      held = [];
      for (const h of waiting) (how === "deliver" ? h.deliver : h.drop)();
    },
    close: async () => {
      armed = undefined;
      for (const h of held) h.drop();
      held = [];
      shut = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
