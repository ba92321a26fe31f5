/**
 * Load test of the ServiceNow emulator on loopback: requests/s, p50 and p99 for get-by-id,
 * a list with a query, and POST. The emulator runs in a child process so the load generator
 * does not share its event loop. Request counts are bounded.
 */
import "../config/requireNode22";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20000);
const WARMUP = Math.min(2000, Math.floor(REQUESTS / 5));
/** Handed to the emulator through the environment, so it neither shows in `ps` nor lands in .demo/. */
const ADMIN_PASSWORD = randomBytes(18).toString("base64url");
const AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`;

interface Result {
  name: string;
  count: number;
  seconds: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time the server process spent per request (user + system), in microseconds */
  serverCpuUs: number;
}

/** A bare node:http server answering a fixed small JSON body: the ceiling any handler on this machine works under. */
const BASELINE = `
const http = require("node:http");
const body = JSON.stringify({ result: { sys_id: "0".repeat(32), number: "INC0010001", short_description: "baseline" } });
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(req.method === "POST" ? 201 : 200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => console.log("servicenow emulator listening on http://127.0.0.1:" + server.address().port));
process.on("SIGTERM", () => process.exit(0));
`;

/** CPU seconds (user + system) used so far by a process, from /proc; undefined where /proc is missing. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function startChild(baseline = false): Promise<{ child: ChildProcess; url: string }> {
  const root = join(__dirname, "..");
  const args = baseline
    ? ["-e", BASELINE]
    : [join(root, "node_modules/ts-node/dist/bin.js"), "--transpile-only", join(root, "emulator/servicenow/cli.ts"), "--port", "0"];
  const env = { ...process.env, KEYWIRE_EMULATOR_ADMIN_PASSWORD: ADMIN_PASSWORD };
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("emulator did not start within 60 s")), 60_000);
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.on("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
  });
}

function call(agent: Agent, url: string, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Authorization: AUTH, Accept: "application/json" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(body);
    }
    const req = request(url + path, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function run(
  name: string,
  agent: Agent,
  url: string,
  serverPid: number,
  next: (i: number) => { method: string; path: string; body?: string },
  expect: number,
): Promise<Result> {
  let issued = 0;
  let errors = 0;
  const latencies: number[] = [];
  const worker = async (measure: boolean, total: number): Promise<void> => {
    while (issued < total) {
      const i = issued++;
      const r = next(i);
      const t0 = process.hrtime.bigint();
      const res = await call(agent, url, r.method, r.path, r.body);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.status !== expect) errors++;
      if (measure) latencies.push(ms);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(false, WARMUP)));
  issued = 0;
  errors = 0;
  const cpu0 = cpuSeconds(serverPid);
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(true, REQUESTS)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu1 = cpuSeconds(serverPid);
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  const serverCpuUs = cpu0 === undefined || cpu1 === undefined ? NaN : ((cpu1 - cpu0) * 1e6) / latencies.length;
  return { name, count: latencies.length, seconds, p50: pct(0.5), p99: pct(0.99), errors, serverCpuUs };
}

async function main(): Promise<void> {
  const results: Result[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  const base = await startChild(true);
  try {
    results.push(await run("bare node:http GET", agent, base.url, base.child.pid!, () => ({ method: "GET", path: "/" }), 200));
  } finally {
    base.child.kill("SIGTERM");
  }

  const { child, url } = await startChild();
  try {
    const list = await call(agent, url, "GET", "/api/now/table/incident?sysparm_fields=sys_id");
    const ids = (JSON.parse(list.text) as { result: Array<{ sys_id: string }> }).result.map((r) => r.sys_id);
    // Give the list scenario a realistic table: a few hundred incidents, every impact/urgency
    // pair in turn, so the derived priorities spread over 1..5.
    for (let i = 0; i < 500; i++) {
      const fields = { short_description: `seeded ${i}`, impact: (i % 3) + 1, urgency: (Math.floor(i / 3) % 3) + 1, active: i % 4 !== 0 };
      await call(agent, url, "POST", "/api/now/table/incident", JSON.stringify(fields));
    }
    const pid = child.pid!;
    results.push(await run("GET by sys_id", agent, url, pid, (i) => ({ method: "GET", path: `/api/now/table/incident/${ids[i % ids.length]}` }), 200));
    results.push(
      await run(
        "GET list with query",
        agent,
        url,
        pid,
        () => ({ method: "GET", path: "/api/now/table/incident?sysparm_query=active%3Dtrue%5Epriority%3C3%5EORDERBYnumber&sysparm_limit=10" }),
        200,
      ),
    );
    results.push(
      await run(
        "POST",
        agent,
        url,
        pid,
        (i) => ({ method: "POST", path: "/api/now/table/problem", body: JSON.stringify({ short_description: `bench ${i}`, priority: 3 }) }),
        201,
      ),
    );
  } finally {
    agent.destroy();
    child.kill("SIGTERM");
  }

  process.stdout.write(
    `\nServiceNow emulator on loopback: ${REQUESTS} requests per scenario, ${CONCURRENCY} concurrent keep-alive connections, basic auth\n\n`,
  );
  process.stdout.write(
    `${"scenario".padEnd(22)}${"req/s".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"server CPU µs/req".padStart(19)}${"errors".padStart(8)}\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(22)}${Math.round(r.count / r.seconds)
        .toString()
        .padStart(
          9,
        )}${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}${(Number.isNaN(r.serverCpuUs) ? "n/a" : r.serverCpuUs.toFixed(0)).padStart(19)}${String(r.errors).padStart(8)}\n`,
    );
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.message}\n`);
  process.exit(1);
});
