/**
 * `npm run emulator -- token <api_key sys_id> --url <emulator URL>`: prints a key's token for a
 * person, as the key's form would show it, by asking a running emulator's admin API. The admin
 * API answers loopback callers only, so the URL must name this machine.
 */
import { request } from "node:http";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
const TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 64 * 1024;

export const TOKEN_HELP = `Usage: npm run emulator -- token <api_key sys_id> (--url <emulator URL> | --port <n>)

Prints the token of an api_key record of a running emulator on stdout, for a person to copy
(what the key's form shows). The emulator must listen on this machine.
`;

export class TokenUsageError extends Error {}

export interface TokenCommand {
  sysId: string;
  base: URL;
}

export function parseTokenArgs(argv: string[]): TokenCommand | "help" {
  let sysId: string | undefined;
  let base: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    if (arg === "--url" || arg === "--port") {
      const v = argv[++i];
      if (v === undefined) throw new TokenUsageError(`${arg} needs a value`);
      if (arg === "--port" && !/^\d{1,5}$/.test(v)) throw new TokenUsageError(`--port needs a port number, got "${v}"`);
      base = arg === "--url" ? v : `http://127.0.0.1:${v}`;
    } else if (arg.startsWith("-")) {
      throw new TokenUsageError(`unknown option ${arg} (see token --help)`);
    } else if (sysId === undefined) {
      sysId = arg;
    } else {
      throw new TokenUsageError(`unexpected argument ${arg}`);
    }
  }
  if (!sysId || !/^[0-9a-f]{32}$/.test(sysId)) throw new TokenUsageError("give the api_key record's sys_id (32 lowercase hex characters)");
  if (!base) throw new TokenUsageError("give the emulator's URL with --url, or its port with --port");
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new TokenUsageError(`--url is not a URL: ${base}`);
  }
  if (url.protocol !== "http:" || !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new TokenUsageError(`the emulator's admin API is loopback-only: --url must be http://127.0.0.1:<port>, got ${url.origin}`);
  }
  return { sysId, base: url };
}

/** The key's token, or an Error saying why there is none. */
export function fetchToken(cmd: TokenCommand): Promise<string> {
  const url = new URL(`/__emulator/token/${cmd.sysId}`, cmd.base);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", agent: false, timeout: TIMEOUT_MS, headers: { Accept: "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= MAX_ANSWER_BYTES) chunks.push(c);
      });
      res.on("error", (e) => reject(e));
      res.on("end", () => {
        let body: { token?: unknown; error?: unknown } = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
        } catch {
          // not JSON: reported below by status
        }
        if (res.statusCode === 200 && typeof body.token === "string") resolve(body.token);
        else reject(new Error(typeof body.error === "string" ? body.error : `the emulator answered ${res.statusCode ?? "nothing"}`));
      });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${cmd.base.origin} within ${TIMEOUT_MS / 1000} s`)));
    req.on("error", (e) => reject(new Error(`cannot reach the emulator at ${cmd.base.origin}: ${e.message}`)));
    req.end();
  });
}
