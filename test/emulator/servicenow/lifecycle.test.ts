import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServiceNowEmulator } from "../../../emulator/servicenow";
import { HELP, parseArgs } from "../../../emulator/servicenow/cli";
import { spawnCli } from "./cliProcess";
import { ADMIN, call, client } from "./helpers";

describe("1. start and stop", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sn-emulator-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("in-process start on a free port returns the loopback URL; stop closes the port", async () => {
    const em = await startServiceNowEmulator();
    expect(em.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(em.url.split(":")[2])).toBeGreaterThan(0);
    expect((await client(em.url).get("/api/now/table/incident")).status).toBe(200);
    await em.stop();
    await expect(call(em.url, "GET", "/api/now/table/incident", { auth: ADMIN })).rejects.toThrow(/ECONNREFUSED/);
  });

  test("an explicit port is used", async () => {
    const first = await startServiceNowEmulator();
    const port = Number(first.url.split(":")[2]);
    await first.stop();
    const second = await startServiceNowEmulator({ port });
    try {
      expect(second.url).toBe(`http://127.0.0.1:${port}`);
    } finally {
      await second.stop();
    }
  });

  test("invalid options are refused with a message", async () => {
    await expect(startServiceNowEmulator({ plugin: "maybe" as never })).rejects.toThrow(/plugin/);
  });

  test("the CLI prints one listening line with the real port and stops on SIGTERM and SIGINT", async () => {
    await Promise.all(
      (["SIGTERM", "SIGINT"] as const).map(async (signal) => {
        const cli = spawnCli(["--port", "0"]);
        const url = await cli.ready;
        expect(url).not.toMatch(/:0$/);
        expect((await client(url).get("/api/now/table/incident?sysparm_limit=1")).status).toBe(200);
        cli.child.kill(signal);
        expect(await cli.exited).toBe(0);
      }),
    );
  });

  test("--help lists the switches; unknown flags fail", () => {
    expect(parseArgs(["--help"])).toBe("help");
    for (const flag of [
      "--port",
      "--data",
      "--admin-password",
      "--plugin",
      "--shipped-policies",
      "--basic-auth-restriction",
      "--token-readback",
      "--latency-ms",
      "--jitter-ms",
      "--error-rate",
      "--rest-api-key-profile",
    ]) {
      expect(HELP).toContain(flag);
    }
    expect(() => parseArgs(["--nope"])).toThrow(/unknown option/);
    expect(() => parseArgs(["--plugin", "maybe"])).toThrow(/active, inactive, absent/);
    expect(() => parseArgs(["--port"])).toThrow(/needs a value/);
  });

  test("CLI flags map to options", () => {
    expect(
      parseArgs([
        "--port",
        "8123",
        "--data",
        "/tmp/x.json",
        "--admin-password",
        "pw",
        "--plugin",
        "inactive",
        "--shipped-policies=inactive",
        "--basic-auth-restriction",
        "--token-readback",
        "display_value",
        "--rest-api-key-profile",
        "active",
        "--latency-ms",
        "50",
        "--jitter-ms",
        "5",
        "--error-rate",
        "0.25",
        "--query-parameter-type",
        "query",
        "--rate-limit-column",
        "rate_per_hour",
        "--auth-scope-column",
        "scopes",
        "--max-body-bytes",
        "2048",
      ]),
    ).toEqual({
      port: 8123,
      dataFile: "/tmp/x.json",
      adminPassword: "pw",
      plugin: "inactive",
      shippedPolicies: "inactive",
      basicAuthRestriction: true,
      tokenReadback: "display_value",
      restApiKeyProfile: "active",
      queryParameterType: "query",
      rateLimitColumn: "rate_per_hour",
      authScopeColumn: "scopes",
      maxBodyBytes: 2048,
      faults: { latencyMs: 50, jitterMs: 5, errorRate: 0.25 },
    });
  });

  test("with a data file, records and API keys survive a restart", async () => {
    const file = join(dir, "instance.json");
    const first = await startServiceNowEmulator({ dataFile: file });
    const created = await client(first.url).post("/api/now/table/incident", { short_description: "persist me" });
    const key = await client(first.url).post("/api/now/table/api_key", {
      name: "persisted key",
      user: first.store.query("sys_user", (u) => u.user_name === "admin")[0].sys_id,
    });
    const token = first.tokenOf(key.body.result.sys_id);
    await first.stop();

    const second = await startServiceNowEmulator({ dataFile: file });
    try {
      const again = await client(second.url).get(`/api/now/table/incident/${created.body.result.sys_id}`);
      expect(again.status).toBe(200);
      expect(again.body.result.short_description).toBe("persist me");
      expect(second.tokenOf(key.body.result.sys_id)).toBe(token);
    } finally {
      await second.stop();
    }
    // Only the data file remains: no temporary files left behind.
    expect(readdirSync(dir)).toEqual(["instance.json"]);
    expect(() => JSON.parse(readFileSync(file, "utf8"))).not.toThrow();
  });

  test("a corrupt data file stops the start and is left untouched", async () => {
    const file = join(dir, "broken.json");
    writeFileSync(file, '{"format":"keywire-servicenow-emu');
    await expect(startServiceNowEmulator({ dataFile: file })).rejects.toThrow(/not valid JSON/);
    expect(readFileSync(file, "utf8")).toBe('{"format":"keywire-servicenow-emu');
  });

  test("a kill in the middle of a stream of writes leaves a complete, loadable file", async () => {
    const file = join(dir, "killed.json");
    const cli = spawnCli(["--port", "0", "--data", file]);
    const url = await cli.ready;
    const c = client(url);
    let stop = false;
    const writers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 400 && !stop; i++) {
        await c.post("/api/now/table/incident", { short_description: `w${i}`, description: "x".repeat(2000) }).catch(() => undefined);
      }
    });
    await new Promise((r) => setTimeout(r, 700));
    cli.child.kill("SIGKILL");
    stop = true;
    await Promise.all(writers);
    await cli.exited;
    const snap = JSON.parse(readFileSync(file, "utf8"));
    expect(snap.format).toBe("keywire-servicenow-emulator");
    const reloaded = await startServiceNowEmulator({ dataFile: file });
    try {
      expect((await client(reloaded.url).get("/api/now/table/incident?sysparm_limit=1")).status).toBe(200);
    } finally {
      await reloaded.stop();
    }
  });

  test("stop() flushes pending writes", async () => {
    const file = join(dir, "flush.json");
    const em = await startServiceNowEmulator({ dataFile: file });
    em.store.insert("incident", { short_description: "written just before stop" });
    await em.stop();
    const snap = JSON.parse(readFileSync(file, "utf8"));
    expect(JSON.stringify(snap.tables.incident)).toContain("written just before stop");
  });
});
