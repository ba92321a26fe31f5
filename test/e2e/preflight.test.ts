/**
 * Preflight through the real engine: on an instance that is not ready, `up`
 * stops before anything is written and says what to fix.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningEmulator } from "../../emulator/servicenow";
import { prepareProject } from "../../scripts/demo/project";
import { REPO_ROOT } from "../../scripts/pulumi/toolchain";
import { PULUMI_SETUP_TIMEOUT_MS, TempBackend, createTempBackend, ensurePulumi, runPulumi } from "../support/pulumiCli";
import { ADMIN_PASSWORD, startEmulator } from "../support/serviceNow";

jest.setTimeout(10 * 60_000);

const STACK = "local";
let emu: RunningEmulator;
let backend: TempBackend;
let project: string;
let env: NodeJS.ProcessEnv;

async function pulumi(args: string[]) {
  return runPulumi([...args, "--stack", STACK, "--non-interactive"], { cwd: project, env, timeoutMs: 5 * 60_000 });
}

beforeAll(async () => {
  await ensurePulumi();
  emu = await startEmulator({ plugin: "inactive" });
  backend = createTempBackend("keywire-e2e-preflight-");
  project = prepareProject(REPO_ROOT, fs.mkdtempSync(path.join(os.tmpdir(), "keywire-e2e-preflight-")), { stack: STACK });
  env = { ...backend.env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
  for (const args of [["stack", "init"], ["config", "set", "servicenow:instanceUrl", emu.url], ["config", "set", "--secret", "servicenow:password", ADMIN_PASSWORD]]) {
    const res = await pulumi(args);
    if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")}: ${res.stderr}`);
  }
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  backend?.cleanup();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

test("an inactive plugin and a missing push connector stop up before any record is written", async () => {
  const connector = emu.store.query("sn_em_connector_push_instance", () => true)[0];
  emu.store.delete("sn_em_connector_push_instance", connector.sys_id);
  const before = emu.metrics().byMethod;
  const res = await pulumi(["up", "--yes", "--skip-preview"]);
  expect(res.code).not.toBe(0);
  const out = res.stdout + res.stderr;
  expect(out).toMatch(/com\.glide\.tokenbased_auth is installed but inactive: activate it/);
  expect(out).toMatch(/no push connector instance is named "AWS SNS push connector"/);
  expect(out).toMatch(/Nothing was created/);
  expect(out).not.toContain(ADMIN_PASSWORD);
  // Not one write reached the instance.
  const after = emu.metrics().byMethod;
  for (const method of ["POST", "PATCH", "PUT", "DELETE"]) expect(after[method] ?? 0).toBe(before[method] ?? 0);
});
