/**
 * keywire's local stack through the real Pulumi engine, against the in-process
 * emulator: what mocks and provider tests cannot see — serialized providers,
 * secrets in the state file, refresh and drift, repairs, destroy, and state
 * written by an older provider version, run by the changed code.
 *
 * The steps build on each other, so they run in order in one file.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningEmulator } from "../../emulator/servicenow";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";
import { builtFromCurrentSources } from "../../scripts/package/build";
import { LOCAL_STACK, LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS, TempBackend, ensurePulumi } from "../support/pulumiCli";
import { ADMIN_PASSWORD, startEmulator } from "../support/serviceNow";
import { ProviderLoads, recordProviderLoads } from "../support/providerLoads";
import type { DriftReport } from "../../scripts/drift/driftReport";

jest.setTimeout(10 * 60_000);

const STACK = LOCAL_STACK;
let emu: RunningEmulator;
let stack: LocalStack;
let backend: TempBackend;
let project: string;
let env: NodeJS.ProcessEnv;

async function ok(args: string[]) {
  const res = await stack.run(args);
  if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`);
  return res;
}

/** `npm run drift` as CI runs it, against this project. */
async function drift(): Promise<{ code: number; report: DriftReport; text: string }> {
  const tc = await ensurePulumi();
  const jsonFile = path.join(project, "drift.json");
  const r = await runCommand(
    path.join(REPO_ROOT, "node_modules", ".bin", "ts-node"),
    ["--transpile-only", path.join(REPO_ROOT, "scripts", "drift", "cli.ts"), "--stack", STACK, "--cwd", project, "--json", jsonFile],
    { cwd: REPO_ROOT, env: { ...tc.env, ...env }, timeoutMs: 5 * 60_000 },
  );
  const code = r.code ?? 1;
  if (code !== 0 && code !== 7) throw new Error(`drift exited ${r.timedOut ? "(timed out)" : code}: ${r.stderr.slice(-3000)}`);
  return { code, report: JSON.parse(fs.readFileSync(jsonFile, "utf8")) as DriftReport, text: r.stdout };
}

function one(table: string, predicate: (r: Record<string, string>) => boolean): Record<string, string> {
  const rows = emu.store.query(table, predicate);
  expect(rows).toHaveLength(1);
  return rows[0];
}

/** The stack's checkpoint in the file backend (wherever this CLI version keeps it). */
function stateFile(): string {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== "history" && e.name !== "backups") walk(p);
      else if (e.isFile() && e.name === `${STACK}.json`) found.push(p);
    }
  };
  walk(path.join(backend.dir, "state", ".pulumi"));
  expect(found).toHaveLength(1);
  return fs.readFileSync(found[0], "utf8");
}

let shippedBefore: Record<string, string>[] = [];
let loads: ProviderLoads;
let loadsDir: string;

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  shippedBefore = emu.store.query("sys_api_access_policy", (r) => r.name.startsWith("Table ")).map((r) => ({ ...r }));
  loadsDir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-e2e-stack-loads-"));
  loads = recordProviderLoads(loadsDir, [REPO_ROOT, os.tmpdir()]);
  // Sources copied: a test below changes the provider code.
  stack = await createLocalStack("stack", emu.url, { copySources: true, env: loads.env });
  ({ backend, project, env } = stack);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  stack?.cleanup();
  if (loadsDir) fs.rmSync(loadsDir, { recursive: true, force: true });
});

test("up creates the chain; a second up changes nothing", async () => {
  await ok(["up", "--yes", "--skip-preview"]);
  const outputs = JSON.parse((await ok(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, unknown>;
  expect(outputs.verified).toBe(true);
  expect(outputs.tokenSource).toBe("input_display_value");
  const key = one("api_key", (r) => r.sys_id === outputs.apiKeySysId);
  expect(String(outputs.inboundEndpoint)).toContain(`x-sn-apikey=${emu.tokenOf(key.sys_id)}`);
  await ok(["up", "--yes", "--skip-preview", "--expect-no-changes"]);

  // dist/ was built from these sources (npm test builds), so the provider process
  // ran the compiled library: no TypeScript compiled, no ts-node registered.
  if (!builtFromCurrentSources()) throw new Error("dist/ is not built from the current sources: run `npm run build` (npm test does) before this suite");
  const compiled = loads.relativeTo(REPO_ROOT).filter((l) => !l.path.startsWith(".."));
  expect(compiled.map((l) => l.path)).toEqual(expect.arrayContaining(["dist/servicenow/index.js", "dist/servicenow/engine/recordEngine.js"]));
  expect(loads.read().filter((l) => l.file.endsWith(".ts") || l.tsHook)).toEqual([]);
});

test("the state file, __provider included, holds no token and no password in clear text", async () => {
  const outputs = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, unknown>;
  const state = stateFile();
  const token = emu.tokenOf(String(outputs.apiKeySysId));
  expect(token).toBeDefined();
  expect(state).not.toContain(token!);
  expect(state).not.toContain(ADMIN_PASSWORD);
  expect(state).toContain("__provider");
  expect(state).toContain("ciphertext");
});

test("a clean instance is no drift (exit 0)", async () => {
  const clean = await drift();
  expect(clean.code).toBe(0);
  expect(clean.report.drifted).toBe(false);
});

test("out-of-band changes are drift, named by resource and property; up repairs them", async () => {
  const outputs = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, unknown>;
  const keyId = String(outputs.apiKeySysId);
  const profileId = String(outputs.inboundProfileSysId);
  const header = one("sys_token_auth_parameter", (r) => r.type === "auth_header");
  const tableGet = one("sys_api_access_policy", (r) => r.name === "Table GET API Access Policy");
  emu.store.update("api_key", keyId, { active: "false" });
  emu.store.update("http_key_auth", profileId, { auth_parameter: header.sys_id });
  emu.store.update("sys_api_access_policy", tableGet.sys_id, { active: "false" });

  const first = await drift();
  expect(first.code).toBe(7);
  const byResource = new Map(first.report.items.map((i) => [i.resource, i]));
  expect(byResource.get("ApiKey keywire-key")?.properties).toEqual([{ property: "active", expected: true, actual: false, source: "instance" }]);
  expect(byResource.get("InboundProfile keywire-profile")?.properties).toEqual([
    { property: "keyLocation", expected: "query", actual: "header", source: "instance" },
  ]);
  expect(byResource.get("AccessPolicy keywire-table-get")?.properties).toEqual([{ property: "active", expected: true, actual: false, source: "instance" }]);
  // The chain check's diagnosis is told with the change that explains it, not as an item of its own.
  expect(byResource.get("ApiKey keywire-key")?.breaks).toBe("the key is inactive: run pulumi up to re-activate it");
  expect(byResource.has("ApiKeyVerification keywire-verification")).toBe(false);
  expect(first.report.items).toHaveLength(3);
  expect(first.text).toContain("ApiKey keywire-key: active changed on the instance → pulumi up --refresh will set active back to true");

  // The state still says "as deployed": repairing drift means refreshing first.
  await ok(["up", "--refresh", "--yes", "--skip-preview"]);
  expect(emu.store.get("api_key", keyId)?.active).toBe("true");
  expect(emu.store.get("http_key_auth", profileId)?.auth_parameter).not.toBe(header.sys_id);
  expect(emu.store.get("sys_api_access_policy", tableGet.sys_id)?.active).toBe("true");

  // Records deleted out of band: the key and a link.
  const link = emu.store.query("sys_auth_profile_mapping", (r) => r.inbound_auth_profile === profileId && r.api_access_policy !== tableGet.sys_id)[0];
  emu.store.delete("sys_auth_profile_mapping", link.sys_id);
  const deletedToken = emu.tokenOf(keyId);
  emu.store.delete("api_key", keyId);
  const second = await drift();
  expect(second.code).toBe(7);
  const actions = new Map(second.report.items.map((i) => [i.resource, i.action]));
  expect(actions.get("ApiKey keywire-key")).toBe("recreate");
  expect([...actions.entries()].some(([r, a]) => r.startsWith("AccessPolicyProfileLink ") && a === "recreate")).toBe(true);

  await ok(["up", "--refresh", "--yes", "--skip-preview"]);
  const repaired = await drift();
  expect(repaired.code).toBe(0);
  const after = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, unknown>;
  expect(after.verified).toBe(true);
  // A new key: the resource's own sys_id may come back (the deleted record no longer holds it), its token does not.
  const recreated = emu.store.get("api_key", String(after.apiKeySysId));
  expect(recreated?.active).toBe("true");
  expect(emu.tokenOf(String(after.apiKeySysId))).not.toBe(deletedToken);
});

test("state written by an older provider version is refreshed and destroyed by the changed code; destroy leaves the instance as it was", async () => {
  // The state stores a reference to the provider's module, so refresh and destroy run
  // the checkout's code (as a provider plugin would) on what the older code wrote.
  // The changed code here records every read and delete it runs.
  const engine = path.join(project, "resources", "servicenow", "engine", "recordEngine.ts");
  const calls = path.join(project, "provider-calls.log");
  const source = fs.readFileSync(engine, "utf8");
  const changed = source
    .replace(
      "async read(id: string, props?: RecordOutputs): Promise<pulumi.dynamic.ReadResult> {",
      `async read(id: string, props?: RecordOutputs): Promise<pulumi.dynamic.ReadResult> {\n      require("fs").appendFileSync(${JSON.stringify(calls)}, "read\\n");`,
    )
    .replace(
      "async delete(id: string, props: RecordOutputs): Promise<void> {",
      `async delete(id: string, props: RecordOutputs): Promise<void> {\n      require("fs").appendFileSync(${JSON.stringify(calls)}, "delete\\n");`,
    );
  expect(changed).not.toBe(source);
  fs.writeFileSync(engine, changed);
  loads.clear();
  const count = (what: string) =>
    fs.existsSync(calls)
      ? fs
          .readFileSync(calls, "utf8")
          .split("\n")
          .filter((l) => l === what).length
      : 0;

  // Every ServiceNow record resource in the state (the probe, preflight, the key's leftovers and the policies' handover are not records).
  const records = (JSON.parse(stateFile()).checkpoint.latest.resources as Array<{ type: string }>).filter((r) =>
    /keywire\/servicenow:(?!ApiKeyVerification$|Preflight$|KeyLeftovers$|PolicyHandover$)/.test(r.type),
  ).length;
  expect(records).toBeGreaterThan(5);
  await ok(["refresh", "--yes", "--skip-preview"]);
  expect(count("read")).toBe(records);
  // The build is no longer of these sources: the provider process compiled them instead.
  const projectRoot = fs.realpathSync(project);
  expect(loads.read().filter((l) => l.file === path.join(projectRoot, "resources", "servicenow", "engine", "recordEngine.ts"))).toHaveLength(1);
  expect(loads.read().filter((l) => l.file.startsWith(path.join(fs.realpathSync(REPO_ROOT), "dist") + path.sep))).toEqual([]);
  await ok(["destroy", "--yes", "--skip-preview"]);
  expect(count("delete")).toBe(records);

  // Nothing keywire created is left.
  for (const table of ["api_key", "http_key_auth", "sys_auth_profile_mapping", "sys_rate_limit_rules", "sys_user_has_role"]) {
    expect(emu.store.query(table, (r) => r.sys_created_by === "admin")).toEqual([]);
  }
  expect(emu.store.query("sys_user", (r) => r.user_name === "svc.keywire.events")).toEqual([]);
  expect(emu.store.query("sys_api_access_policy", (r) => r.name.startsWith("keywire"))).toEqual([]);
  // The shipped policies keywire adopted are as they were.
  const shippedAfter = emu.store.query("sys_api_access_policy", (r) => r.name.startsWith("Table "));
  for (const before of shippedBefore) {
    const now = shippedAfter.find((r) => r.sys_id === before.sys_id);
    expect(now?.active).toBe(before.active);
    expect(now?.api_tablename).toBe(before.api_tablename);
  }
});
