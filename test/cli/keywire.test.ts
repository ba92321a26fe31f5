/**
 * The `keywire` command line from its sources, as keywire's npm scripts run it: the
 * top-level help, version and usage errors, each command's --help in the `keywire`
 * form (none of them asks for a stack or a pulumi), usage errors as one line naming what
 * to run, and the npm-script form where keywire's own npm scripts start it.
 * test/e2e/install.test.ts runs the compiled command from an installed package.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { auditHelp } from "../../scripts/audit/cli";
import { canaryHelp } from "../../scripts/canary/args";
import { invocationFor, keywireCommand, npmScript } from "../../scripts/cli/invocation";
import { keywireHelp, missingPackageMessage } from "../../scripts/cli/keywire";
import { driftHelp } from "../../scripts/drift/cli";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";

const TS_NODE = path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js");
const ENTRY = path.join(REPO_ROOT, "scripts", "cli", "keywire.ts");
const RUN_TIMEOUT_MS = 60_000;
jest.setTimeout(8 * RUN_TIMEOUT_MS);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-cli-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The command, run in an empty directory with no pulumi, no go and no installer
 * reachable: a command that tried to reach a stack would fail instead of answering.
 */
async function keywire(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    HOME: dir,
    PATH: path.dirname(process.execPath),
    KEYWIRE_TOOLS_DIR: path.join(dir, "tools"),
    KEYWIRE_PULUMI_INSTALLER_URL: "http://127.0.0.1:9/",
    KEYWIRE_EMULATOR_ADMIN_PASSWORD: "cli-test",
    ...extraEnv,
  };
  const res = await runCommand(process.execPath, [TS_NODE, "--transpile-only", ENTRY, ...args], { cwd: dir, env, timeoutMs: RUN_TIMEOUT_MS });
  if (res.timedOut) throw new Error(`keywire ${args.join(" ")} did not finish within ${RUN_TIMEOUT_MS} ms`);
  return { code: res.code, stdout: res.stdout, stderr: res.stderr };
}

/** A usage error: exit 2, nothing on stdout, one line on stderr. */
function usageLine(run: Run): string {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: "" });
  const lines = run.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe("keywire itself", () => {
  test("--help lists every command and how to get its options; exit 0", async () => {
    const run = await keywire(["--help"]);
    expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({ code: 0, stdout: keywireHelp(), stderr: "" });
    for (const command of ["drift", "audit", "canary", "emulator"]) expect(run.stdout).toMatch(new RegExp(`^  ${command} +\\S`, "m"));
    expect(run.stdout).toContain("keywire <command> --help");
  });

  test("--version prints the package's version", async () => {
    const run = await keywire(["--version"]);
    const version = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 0, stdout: `${version}\n` });
  });

  test("no command, or an unknown one: exit 2 and one line saying what to run", async () => {
    expect(usageLine(await keywire([]))).toBe("keywire: give a command (drift, audit, canary, emulator); run keywire --help for what each does");
    expect(usageLine(await keywire(["drfit", "--stack", "dev"]))).toBe('keywire: unknown command "drfit"; run keywire --help for the commands');
  });
});

describe("each command's --help, in the keywire form", () => {
  test("drift, audit and canary print their help and exit 0, reading no stack", async () => {
    for (const [command, help] of [
      ["drift", driftHelp(keywireCommand)],
      ["audit", auditHelp(keywireCommand)],
      ["canary", canaryHelp(keywireCommand)],
    ] as const) {
      const run = await keywire([command, "--help"]);
      expect({ command, code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({ command, code: 0, stdout: help, stderr: "" });
      expect(help.startsWith(`usage: keywire ${command} --stack `)).toBe(true);
      expect(help).not.toContain("npm run");
    }
    // The canary's help sends a person to the drift check by the command they have.
    expect(canaryHelp(keywireCommand)).toContain("run keywire drift --stack <stack>, which names the broken link");
  });

  test("emulator --help and emulator token --help name `keywire emulator`; in the checkout the password file is the demo's", async () => {
    const help = await keywire(["emulator", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout.startsWith("Usage: keywire emulator [options]\n       keywire emulator token <api_key sys_id>")).toBe(true);
    expect(help.stdout).toContain(".demo/admin-password (created on first use, shared with npm run demo)");
    const token = await keywire(["emulator", "token", "--help"]);
    expect(token.code).toBe(0);
    expect(token.stdout.startsWith("Usage: keywire emulator token <api_key sys_id> (--url <emulator URL> | --port <n>)\n")).toBe(true);
  });
});

describe("usage errors", () => {
  test("one line naming the command as typed: keywire's form, or keywire's own npm script", async () => {
    expect(usageLine(await keywire(["drift"]))).toBe(
      "drift: --stack <name> is required; usage: keywire drift --stack <name> [--json <file>] [--markdown <file>] [--summary <file>] [--cwd <project dir>]",
    );
    expect(usageLine(await keywire(["audit", "--stack", "dev", "--bogus"]))).toBe("audit: Unknown option '--bogus'; run keywire audit --help for the options");
    expect(usageLine(await keywire(["canary"]))).toMatch(/^canary: --stack <stack> is required; usage: keywire canary --stack <stack> /);
    // What npm sets when it runs keywire's `drift` script.
    const viaNpm = await keywire(["drift"], { npm_package_name: "keywire", npm_lifecycle_event: "drift" });
    expect(usageLine(viaNpm)).toMatch(/^drift: --stack <name> is required; usage: npm run drift -- --stack <name> /);
  });
});

describe("invocationFor", () => {
  test("keywire's own npm script for that command gives the npm form; anything else the keywire command", () => {
    expect(invocationFor("drift", { npm_package_name: "keywire", npm_lifecycle_event: "drift" })).toBe(npmScript);
    // A team's own script that calls keywire, npx (npm exec), or no npm at all.
    expect(invocationFor("drift", { npm_package_name: "platform-infra", npm_lifecycle_event: "drift" })).toBe(keywireCommand);
    expect(invocationFor("drift", { npm_package_name: "keywire", npm_lifecycle_event: "npx" })).toBe(keywireCommand);
    expect(invocationFor("drift", {})).toBe(keywireCommand);
    expect(keywireCommand("audit")).toBe("keywire audit");
    expect(npmScript("audit")).toBe("npm run audit --");
  });
});

describe("missingPackageMessage", () => {
  const notFound = (message: string): Error => Object.assign(new Error(message), { code: "MODULE_NOT_FOUND" });

  test("a dependency that is not installed: one line naming the package and the command that installs it", () => {
    const err = notFound("Cannot find module '@aws-sdk/client-sns'\nRequire stack:\n- /p/node_modules/keywire/dist/cli/scripts/canary/publish.js");
    expect(missingPackageMessage("canary", err)).toBe(
      "keywire canary needs @aws-sdk/client-sns, which is not installed where keywire is; run npm install @aws-sdk/client-sns in your program's directory",
    );
    expect(missingPackageMessage("audit", notFound("Cannot find module 'zod/v4/core'"))).toContain("needs zod, ");
  });

  test("keywire's own file missing, or any other error, is not a missing dependency", () => {
    expect(missingPackageMessage("drift", notFound("Cannot find module '../drift/cli'"))).toBeUndefined();
    expect(missingPackageMessage("drift", notFound("Cannot find module '/p/node_modules/keywire/dist/cli/x.js'"))).toBeUndefined();
    expect(missingPackageMessage("drift", new Error("Cannot find module 'zod'"))).toBeUndefined();
    expect(missingPackageMessage("drift", undefined)).toBeUndefined();
  });
});
