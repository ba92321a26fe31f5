/**
 * A setting too long for the stack's configuration is refused by `npm run pulumi`
 * with keywire's message, before the CLI starts: Pulumi hands the program and its
 * providers the whole configuration in one environment variable, and Linux refuses
 * to start a process with one longer than 128 KiB ("argument list too long").
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sdkVersion } from "../../scripts/pulumi/toolchain/environment";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";
import { commandLineValueProblems, stackFileProblems } from "../../scripts/pulumi/configLimits";
import { setSecretConfigCommand } from "../../scripts/pulumi/secretConfig";

const TS_NODE = path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js");
const RUN_TIMEOUT_MS = 60_000;

let project: string;
let tools: string;
beforeEach(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-config-limits-"));
  tools = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-config-limits-tools-"));
  fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: limits\nruntime: nodejs\nstackConfigDir: stacks\n");
  fs.mkdirSync(path.join(project, "stacks"));
});
afterEach(() => {
  fs.rmSync(project, { recursive: true, force: true });
  fs.rmSync(tools, { recursive: true, force: true });
});

function stackFile(name: string, body: string): string {
  const file = path.join(project, "stacks", `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, body);
  return file;
}

/**
 * `npm run pulumi -- <args>` in the temporary project, with no pulumi to be found
 * and no way to fetch one (the installer URL is a closed loopback port): a refusal
 * must come before the wrapper looks for a CLI.
 */
function wrapper(args: string[], input?: string, pathDirs: string[] = []) {
  return runCommand(process.execPath, [TS_NODE, "--transpile-only", path.join(REPO_ROOT, "scripts", "pulumi", "run.ts"), ...args], {
    cwd: REPO_ROOT,
    env: {
      PATH: [...pathDirs, path.dirname(process.execPath)].join(path.delimiter),
      HOME: tools,
      INIT_CWD: project,
      KEYWIRE_TOOLS_DIR: tools,
      KEYWIRE_PULUMI_INSTALLER_URL: "http://127.0.0.1:9/install.sh",
    },
    timeoutMs: RUN_TIMEOUT_MS,
    ...(input !== undefined ? { input } : {}),
  });
}

describe("values on the command line", () => {
  test("a keywire setting over 16 KiB, a ServiceNow setting over 4 KiB: named, never shown", () => {
    const problems = commandLineValueProblems(["config", "set", "--path", "keywire:sns.topicName", "x".repeat(16_385)]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^keywire:sns\.topicName is longer than 16384 characters/);
    expect(problems[0]).toContain("argument list too long");
    expect(problems[0]).not.toMatch(/x{20}/);
    expect(commandLineValueProblems(["config", "set", "-s", "dev", "servicenow:username", "u".repeat(4097)])[0]).toMatch(
      /^servicenow:username is longer than 4096/,
    );
    expect(
      commandLineValueProblems([
        "config",
        "set-all",
        "--plaintext",
        `keywire:namePrefix=${"n".repeat(20_000)}`,
        "--secret",
        `servicenow:password=${"p".repeat(5000)}`,
      ]),
    ).toEqual([expect.stringMatching(/^keywire:namePrefix is longer than 16384/), expect.stringMatching(/^servicenow:password is longer than 4096/)]);
  });

  test("values within the limits, and commands that set nothing, pass", () => {
    expect(commandLineValueProblems(["config", "set", "keywire:namePrefix", "n".repeat(16_384)])).toEqual([]);
    expect(commandLineValueProblems(["config", "set", "servicenow:instance", "dev12345"])).toEqual([]);
    expect(commandLineValueProblems(["config", "set", "other:kubeconfig", "k".repeat(50_000)])).toEqual([]);
    expect(commandLineValueProblems(["up", "--yes", "-m", "m".repeat(20_000)])).toEqual([]);
  });

  test(
    "the wrapper refuses before starting any CLI, and the stack file is not touched",
    async () => {
      const file = stackFile("dev", "config:\n  keywire:namePrefix: kw\n");
      const res = await wrapper(["config", "set", "--stack", "dev", "keywire:namePrefix", "n".repeat(20_000)]);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^\[pulumi\] keywire:namePrefix is longer than 16384 characters/m);
      expect(res.stderr).not.toMatch(/n{20}/);
      expect(res.stderr).not.toMatch(/could not|install/i);
      expect(fs.readFileSync(file, "utf8")).toBe("config:\n  keywire:namePrefix: kw\n");
    },
    RUN_TIMEOUT_MS,
  );

  test(
    "a value within the limit on standard input reaches the CLI's standard input unchanged",
    async () => {
      // A team's own `pulumi` on PATH (outside keywire's tools directory, whose CLIs do
      // not count as the team's) that reports the SDK's version and prints what it read.
      const bin = path.join(project, "team-bin");
      fs.mkdirSync(bin);
      fs.writeFileSync(
        path.join(bin, "pulumi"),
        `#!/bin/sh\nif [ "$1" = version ]; then echo v${sdkVersion()}; exit 0; fi\necho "args: $*"; IFS= read -r line; echo "stdin: $line"\n`,
        { mode: 0o755 },
      );
      const res = await wrapper(["config", "set", "--secret", "servicenow:password"], "pw-within-limit\n", [bin]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain("args: config set --secret servicenow:password");
      expect(res.stdout).toContain("stdin: pw-within-limit");
    },
    RUN_TIMEOUT_MS,
  );

  test(
    "a value given on standard input is held to the same limit",
    async () => {
      const cmd = setSecretConfigCommand("servicenow:password", "pw-1234");
      const res = await wrapper([...cmd.args, "--stack", "dev"], "p".repeat(200_000));
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^\[pulumi\] servicenow:password is longer than 4096 characters/m);
      expect(res.stderr).not.toMatch(/p{20}/);
    },
    RUN_TIMEOUT_MS,
  );
});

describe("the stack file, before a command that runs the program or its providers", () => {
  test(
    "an over-long setting in the named stack's file is refused with the file, the key and the fix",
    async () => {
      stackFile("big", `config:\n  keywire:namePrefix: ${"n".repeat(200_000)}\n  servicenow:instance: dev12345\n`);
      const res = await wrapper(["preview", "--stack", "big"]);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain("stacks/Pulumi.big.yaml: keywire:namePrefix is longer than 16384 characters");
      expect(res.stderr).toContain("pulumi config rm keywire:namePrefix --stack big");
      expect(res.stderr).not.toMatch(/n{20}/);
    },
    RUN_TIMEOUT_MS,
  );

  test("secrets are measured by their ciphertext, never decrypted", () => {
    stackFile("dev", `config:\n  keywire:apiKeyToken:\n    secure: v1:${"A".repeat(12_000)}\n  keywire:sns:\n    topicName: alarms\n`);
    const problems = stackFileProblems(project, ["up", "-s", "dev"]);
    expect(problems).toEqual([expect.stringMatching(/^stacks\/Pulumi\.dev\.yaml: keywire:apiKeyToken is longer than 4096 characters/)]);
  });

  test("settings of other namespaces count towards the whole configuration's limit", () => {
    const keys = Array.from({ length: 14 }, (_, i) => `  other:part${i}: ${"o".repeat(10_000)}`).join("\n");
    stackFile("dev", `config:\n${keys}\n`);
    const problems = stackFileProblems(project, ["refresh", "--stack=dev"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^stacks\/Pulumi\.dev\.yaml: the configuration holds about 137 KiB; Pulumi can hand a program at most 120 KiB/);
    expect(problems[0]).toContain("other:part0");
  });

  test("without --stack every stack file of the project is checked; a command that runs nothing is not", () => {
    stackFile("dev", "config:\n  keywire:namePrefix: kw\n");
    stackFile("broken", `config:\n  servicenow:username: ${"u".repeat(5000)}\n`);
    expect(stackFileProblems(project, ["up", "--yes"])).toEqual([
      expect.stringMatching(/^stacks\/Pulumi\.broken\.yaml: servicenow:username is longer than 4096.*--stack/s),
    ]);
    expect(stackFileProblems(project, ["up", "--stack", "dev"])).toEqual([]);
    expect(stackFileProblems(project, ["stack", "ls"])).toEqual([]);
    expect(stackFileProblems(project, ["config", "rm", "servicenow:username", "--stack", "broken"])).toEqual([]);
  });

  test("keywire's own stack files pass", () => {
    for (const f of fs.readdirSync(path.join(REPO_ROOT, "stacks")).filter((n) => /^Pulumi\..*\.yaml$/.test(n))) {
      fs.copyFileSync(path.join(REPO_ROOT, "stacks", f), path.join(project, "stacks", f));
    }
    expect(stackFileProblems(project, ["preview"])).toEqual([]);
  });
});
