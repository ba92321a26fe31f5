/**
 * keywire as a team installs it: `npm pack` makes the package, the example program
 * (examples/servicenow-api-key, a Pulumi program of its own) installs that tarball
 * with `npm install`, and the real engine deploys it against the in-process
 * emulator, refreshes it and destroys it.
 *
 * The example's other dependencies are resolved through the checkout's lockfile, so
 * npm takes every tarball from the cache the checkout's own install filled (offline
 * where it can). Nothing of the checkout is linked into the example: it sees only
 * what the package ships.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningEmulator } from "../../emulator/servicenow";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";
import { NPM_TIMEOUT_MS, installPacked, packKeywire } from "../../scripts/package/packed";
import { setSecretConfigCommand } from "../../scripts/pulumi/secretConfig";
import { PULUMI_SETUP_TIMEOUT_MS, PulumiToolchain, RunPulumiResult, TempBackend, createTempBackend, ensurePulumi, runPulumi } from "../support/pulumiCli";
import { ADMIN_PASSWORD, startEmulator } from "../support/serviceNow";
import { ProviderLoads, recordProviderLoads } from "../support/providerLoads";

jest.setTimeout(5 * 60_000);

const EXAMPLE = path.join(REPO_ROOT, "examples", "servicenow-api-key");
const STACK = "local";
const DYNAMIC = "pulumi-nodejs:dynamic/";

interface StateResource {
  type: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

let emu: RunningEmulator;
let tc: PulumiToolchain;
let work: string;
let project: string;
let backend: TempBackend;
let packed: string[] = [];
let loads: ProviderLoads;
let env: NodeJS.ProcessEnv;

async function pulumi(args: string[], input?: string): Promise<RunPulumiResult> {
  const res = await runPulumi([...args, "--stack", STACK, "--non-interactive"], { cwd: project, env, ...(input !== undefined ? { input } : {}) });
  if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`);
  return res;
}

beforeAll(async () => {
  // As most instances do: a new key's token is revealed to nobody but a person at its form.
  emu = await startEmulator({ tokenReadback: "none" });
  tc = await ensurePulumi();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-e2e-package-"));

  const pack = await packKeywire(work, tc.env);
  packed = pack.files;
  project = path.join(work, "example");
  fs.cpSync(EXAMPLE, project, { recursive: true });
  await installPacked(project, pack.tarball, tc.env);

  loads = recordProviderLoads(work, [path.join(project, "node_modules", "keywire")]);
  backend = createTempBackend("keywire-e2e-package-backend-");
  // The example is type-checked once below, with its own TypeScript.
  env = { ...backend.env, PULUMI_NODEJS_TRANSPILE_ONLY: "true", ...loads.env };
  await pulumi(["stack", "init"]);
  await pulumi(["config", "set", "servicenow:instanceUrl", emu.url]);
  const secret = setSecretConfigCommand("servicenow:password", ADMIN_PASSWORD);
  await pulumi(secret.args, secret.input);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  backend?.cleanup();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("the package holds compiled JavaScript, declarations, the provider loader and the license, and no sources", () => {
  for (const f of [
    "package.json",
    "LICENSE",
    "README.md",
    "CHANGELOG.md",
    "resources/core/providerLoading/loadProvider.js",
    "dist/index.js",
    "dist/index.d.ts",
    "dist/schema.d.ts",
  ]) {
    expect(packed).toContain(f);
  }
  for (const sub of ["servicenow", "freshservice", "ivanti", "aws"]) expect(packed).toContain(`dist/${sub}/index.js`);
  const unexpected = packed.filter(
    (f) =>
      !["package.json", "LICENSE", "README.md", "CHANGELOG.md", "resources/core/providerLoading/loadProvider.js"].includes(f) &&
      !/^dist\/.+\.(js|d\.ts)$/.test(f),
  );
  expect(unexpected).toEqual([]);
  // What the example installed is the package, not a link to the checkout.
  const installed = path.join(project, "node_modules", "keywire");
  expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
  expect(fs.existsSync(path.join(installed, "resources", "servicenow", "index.ts"))).toBe(false);
  expect(fs.existsSync(path.join(project, "node_modules", "ts-node"))).toBe(false);
});

/** The Pulumi resource packages (package.json `pulumi.resource`) under `nodeModules`, nested ones included, as the language host finds them. */
function pulumiResourcePackages(nodeModules: string, depth = 0): string[] {
  if (depth > 16 || !fs.existsSync(nodeModules)) return [];
  const dirs = fs.readdirSync(nodeModules, { withFileTypes: true }).flatMap((e) => {
    if (!e.isDirectory() || e.name.startsWith(".")) return [];
    const dir = path.join(nodeModules, e.name);
    return e.name.startsWith("@")
      ? fs
          .readdirSync(dir, { withFileTypes: true })
          .filter((s) => s.isDirectory())
          .map((s) => path.join(dir, s.name))
      : [dir];
  });
  return dirs.flatMap((dir) => {
    const file = path.join(dir, "package.json");
    const pkg = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; pulumi?: { resource?: boolean } }) : {};
    return [...(pkg.pulumi?.resource ? [String(pkg.name)] : []), ...pulumiResourcePackages(path.join(dir, "node_modules"), depth + 1)];
  });
}

test("the example, ServiceNow resources only, installs no provider package, so the engine asks it for no plugin (not AWS's)", () => {
  // @pulumi/aws is keywire's optional peer dependency: only a program with AWS resources installs it.
  expect(fs.existsSync(path.join(project, "node_modules", "@pulumi", "pulumi"))).toBe(true);
  expect(pulumiResourcePackages(path.join(project, "node_modules"))).toEqual([]);
});

test("the example type-checks against the package's declarations, with TypeScript's older module resolution", async () => {
  const tsc = await runCommand(path.join(project, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", "."], {
    cwd: project,
    env: tc.env,
    timeoutMs: NPM_TIMEOUT_MS,
  });
  expect(`${tsc.stdout}${tsc.stderr}`).toBe("");
  expect(tsc.code).toBe(0);
});

test("up deploys the example through the installed package; its provider process runs the package's JavaScript", async () => {
  // The manual token route, as keywire's message says: copy the token from the linked form, set it, up again.
  const first = await runPulumi(["up", "--yes", "--skip-preview", "--stack", STACK, "--non-interactive"], { cwd: project, env });
  expect(first.code).not.toBe(0);
  const said = first.stdout + first.stderr;
  expect(said).toContain("pulumi config set --secret keywire:apiKeyToken");
  const parked = /nav_to\.do\?uri=api_key\.do%3Fsys_id%3D([0-9a-f]{32})/.exec(said)?.[1];
  expect(parked).toBeDefined();
  await pulumi(["config", "set", "--secret", "keywire:apiKeyToken"], `${emu.tokenOf(parked!)}\n`);
  await pulumi(["up", "--yes", "--skip-preview"]);
  const outputs = JSON.parse((await pulumi(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, unknown>;
  expect(outputs.verified).toBe(true);
  const key = emu.store.get("api_key", String(outputs.apiKeySysId));
  expect(key?.name).toMatch(/^example/);
  expect(String(outputs.inboundEndpoint)).toContain(`x-sn-apikey=${emu.tokenOf(String(outputs.apiKeySysId))}`);

  // Each resource stores a reference to the package's public module, not a path.
  const state = JSON.parse((await pulumi(["stack", "export"])).stdout) as { deployment: { resources: StateResource[] } };
  const dynamic = state.deployment.resources.filter((r) => r.type.startsWith(DYNAMIC));
  expect(dynamic.length).toBeGreaterThan(8);
  for (const r of dynamic) {
    const stored = String(r.outputs?.__provider);
    expect(stored).toContain('"keywire/loadProvider"');
    expect(stored).toContain('"m":"keywire/servicenow"');
    expect(stored).not.toContain(project);
    expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(300);
  }

  const files = loads.relativeTo(path.join(project, "node_modules", "keywire")).map((l) => l.path);
  expect(files).toEqual(expect.arrayContaining(["resources/core/providerLoading/loadProvider.js", "dist/servicenow/index.js"]));
  expect(files.filter((f) => f.startsWith("..") || !f.endsWith(".js"))).toEqual([]);
  expect(loads.read().filter((l) => l.tsHook)).toEqual([]);
});

test("refresh and destroy run through the installed package; destroy removes what up created", async () => {
  await pulumi(["refresh", "--yes", "--skip-preview"]);
  const outputs = JSON.parse((await pulumi(["stack", "output", "--json"])).stdout) as Record<string, unknown>;
  expect(outputs.verified).toBe(true);
  await pulumi(["destroy", "--yes", "--skip-preview"]);
  expect(emu.store.query("api_key", (r) => r.sys_created_by === "admin")).toEqual([]);
  expect(emu.store.query("http_key_auth", (r) => r.sys_created_by === "admin")).toEqual([]);
  expect(emu.store.query("sys_user", (r) => r.user_name === "svc.example.events")).toEqual([]);
  // The adopted push connector is left as it was.
  expect(emu.store.query("sn_em_connector_push_instance", (r) => r.name === "AWS SNS push connector")).toHaveLength(1);
});
