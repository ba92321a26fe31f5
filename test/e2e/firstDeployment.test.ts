/**
 * A team's first deployment, verbatim from the README: a fresh program made from
 * Pulumi's `typescript` template installs keywire by the documented route (the release
 * tarball, docs/install.md), type-checks with the template's tsconfig, and runs README's
 * example through the real engine against the emulator on the token route where the
 * instance reveals nothing. The operator does what keywire prints: opens the key's form
 * at the printed link, copies the token, runs the printed `pulumi config set --secret`
 * command, and runs `pulumi up` again. Then `npx keywire drift` is clean and `destroy`
 * leaves no record keywire made.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningEmulator } from "../../emulator/servicenow";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";
import { packKeywire } from "../../scripts/package/packed";
import { setSecretConfigCommand } from "../../scripts/pulumi/secretConfig";
import { DRIFT_EXIT } from "../../scripts/drift/exitCodes";
import { PULUMI_SETUP_TIMEOUT_MS, PulumiToolchain, RunPulumiResult, TempBackend, createTempBackend, ensurePulumi, runPulumi } from "../support/pulumiCli";
import { ADMIN_PASSWORD, startEmulator } from "../support/serviceNow";
import { installTemplateProgram, typeCheck } from "../package/templateProgram";

jest.setTimeout(6 * 60_000);

const STACK = "dev";

let emu: RunningEmulator;
let tc: PulumiToolchain;
let work: string;
let project: string;
let backend: TempBackend;
let env: NodeJS.ProcessEnv;

/** README's example: the first TypeScript block under "Using keywire in your own Pulumi program". */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.search(/^## .*own Pulumi program/m));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("README.md has no TypeScript example under its own-program section");
  return block[1];
}

async function pulumi(args: string[], input?: string): Promise<RunPulumiResult> {
  return runPulumi([...args, "--stack", STACK, "--non-interactive"], { cwd: project, env, timeoutMs: 4 * 60_000, ...(input !== undefined ? { input } : {}) });
}

async function ok(args: string[], input?: string): Promise<RunPulumiResult> {
  const res = await pulumi(args, input);
  if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`);
  return res;
}

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "none" });
  tc = await ensurePulumi();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-e2e-first-"));
  const pack = await packKeywire(work, tc.env);
  project = path.join(work, "team-program");
  await installTemplateProgram(project, pack.tarball, tc.env);
  fs.writeFileSync(path.join(project, "index.ts"), readmeExample());
  backend = createTempBackend("keywire-e2e-first-backend-");
  env = { ...backend.env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
  await ok(["stack", "init"]);
  await ok(["config", "set", "servicenow:instanceUrl", emu.url]);
  await ok(["config", "set", "servicenow:username", "admin"]);
  const secret = setSecretConfigCommand("servicenow:password", ADMIN_PASSWORD);
  await ok(secret.args, secret.input);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  backend?.cleanup();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("a wrong password stops the first up with one error that names the setting, and no JavaScript stack", async () => {
  const wrong = setSecretConfigCommand("servicenow:password", "not-the-password");
  await ok(wrong.args, wrong.input);
  try {
    const res = await pulumi(["up", "--yes", "--skip-preview"]);
    expect(res.code).not.toBe(0);
    const said = res.stdout + res.stderr;
    const diagnostics = said.slice(said.indexOf("Diagnostics:"));
    expect(diagnostics).toMatch(/servicenow:password/);
    expect(said).not.toMatch(/\n\s+at .*\.(js|ts):\d+/);
    expect(said).not.toContain("not-the-password");
    // Nothing was made on the instance: the first call was refused.
    expect(emu.store.query("sys_user", (r) => r.user_name === "svc.events")).toEqual([]);
  } finally {
    const right = setSecretConfigCommand("servicenow:password", ADMIN_PASSWORD);
    await ok(right.args, right.input);
  }
});

test("README's example type-checks under the template's tsconfig", async () => {
  const checked = await typeCheck(project, tc.env);
  expect(checked).toEqual({ code: 0, output: "" });
});

test("on an instance that reveals no token, the first up stops with a link and a command; done as printed, the next up completes", async () => {
  const first = await pulumi(["up", "--yes", "--skip-preview"]);
  expect(first.code).not.toBe(0);
  const said = first.stdout + first.stderr;
  const command = "pulumi config set --secret keywire:apiKeyToken";
  expect(said).toContain(command);
  // Said once, as one Pulumi error under the key, without a JavaScript stack.
  const diagnostics = said.slice(said.indexOf("Diagnostics:"));
  expect(diagnostics.split(command).length - 1).toBe(1);
  expect(diagnostics).toMatch(/ApiKey \(events-key\):\s+error:/);
  expect(said).not.toMatch(/\n\s+at .*\.(js|ts):\d+/);
  const link = /https?:\/\/127\.0\.0\.1:\d+\/nav_to\.do\?uri=api_key\.do%3Fsys_id%3D([0-9a-f]{32})/.exec(said);
  expect(link).not.toBeNull();

  // The operator opens the key's form (signed in) and copies the token from it.
  const form = await fetch(link![0], { headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}` } });
  expect(form.status).toBe(200);
  const token = /now_[A-Za-z0-9_-]{86}/.exec(await form.text())?.[0];
  expect(token).toBe(emu.tokenOf(link![1]));

  // The printed command reads the token from standard input.
  await ok(command.split(" ").slice(1), `${token}\n`);
  await ok(["up", "--yes", "--skip-preview"]);
  const outputs = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, unknown>;
  expect(outputs.apiKeySysId).toBe(link![1]);
  const key = emu.store.get("api_key", link![1]);
  expect(key?.active).toBe("true");
  // The key authenticates, as the chain verification proved.
  const probe = await fetch(`${emu.url}/api/now/table/sys_user?sysparm_limit=1&x-sn-apikey=${encodeURIComponent(token!)}`);
  expect(probe.status).toBe(200);
  await probe.arrayBuffer();
});

test("npx keywire drift, in the team's directory, finds nothing to change", async () => {
  const res = await runCommand("npx", ["keywire", "drift", "--stack", STACK], { cwd: project, env: { ...tc.env, ...env }, timeoutMs: 4 * 60_000 });
  expect({ code: res.code, stdout: res.stdout }).toEqual({ code: DRIFT_EXIT.clean, stdout: `stack ${STACK}: no drift\n` });
});

test("destroy leaves no record keywire made; the shipped records it changed are as they were", async () => {
  await ok(["destroy", "--yes", "--skip-preview"]);
  const user = emu.store.query("sys_user", (r) => r.user_name === "svc.events");
  expect(user).toEqual([]);
  expect(emu.store.query("api_key", (r) => r.name.startsWith("platform "))).toEqual([]);
  expect(emu.store.query("http_key_auth", (r) => r.name.startsWith("platform "))).toEqual([]);
  expect(emu.store.query("sys_api_access_policy", (r) => r.name.startsWith("platform "))).toEqual([]);
  expect(emu.store.query("sys_rate_limit_rules", (r) => r.name.startsWith("platform "))).toEqual([]);
  for (const name of ["Table GET API Access Policy", "Table POST API Access Policy"]) {
    expect(emu.store.query("sys_api_access_policy", (r) => r.name === name).map((r) => r.active)).toEqual(["true"]);
  }
  expect(emu.store.query("sn_em_connector_push_instance", (r) => r.name === "AWS SNS push connector")).toHaveLength(1);
});
