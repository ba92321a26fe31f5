/**
 * keywire installed from a release tarball (docs/install.md) into a fresh program of a
 * team's own, and its command line run there with `npx keywire …`: the help, the
 * emulator on loopback, the drift check with the team's own `pulumi` from PATH in the
 * team's directory, and the audit reading its stack through the wrapper the package
 * ships. Only what the package holds runs: the checkout is not on the command's PATH, and
 * the package has no TypeScript sources and no ts-node.
 *
 * test/e2e/installGit.test.ts installs the same way from a git tag.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningEmulator } from "../../emulator/servicenow";
import { NPM_TIMEOUT_MS, installPacked, packKeywire } from "../../scripts/package/packed";
import { sdkVersion } from "../../scripts/pulumi/toolchain/environment";
import { keywireCommand } from "../../scripts/cli/invocation";
import { driftHelp } from "../../scripts/drift/cli";
import { DRIFT_EXIT, PULUMI_CHANGES_FOUND } from "../../scripts/drift/exitCodes";
import type { AuditReport } from "../../scripts/audit/auditKeys";
import { ADMIN_PASSWORD, startEmulator } from "../support/serviceNow";
import { createTeamProgram, npx, teamEnv } from "../support/teamProgram";
import { expectEmulatorRoundTrip, expectHelp } from "../support/installChecks";

jest.setTimeout(5 * 60_000);

let work: string;
let project: string;
let packed: string[] = [];
let emu: RunningEmulator;
/** The stand-in for the team's own `pulumi`, first on PATH. */
let teamBin: string;

beforeAll(
  async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-e2e-install-"));
    const env = teamEnv(path.join(work, "home"));
    const pack = await packKeywire(work, env);
    packed = pack.files;
    project = createTeamProgram(path.join(work, "team-program"));
    await installPacked(project, pack.tarball, env);

    emu = await startEmulator();
    teamBin = path.join(work, "team-bin");
    fs.mkdirSync(teamBin);
    // Records where it ran, with which PULUMI_HOME, and what it was asked; answers like the CLI.
    const fake = [
      `#!${process.execPath}`,
      "const fs = require('fs');",
      "const args = process.argv.slice(2);",
      `if (args[0] === 'version') { process.stdout.write('v${sdkVersion()}\\n'); process.exit(0); }`,
      "fs.appendFileSync(process.env.FAKE_LOG, JSON.stringify({ cwd: process.cwd(), home: process.env.PULUMI_HOME, args }) + '\\n');",
      "if (args[0] === 'config') { process.stdout.write(process.env.FAKE_CONFIG || '{}'); process.exit(0); }",
      "if (args[0] === 'preview') { process.stdout.write(process.env.FAKE_PREVIEW); process.exit(Number(process.env.FAKE_PREVIEW_CODE)); }",
      "if (args[0] === 'stack' && args[1] === 'export') { process.stdout.write(process.env.FAKE_EXPORT); process.exit(0); }",
      "process.exit(99);",
    ].join("\n");
    fs.writeFileSync(path.join(teamBin, "pulumi"), fake, { mode: 0o755 });
  },
  NPM_TIMEOUT_MS + 5 * 60_000,
);

afterAll(async () => {
  await emu?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

interface Asked {
  cwd: string;
  home: string | undefined;
  args: string[];
}

function readLog(file: string): Asked[] {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Asked)
    : [];
}

test("the package ships the compiled command and its bin entry, and no sources", () => {
  expect(packed).toContain("dist/cli/scripts/cli/keywire.js");
  expect(packed).toContain("dist/cli/scripts/pulumi/run.js");
  expect(packed.filter((f) => f.startsWith("dist/cli/") && !f.endsWith(".js"))).toEqual([]);
  const installed = path.join(project, "node_modules", "keywire");
  const pkg = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8")) as { bin?: Record<string, string> };
  expect(pkg.bin).toEqual({ keywire: "dist/cli/scripts/cli/keywire.js" });
  expect(fs.realpathSync(path.join(project, "node_modules", ".bin", "keywire"))).toBe(
    fs.realpathSync(path.join(installed, "dist", "cli", "scripts", "cli", "keywire.js")),
  );
  expect(fs.readFileSync(path.join(installed, "dist", "cli", "scripts", "cli", "keywire.js"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
});

test("npx keywire --help and npx keywire drift --help answer in the team's program", async () => {
  await expectHelp(project, teamEnv(path.join(work, "home-help")));
});

test("npx keywire emulator starts, answers on loopback with the password it keeps in the user's cache, and stops", async () => {
  await expectEmulatorRoundTrip(project, path.join(work, "home-emulator"));
});

test("npx keywire drift runs the team's own pulumi from PATH in the team's directory, with its PULUMI_HOME, and keeps the exit codes", async () => {
  const log = path.join(work, "drift.log");
  const pulumiHome = path.join(work, "team-pulumi-home");
  const env = teamEnv(path.join(work, "home-drift"), [teamBin], {
    FAKE_LOG: log,
    PULUMI_HOME: pulumiHome,
    PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
    FAKE_PREVIEW: JSON.stringify({ steps: [] }),
    FAKE_PREVIEW_CODE: "0",
  });
  const report = path.join(work, "drift.json");
  const clean = await npx(project, ["keywire", "drift", "--stack", "dev", "--json", report], env);
  expect({ code: clean.code, stdout: clean.stdout }).toEqual({ code: DRIFT_EXIT.clean, stdout: "stack dev: no drift\n" });
  expect(clean.stderr).toContain(`using ${path.join(teamBin, "pulumi")} v${sdkVersion()} (route: PATH; the team's own CLI`);
  expect(JSON.parse(fs.readFileSync(report, "utf8"))).toMatchObject({ stack: "dev", drifted: false });
  // The secrets are read while the preview runs, so the two calls may be logged in either order.
  const asked = readLog(log);
  expect(asked.map((a) => a.args.slice(0, 2)).sort()).toEqual([
    ["config", "--json"],
    ["preview", "--refresh"],
  ]);
  for (const a of asked) expect({ cwd: fs.realpathSync(a.cwd), home: a.home }).toEqual({ cwd: fs.realpathSync(project), home: pulumiHome });
  expect(asked.find((a) => a.args[0] === "preview")?.args).toEqual([
    "preview",
    "--refresh",
    "--expect-no-changes",
    "--json",
    "--non-interactive",
    "--stack",
    "dev",
  ]);

  // The engine's "changes found" is drift: 7, as from keywire's own npm script.
  const drifted = await npx(project, ["keywire", "drift", "--stack", "dev"], { ...env, FAKE_PREVIEW_CODE: String(PULUMI_CHANGES_FOUND) });
  expect(drifted.code).toBe(DRIFT_EXIT.drift);

  // A usage error: one line naming the command as the team types it.
  const usage = await npx(project, ["keywire", "drift"], env);
  expect({ code: usage.code, stderr: usage.stderr.trim() }).toEqual({
    code: DRIFT_EXIT.cannotRun,
    stderr: `drift: --stack <name> is required; ${driftHelp(keywireCommand).split("\n")[0]}`,
  });
});

test("without a pulumi on PATH the installed command says what to do, and writes nothing into the package", async () => {
  const home = path.join(work, "home-no-pulumi");
  const run = await npx(project, ["keywire", "drift", "--stack", "dev"], teamEnv(home));
  expect(run.code).toBe(DRIFT_EXIT.cannotRun);
  expect(run.stderr).toContain(`drift: Cannot provide the pulumi CLI v${sdkVersion()}`);
  expect(run.stderr).toContain("  - PATH: no pulumi on PATH");
  // The Go build needs keywire's repository; an installed package says so instead of trying.
  expect(run.stderr).toContain(
    `  - Go: not from an installed keywire (the build needs tools/language-host from keywire's repository); put a pulumi v${sdkVersion()} or newer on PATH`,
  );
  expect(fs.readdirSync(path.join(project, "node_modules", "keywire")).sort()).toEqual([
    "CHANGELOG.md",
    "LICENSE",
    "README.md",
    "dist",
    "package.json",
    "resources",
  ]);
});

test("npx keywire audit reads the stack through the wrapper the package ships, in the team's directory", async () => {
  const log = path.join(work, "audit.log");
  const admin = emu.store.query("sys_user", (r) => r.user_name === "admin")[0].sys_id;
  const key = emu.store.insert("api_key", { name: "team-key", user: admin, active: true, expires: "", auth_scope: "" }).sys_id;
  const exported = {
    version: 3,
    deployment: {
      manifest: { time: "2030-01-01T00:00:00Z", magic: "x", version: `v${sdkVersion()}` },
      resources: [
        {
          urn: "urn:pulumi:dev::team-program::pulumi-nodejs:dynamic/keywire/servicenow:ApiKey::k",
          custom: true,
          id: key,
          type: "pulumi-nodejs:dynamic/keywire/servicenow:ApiKey",
          outputs: { sysId: key },
        },
      ],
    },
  };
  const config = {
    "servicenow:instanceUrl": { value: emu.url, secret: false },
    "servicenow:username": { value: "admin", secret: false },
    "servicenow:password": { value: ADMIN_PASSWORD, secret: true },
  };
  const env = teamEnv(path.join(work, "home-audit"), [teamBin], {
    FAKE_LOG: log,
    PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
    FAKE_EXPORT: JSON.stringify(exported),
    FAKE_CONFIG: JSON.stringify(config),
  });
  const json = path.join(work, "audit.json");
  const run = await npx(project, ["keywire", "audit", "--stack", "dev", "--json", json], env);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.not.stringContaining(ADMIN_PASSWORD) });
  expect(run.stdout).not.toContain(ADMIN_PASSWORD);
  const report = JSON.parse(fs.readFileSync(json, "utf8")) as AuditReport;
  expect(report.instance).toBe(emu.url);
  expect(report.keys.find((k) => k.sysId === key)).toMatchObject({ name: "team-key", managedBy: "dev" });
  const asked = readLog(log);
  expect(asked.map((a) => a.args.join(" "))).toEqual(["stack export --stack dev", "config --json --show-secrets --stack dev"]);
  for (const a of asked) expect(fs.realpathSync(a.cwd)).toBe(fs.realpathSync(project));
});

test("what the installed command printed never came from the checkout", async () => {
  const run = await npx(project, ["keywire", "--version"], teamEnv(path.join(work, "home-version")));
  const installed = JSON.parse(fs.readFileSync(path.join(project, "node_modules", "keywire", "package.json"), "utf8")) as { version: string };
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 0, stdout: `${installed.version}\n` });
  expect(fs.existsSync(path.join(project, "node_modules", "keywire", "scripts"))).toBe(false);
  expect(fs.existsSync(path.join(project, "node_modules", "ts-node"))).toBe(false);
});
