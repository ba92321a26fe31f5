/**
 * The real Pulumi engine, as `npm run pulumi` provides it, runs keywire-style programs
 * end to end: a dynamic resource with its own type token through up / up again /
 * preview --expect-no-changes / refresh / destroy, and a program that imports
 * @pulumi/aws without the AWS provider plugin. Local file backend in a temp dir; no
 * network.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sdkVersion } from "../../scripts/pulumi/toolchain/environment";
import { compareVersions, parseVersion } from "../../scripts/pulumi/toolchain/routes/onPath";
import { runCommand, which, type CommandResult } from "../../scripts/shared/process";
import { createTempBackend, ensurePulumi, PULUMI_SETUP_TIMEOUT_MS, runPulumi, type RunPulumiResult, type TempBackend } from "../support/pulumiCli";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(__dirname, "fixtures", "toolchain");
const STEP_TIMEOUT_MS = 4 * 60_000;
const STACK = "e2e";

/** Fails with the CLI's output, which is what one needs to see when a step breaks. */
function expectExit(r: RunPulumiResult, code: number): void {
  if (r.code !== code) {
    throw new Error(`pulumi exited ${r.timedOut ? "(timed out)" : r.code}, expected ${code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
}

function npm(): string {
  const bin = which("npm");
  if (!bin) throw new Error("npm is not on PATH");
  return bin;
}

/** `npm run -s pulumi -- <args>`, the wrapper as a team runs it, from `cwd`. */
function npmPulumi(args: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT): Promise<CommandResult> {
  return runCommand(npm(), ["run", "-s", "pulumi", "--", ...args], { cwd, env, timeoutMs: STEP_TIMEOUT_MS });
}

let backend: TempBackend;

/** The fixtures are type-checked with the rest of test/ by `tsc --noEmit`; ts-node
 * only transpiles them here, which halves the time of each program run. */
const programEnv = (): NodeJS.ProcessEnv => ({ ...backend.env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" });

beforeAll(async () => {
  await ensurePulumi();
  backend = createTempBackend("keywire-toolchain-e2e-");
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(() => backend?.cleanup());

let projects: string | undefined;

/**
 * A fixture program copied into an ignored directory of the checkout, so that the
 * stack files the CLI writes (`stack init`, `config set`) never land in tracked
 * files, while npm, node_modules and tsconfig.json resolve as from any subdirectory.
 */
function fixtureProject(name: string): string {
  fs.mkdirSync(path.join(REPO_ROOT, ".e2e"), { recursive: true });
  projects ??= fs.mkdtempSync(path.join(REPO_ROOT, ".e2e", "toolchain-"));
  const dir = path.join(projects, name);
  if (fs.existsSync(dir)) return dir;
  fs.mkdirSync(dir);
  for (const f of fs.readdirSync(path.join(FIXTURES, name))) {
    if (!/^Pulumi\.[^.]+\.yaml$/.test(f)) fs.copyFileSync(path.join(FIXTURES, name, f), path.join(dir, f));
  }
  return dir;
}

afterAll(() => {
  if (projects) fs.rmSync(projects, { recursive: true, force: true });
});

describe("npm run pulumi", () => {
  const sdk = parseVersion(sdkVersion());

  test(
    "runs a CLI at least as new as the installed @pulumi/pulumi and names it on stderr",
    async () => {
      const r = await npmPulumi(["version"], process.env);
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      const cli = parseVersion(r.stdout.trim());
      expect(cli && sdk && compareVersions(cli, sdk) >= 0).toBe(true);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^\\[pulumi\\] using /\\S+/pulumi ${r.stdout.trim().replace(/\./g, "\\.")} \\(route: `));
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "uses a newer pulumi on PATH as it is, and skips an older one with a message",
    async () => {
      if (!sdk) throw new Error("the SDK version does not parse");
      const fakes = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-fake-pulumi-"));
      try {
        const fake = (name: string, version: string): string => {
          const dir = path.join(fakes, name);
          fs.mkdirSync(dir);
          // Prints its version; for anything else, what it was asked and with which backend.
          fs.writeFileSync(
            path.join(dir, "pulumi"),
            `#!/bin/sh\nif [ "$1" = version ]; then echo ${version}; exit 0; fi\necho "ran $* backend=\${PULUMI_BACKEND_URL:-unset} acquisition=\${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-unset}"\n`,
            { mode: 0o755 },
          );
          return path.join(dir, "pulumi");
        };
        const newer = fake("newer", `v${sdk.major}.${sdk.minor + 1}.0`);
        const older = fake("older", `v${sdk.major}.${sdk.minor - 1}.0`);
        const env = (dir: string): NodeJS.ProcessEnv => {
          const e: NodeJS.ProcessEnv = { ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}` };
          delete e.PULUMI_BACKEND_URL;
          delete e.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION;
          return e;
        };

        const used = await npmPulumi(["stack", "ls"], env(path.dirname(newer)));
        expect(used.code).toBe(0);
        expect(used.stdout.trim()).toBe("ran stack ls backend=unset acquisition=unset");
        expect(used.stderr.trim()).toBe(
          `[pulumi] using ${newer} v${sdk.major}.${sdk.minor + 1}.0 (route: PATH; the team's own CLI: its PULUMI_HOME, login, backend and plugin downloads)`,
        );

        const skipped = await npmPulumi(["version"], env(path.dirname(older)));
        expect(skipped.code).toBe(0);
        expect(skipped.stdout.trim()).not.toBe(`v${sdk.major}.${sdk.minor - 1}.0`);
        expect(skipped.stderr).toContain(`[pulumi] ${older} is v${sdk.major}.${sdk.minor - 1}.0, older than the SDK's v${sdkVersion()}: not using it\n`);
      } finally {
        fs.rmSync(fakes, { recursive: true, force: true });
      }
    },
    2 * STEP_TIMEOUT_MS,
  );

  test(
    "a CLI keywire provided uses the team's login, and a project's backend.url, instead of a backend of its own",
    async () => {
      const cwd = fixtureProject("dynamic");
      const base: NodeJS.ProcessEnv = { ...process.env, PULUMI_CONFIG_PASSPHRASE: backend.env.PULUMI_CONFIG_PASSPHRASE };
      delete base.PULUMI_BACKEND_URL;
      delete base.PULUMI_ACCESS_TOKEN;
      const tc = await ensurePulumi();
      const whoami = (env: NodeJS.ProcessEnv, dir: string) => npmPulumi(["whoami", "--verbose", "--non-interactive"], env, dir);

      // A `pulumi login` to a file backend, in the team's PULUMI_HOME.
      const home = path.join(backend.dir, "team-home");
      const teamState = path.join(backend.dir, "team-state");
      fs.mkdirSync(home);
      fs.mkdirSync(teamState);
      expectExit(await runPulumi(["login", `file://${teamState}`], { cwd, env: { PULUMI_HOME: home, PULUMI_BACKEND_URL: "" } }), 0);
      const loggedIn = await whoami({ ...base, PULUMI_HOME: home }, cwd);
      expect(loggedIn.code).toBe(0);
      expect(loggedIn.stdout).toContain(`Backend URL: file://${teamState}`);
      if (tc.route !== "path") expect(loggedIn.stderr).toContain(`backend file://${teamState} (your pulumi login in ${home}/credentials.json)`);

      // backend.url in the project's Pulumi.yaml, no login.
      const projectState = path.join(backend.dir, "project-state");
      fs.mkdirSync(projectState);
      const projectCopy = path.join(path.dirname(cwd), "with-backend");
      fs.cpSync(cwd, projectCopy, { recursive: true });
      fs.appendFileSync(path.join(projectCopy, "Pulumi.yaml"), `backend:\n  url: file://${projectState}\n`);
      const emptyHome = path.join(backend.dir, "empty-home");
      fs.mkdirSync(emptyHome);
      const fromProject = await whoami({ ...base, PULUMI_HOME: emptyHome }, projectCopy);
      expect(fromProject.code).toBe(0);
      expect(fromProject.stdout).toContain(`Backend URL: file://${projectState}`);
    },
    2 * STEP_TIMEOUT_MS,
  );

  test(
    "runs in the caller's directory with the caller's backend, and passes the exit code through",
    async () => {
      const cwd = fixtureProject("dynamic");
      const env = { ...process.env, ...backend.env };
      const who = await npmPulumi(["whoami", "--verbose"], env, cwd);
      expect(who.code).toBe(0);
      expect(who.stdout).toContain(`Backend URL: ${backend.env.PULUMI_BACKEND_URL}`);
      // A stack created through the wrapper belongs to the fixture's project: the CLI
      // ran in the caller's directory, not in the package root where npm starts.
      const init = await npmPulumi(["stack", "init", "cwd-probe", "--non-interactive"], env, cwd);
      expect(init.code).toBe(0);
      const ls = await runPulumi(["stack", "ls", "--json", "--non-interactive"], { cwd, env: backend.env });
      expectExit(ls, 0);
      expect((JSON.parse(ls.stdout) as { name: string }[]).map((st) => st.name)).toContain("cwd-probe");
      expectExit(await runPulumi(["stack", "rm", "cwd-probe", "--yes", "--non-interactive"], { cwd, env: backend.env }), 0);
      // Exit code 6 is the CLI's "stack not found".
      const missing = await npmPulumi(["stack", "select", "no-such-stack", "--non-interactive"], env, cwd);
      expect(missing.stderr).toContain("no stack named 'no-such-stack' found");
      expect(missing.code).toBe(6);
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "setup fails with a message naming every route when none works",
    async () => {
      // A PATH with node but neither go nor pulumi, an empty cache, and an installer
      // address on loopback that refuses at once.
      const keep = (process.env.PATH ?? "")
        .split(path.delimiter)
        .filter((d) => d && !fs.existsSync(path.join(d, "go")) && !fs.existsSync(path.join(d, "pulumi")));
      const emptyTools = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-tools-empty-"));
      try {
        const r = await runCommand(path.join(REPO_ROOT, "node_modules", ".bin", "ts-node"), ["--transpile-only", "scripts/pulumi/setup.ts"], {
          cwd: REPO_ROOT,
          env: {
            ...process.env,
            PATH: [path.join(REPO_ROOT, "node_modules", ".bin"), ...keep].join(path.delimiter),
            KEYWIRE_TOOLS_DIR: emptyTools,
            KEYWIRE_PULUMI_INSTALLER_URL: "https://127.0.0.1:1/",
          },
          timeoutMs: STEP_TIMEOUT_MS,
        });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`Cannot provide the pulumi CLI v${sdkVersion()}`);
        expect(r.stderr).toMatch(/PATH: no pulumi on PATH/);
        expect(r.stderr).toMatch(/installer: official installer https:\/\/127\.0\.0\.1:1\/ unreachable/);
        expect(r.stderr).toMatch(/Go: no working `go` on PATH/);
        expect(fs.existsSync(path.join(emptyTools, `pulumi-v${sdkVersion()}`, "stamp.json"))).toBe(false);
      } finally {
        fs.rmSync(emptyTools, { recursive: true, force: true });
      }
    },
    STEP_TIMEOUT_MS,
  );
});

describe("a dynamic resource through the real engine", () => {
  let cwd: string;
  let dataDir: string;
  const calls = (): string[] => fs.readFileSync(path.join(dataDir, "calls.log"), "utf8").trim().split("\n");
  const marker = (): string => path.join(dataDir, "marker.txt");
  const run = (...args: string[]): Promise<RunPulumiResult> =>
    runPulumi([...args, "--stack", STACK, "--non-interactive"], { cwd, env: programEnv(), timeoutMs: STEP_TIMEOUT_MS });
  /** The marker resource as the state file records it. */
  const stateOfMarker = async (): Promise<{ outputs?: Record<string, unknown> } | undefined> => {
    const r = await run("stack", "export");
    expectExit(r, 0);
    const deployment = JSON.parse(r.stdout) as { deployment: { resources?: { type: string; outputs?: Record<string, unknown> }[] } };
    return deployment.deployment.resources?.find((res) => res.type === "pulumi-nodejs:dynamic/keywire:ToolchainMarker");
  };

  beforeAll(async () => {
    cwd = fixtureProject("dynamic");
    dataDir = fs.mkdtempSync(path.join(backend.dir, "data-"));
    expectExit(await runPulumi(["stack", "init", STACK, "--non-interactive"], { cwd, env: backend.env }), 0);
    expectExit(await run("config", "set", "markerDir", dataDir), 0);
  }, STEP_TIMEOUT_MS);

  test(
    "up creates the resource once",
    async () => {
      const r = await run("up", "--yes");
      expectExit(r, 0);
      expect(r.stdout).toContain("pulumi-nodejs:dynamic/keywire:ToolchainMarker");
      expect(fs.readFileSync(marker(), "utf8")).toBe("hello");
      expect(calls()).toEqual(["create"]);
      const out = await run("stack", "output", "path");
      expectExit(out, 0);
      expect(out.stdout.trim()).toBe(marker());
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "a second up changes nothing",
    async () => {
      const r = await run("up", "--yes");
      expectExit(r, 0);
      expect(r.stdout).toMatch(/2 unchanged/);
      expect(calls()).toEqual(["create"]);
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "preview --expect-no-changes exits 0, and 7 once the program changes",
    async () => {
      expectExit(await run("preview", "--expect-no-changes"), 0);
      // The control: the same check must fail when there is a change to find.
      expectExit(await run("config", "set", "content", "changed"), 0);
      expectExit(await run("preview", "--expect-no-changes"), 7);
      expectExit(await run("config", "rm", "content"), 0);
      expect(calls()).toEqual(["create"]);
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "refresh reads the live file into the state",
    async () => {
      fs.writeFileSync(marker(), "edited outside pulumi");
      const r = await run("refresh", "--yes");
      expectExit(r, 0);
      expect(calls()).toContain("read");
      expect((await stateOfMarker())?.outputs?.content).toBe("edited outside pulumi");
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "destroy deletes the resource",
    async () => {
      const r = await run("destroy", "--yes");
      expectExit(r, 0);
      expect(fs.existsSync(marker())).toBe(false);
      expect(calls().at(-1)).toBe("delete");
      expect(await stateOfMarker()).toBeUndefined();
    },
    STEP_TIMEOUT_MS,
  );
});

describe("a program importing @pulumi/aws without AWS resources", () => {
  let cwd: string;
  beforeAll(() => {
    cwd = fixtureProject("aws-import");
  });
  const run = (...args: string[]): Promise<RunPulumiResult> =>
    runPulumi([...args, "--stack", STACK, "--non-interactive"], { cwd, env: programEnv(), timeoutMs: STEP_TIMEOUT_MS });

  test(
    "runs up, preview, refresh and destroy without the AWS provider plugin",
    async () => {
      expectExit(await runPulumi(["stack", "init", STACK, "--non-interactive"], { cwd, env: backend.env }), 0);
      // The plugin is not installed anywhere the engine looks.
      const plugins = await runPulumi(["plugin", "ls", "--json"], { cwd, env: backend.env });
      expectExit(plugins, 0);
      expect(plugins.stdout).not.toMatch(/"name":\s*"aws"/);

      expectExit(await run("up", "--yes"), 0);
      const out = await run("stack", "output", "--json");
      expectExit(out, 0);
      expect(JSON.parse(out.stdout)).toEqual({ awsModuleLoaded: true, stackName: STACK });
      expectExit(await run("preview", "--expect-no-changes"), 0);
      expectExit(await run("refresh", "--yes"), 0);
      expectExit(await run("destroy", "--yes"), 0);
    },
    STEP_TIMEOUT_MS,
  );
});
