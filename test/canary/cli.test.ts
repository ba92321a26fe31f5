/**
 * `npm run canary` as a process, reading its stack through the Pulumi CLI wrapper: a
 * stand-in `pulumi` first on PATH (the toolchain's first route) answers `version`,
 * `stack output --json` and `config --json --show-secrets` with canned JSON, and logs
 * what it was asked. ServiceNow is the in-process emulator; SNS is a closed port, so no
 * message goes anywhere (test/e2e/canary.test.ts publishes for real), or, for a lost
 * alarm, a stand-in on 127.0.0.1 that accepts the publish and passes it on to nobody.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HELP } from "../../scripts/canary/args";
import { CANARY_EXIT } from "../../scripts/canary/exitCodes";
import type { CanaryReport } from "../../scripts/canary/report";
import { sdkVersion } from "../../scripts/pulumi/toolchain/environment";
import { runCommand } from "../../scripts/shared/process";
import { HttpStub, startHttpStub } from "../support/httpStub";
import { ADMIN_PASSWORD } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const ROOT = path.resolve(__dirname, "..", "..");
const TS_NODE = require.resolve("ts-node/dist/bin.js", { paths: [ROOT] });
const RUN_TIMEOUT_MS = 90_000;
const ARN = "arn:aws:sns:eu-west-1:123456789012:keywire-dev-alarms";
const AWS_SECRET = "keywire-cli-test-aws-secret-key";
jest.setTimeout(4 * RUN_TIMEOUT_MS);

let dir: string;
let bin: string;
const em = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD }, { resetAfterEach: false });

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-canary-cli-"));
  bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const fake = [
    `#!${process.execPath}`,
    "const fs = require('fs');",
    "const args = process.argv.slice(2);",
    "if (args[0] === 'version') { process.stdout.write('v" + sdkVersion() + "\\n'); process.exit(0); }",
    "fs.appendFileSync(process.env.FAKE_LOG, args.join(' ') + '\\n');",
    "if (args[0] === 'stack' && args[1] === 'output') {",
    "  if (process.env.FAKE_OUTPUTS === undefined) { process.stderr.write('error: no stack named dev found\\n'); process.exit(255); }",
    "  process.stdout.write(process.env.FAKE_OUTPUTS); process.exit(0);",
    "}",
    "if (args[0] === 'config') { process.stdout.write(process.env.FAKE_CONFIG || '{}'); process.exit(0); }",
    "process.exit(99);",
  ].join("\n");
  fs.writeFileSync(path.join(bin, "pulumi"), fake, { mode: 0o755 });
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the stand-in pulumi was asked, one line per call. */
  asked: string[];
}

/** The stack's configuration as `pulumi config --json --show-secrets` prints it. */
function stackConfig(password: string): string {
  return JSON.stringify({
    "servicenow:instanceUrl": { value: em.url, secret: false },
    "servicenow:username": { value: "admin", secret: false },
    "servicenow:password": { value: password, secret: true },
  });
}

/** How the command is started: the canary's own module, or the `keywire` entry (with the environment npm gives its scripts, or none). */
interface Start {
  entry?: "canary" | "keywire";
  env?: NodeJS.ProcessEnv;
}

async function canary(args: string[], fake: { outputs?: unknown; config?: string } = {}, start: Start = {}): Promise<Run> {
  const log = path.join(dir, `asked-${Math.random().toString(36).slice(2)}.log`);
  fs.writeFileSync(log, "");
  const env: NodeJS.ProcessEnv = {
    HOME: dir,
    // Only the stand-in: no real pulumi and no go can be found.
    PATH: bin,
    KEYWIRE_TOOLS_DIR: path.join(dir, "tools"),
    KEYWIRE_PULUMI_INSTALLER_URL: "http://127.0.0.1:9/",
    PULUMI_BACKEND_URL: `file://${dir}/state`,
    FAKE_LOG: log,
    ...(fake.outputs !== undefined ? { FAKE_OUTPUTS: JSON.stringify(fake.outputs) } : {}),
    ...(fake.config !== undefined ? { FAKE_CONFIG: fake.config } : {}),
    // SNS on a closed port: the publish fails at once and reaches nothing.
    AWS_ACCESS_KEY_ID: "AKIDKEYWIRECLITEST",
    AWS_SECRET_ACCESS_KEY: AWS_SECRET,
    AWS_ENDPOINT_URL_SNS: "http://127.0.0.1:9",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    ...start.env,
  };
  const entry = start.entry === "keywire" ? [path.join(ROOT, "scripts", "cli", "keywire.ts"), "canary"] : [path.join(ROOT, "scripts", "canary", "cli.ts")];
  const res = await runCommand(process.execPath, [TS_NODE, "--transpile-only", ...entry, ...args], { cwd: dir, env, timeoutMs: RUN_TIMEOUT_MS });
  if (res.timedOut) throw new Error(`canary ${args.join(" ")} did not finish within ${RUN_TIMEOUT_MS} ms`);
  return { code: res.code, stdout: res.stdout, stderr: res.stderr, asked: fs.readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

test("--help: the help text, exit 0, no stack read", async () => {
  const run = await canary(["--help"]);
  expect({ code: run.code, stdout: run.stdout, stderr: run.stderr, asked: run.asked }).toEqual({ code: 0, stdout: HELP, stderr: "", asked: [] });
});

test("bad arguments: exit 2, one line on stderr, nothing asked of Pulumi", async () => {
  for (const args of [[], ["--stack", "dev", "--timeout-seconds", "9999"], ["--stack", "dev", "--topic-arn", "alarms"]]) {
    const run = await canary(args);
    expect(run.code).toBe(CANARY_EXIT.cannotRun);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^canary: [^\n]+\n$/);
    expect(run.asked).toEqual([]);
  }
});

test("a stack without SNS and no --topic-arn: exit 2 with one line saying what to pass", async () => {
  const run = await canary(["--stack", "local"], { outputs: { sns: { enabled: false }, verified: true } });
  expect(run.code).toBe(CANARY_EXIT.cannotRun);
  expect(run.stdout).toBe("");
  // Every line but the wrapper's progress (prefixed) is the canary's one line.
  const own = run.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("[pulumi] "));
  expect(own).toEqual([
    "canary: stack local has no SNS topic (keywire:sns.enabled is false, its sns output is { enabled: false }); pass --topic-arn <arn> of the topic whose delivery to check",
  ]);
  expect(run.asked).toEqual(["stack output --json --stack local"]);
});

test("stack outputs that cannot be read: exit 2, and --topic-arn as the way around", async () => {
  const run = await canary(["--stack", "dev"]);
  expect(run.code).toBe(CANARY_EXIT.cannotRun);
  expect(run.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("[pulumi] "))).toEqual([
    expect.stringMatching(
      /^canary: cannot read stack dev's outputs \(pulumi stack output failed \(exit 255\): error: no stack named dev found\); pass --topic-arn <arn> /,
    ),
  ]);
});

test("the topic from the stack's outputs and the instance from its configuration, both through the wrapper; the secrets stay out", async () => {
  const json = path.join(dir, "out", "report.json");
  const run = await canary(["--stack", "dev", "--json", json, "--timeout-seconds", "5"], {
    outputs: { sns: { topicArn: ARN, subscriptionArn: `${ARN}:abc` } },
    config: stackConfig(ADMIN_PASSWORD),
  });
  expect(run.asked).toEqual(["stack output --json --stack dev", "config --json --show-secrets --stack dev"]);
  // em_event was read with the stack's login; then SNS could not be reached.
  expect(run.code).toBe(CANARY_EXIT.failed);
  const report = JSON.parse(fs.readFileSync(json, "utf8")) as CanaryReport;
  expect(report).toMatchObject({
    stack: "dev",
    topicArn: ARN,
    instance: em.url,
    outcome: "failed",
    exitCode: 1,
    messageId: null,
    leaves: "nothing: SNS did not take the message",
  });
  expect(report.detail).toMatch(new RegExp(`^could not reach SNS to publish to ${ARN} \\(.*ECONNREFUSED`));
  expect(run.stderr).toContain(`canary: could not reach SNS to publish to ${ARN}`);
  expect(em.store.query("em_event")).toEqual([]);
  for (const text of [run.stdout, run.stderr, JSON.stringify(report)]) {
    expect(text).not.toContain(ADMIN_PASSWORD);
    expect(text).not.toContain(AWS_SECRET);
  }
});

test("em_event cannot be read with the stack's login: exit 2 before anything is published, and no password", async () => {
  const wrong = "Wr0ng-stack-pa55word";
  const json = path.join(dir, "out", "refused.json");
  const run = await canary(["--stack", "dev", "--topic-arn", ARN, "--json", json], { config: stackConfig(wrong) });
  expect(run.code).toBe(CANARY_EXIT.cannotRun);
  expect(run.stdout).toBe("");
  expect(run.stderr.split("\n").filter((l) => !l.startsWith("[pulumi] "))).toEqual([
    expect.stringMatching(
      /^canary: cannot read em_event on http:\/\/127\.0\.0\.1:\d+ \(\[servicenow\] list em_event failed \(HTTP 401\): .*Nothing was published$/,
    ),
    "",
  ]);
  expect(run.stderr).not.toContain(wrong);
  expect(fs.existsSync(json)).toBe(false);
  // --topic-arn given: only the configuration was read.
  expect(run.asked).toEqual(["config --json --show-secrets --stack dev"]);
});

describe("an alarm SNS accepts and ServiceNow never records", () => {
  let sns: HttpStub;
  beforeAll(async () => {
    // Takes every publish and delivers it nowhere: what a chain that answers SNS with a 4xx looks like from outside.
    sns = await startHttpStub((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/xml" });
      res.end(
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>mid-lost</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>',
      );
    });
  });
  afterAll(async () => {
    await sns?.stop();
  });

  /** `keywire canary` on a lost alarm, started as `start` says: its report and what it said. */
  async function lost(start: Start): Promise<{ run: Run; report: CanaryReport; markdown: string }> {
    const out = fs.mkdtempSync(path.join(dir, "lost-"));
    const json = path.join(out, "report.json");
    const markdown = path.join(out, "report.md");
    const run = await canary(
      ["--stack", "dev", "--topic-arn", ARN, "--timeout-seconds", "1", "--json", json, "--markdown", markdown],
      { config: stackConfig(ADMIN_PASSWORD) },
      {
        ...start,
        env: { AWS_ENDPOINT_URL_SNS: sns.url, ...start.env },
      },
    );
    expect(run.code).toBe(CANARY_EXIT.notDelivered);
    return { run, report: JSON.parse(fs.readFileSync(json, "utf8")) as CanaryReport, markdown: fs.readFileSync(markdown, "utf8") };
  }

  test("run as the installed command, the next step is `keywire drift`, in the report, on stdout and stderr, and in the Markdown", async () => {
    const { run, report, markdown } = await lost({ entry: "keywire" });
    expect(report).toMatchObject({ outcome: "not-delivered", messageId: "mid-lost", next: "keywire drift --stack dev" });
    expect(run.stdout).toContain("  next: keywire drift --stack dev\n");
    expect(run.stderr).toContain("run keywire drift --stack dev to find the broken link\n");
    expect(markdown).toContain("**Next:** run `keywire drift --stack dev`: it names the broken link in the chain.");
    expect(`${run.stdout}${run.stderr}${markdown}`).not.toContain("npm run");
  });

  test("run as keywire's own npm script, the next step is the npm script", async () => {
    const { run, report } = await lost({ entry: "keywire", env: { npm_package_name: "keywire", npm_lifecycle_event: "canary" } });
    expect(report.next).toBe("npm run drift -- --stack dev");
    expect(run.stderr).toContain("run npm run drift -- --stack dev to find the broken link\n");
  });
});
