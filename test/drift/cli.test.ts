/**
 * `npm run drift`'s exit codes and summary, end to end: the CLI is spawned as npm
 * runs it, with a stand-in `pulumi` first on PATH (the toolchain's first route)
 * that answers `version` with the SDK's version and `preview` with canned JSON and
 * a chosen exit code.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DRIFT_EXIT, DriftOutcome, PULUMI_CHANGES_FOUND, driftExitCode, driftOutcome } from "../../scripts/drift/exitCodes";
import type { DriftReport } from "../../scripts/drift/driftReport";
import { sdkVersion } from "../../scripts/pulumi/toolchain/environment";
import { runCommand } from "../../scripts/shared/process";

const ROOT = path.resolve(__dirname, "..", "..");
const TS_NODE = require.resolve("ts-node/dist/bin.js", { paths: [ROOT] });
const RUN_TIMEOUT_MS = 60_000;
jest.setTimeout(6 * RUN_TIMEOUT_MS);

const T = "pulumi-nodejs:dynamic/keywire/servicenow:";
const urn = (type: string, name: string): string => `urn:pulumi:dev::keywire::keywire:servicenow:ApiKeyAuth$${type}::${name}`;
const PROFILE_INACTIVE = {
  steps: [
    {
      op: "update",
      urn: urn(`${T}InboundProfile`, "keywire-profile"),
      oldState: { type: `${T}InboundProfile`, inputs: { name: "p", keyLocation: "header" }, outputs: { name: "p", keyLocation: "header", active: false } },
      newState: { type: `${T}InboundProfile`, inputs: { name: "p", keyLocation: "header" } },
    },
    {
      op: "update",
      urn: urn(`${T}ApiKeyVerification`, "keywire-verification"),
      oldState: {
        type: `${T}ApiKeyVerification`,
        inputs: { via: "header" },
        outputs: {
          via: "header",
          verified: false,
          brokenLink: 'the inbound profile "p" is inactive: run pulumi up to re-activate it',
          brokenLinkId: "profile.inactive",
        },
      },
      newState: { type: `${T}ApiKeyVerification`, inputs: { via: "header" } },
    },
  ],
};

let dir: string;
let bin: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-drift-cli-"));
  bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  // A node script with node's absolute path, so PATH can hold this directory alone.
  const fake = [
    `#!${process.execPath}`,
    "const fs = require('fs');",
    `if (process.argv[2] === 'version') { process.stdout.write('v${sdkVersion()}\\n'); process.exit(0); }`,
    // The stack's configuration, read beside the preview so that its secrets can be kept out of the report.
    "if (process.argv[2] === 'config' && process.env.FAKE_CONFIG_CODE) { process.stderr.write('error: incorrect passphrase\\n'); process.exit(Number(process.env.FAKE_CONFIG_CODE)); }",
    "if (process.argv[2] === 'config') { process.stdout.write(process.env.FAKE_CONFIG_OUTPUT || '{}'); process.exit(0); }",
    "if (process.argv[2] !== 'preview') process.exit(99);",
    "process.stdout.write(fs.readFileSync(process.env.FAKE_PREVIEW_OUTPUT, 'utf8'));",
    "process.stderr.write('fake pulumi stderr\\n');",
    "process.exit(Number(process.env.FAKE_PREVIEW_CODE));",
  ].join("\n");
  fs.writeFileSync(path.join(bin, "pulumi"), fake, { mode: 0o755 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The drift CLI with the stand-in pulumi, printing `output` and exiting `pulumiCode`. */
async function drift(args: string[], output: string, pulumiCode: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const outputFile = path.join(dir, `preview-${Math.random().toString(36).slice(2)}.txt`);
  fs.writeFileSync(outputFile, output);
  const env: NodeJS.ProcessEnv = {
    HOME: dir,
    // Only the stand-in: no real pulumi and no go can be found, so a stand-in that was
    // refused fails fast instead of building a CLI.
    PATH: bin,
    KEYWIRE_TOOLS_DIR: path.join(dir, "tools"),
    KEYWIRE_PULUMI_INSTALLER_URL: "http://127.0.0.1:9/",
    PULUMI_BACKEND_URL: `file://${dir}/state`,
    FAKE_PREVIEW_OUTPUT: outputFile,
    FAKE_PREVIEW_CODE: String(pulumiCode),
    ...extraEnv,
  };
  const res = await runCommand(process.execPath, [TS_NODE, "--transpile-only", path.join(ROOT, "scripts", "drift", "cli.ts"), ...args], {
    cwd: dir,
    env,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  if (res.timedOut) throw new Error(`drift ${args.join(" ")} did not finish within ${RUN_TIMEOUT_MS} ms`);
  return { code: res.code, stdout: res.stdout, stderr: res.stderr };
}

test("drift: exit 7, the report, and the summary with the chain's broken link", async () => {
  const json = path.join(dir, "drift.json");
  const summary = path.join(dir, "out", "summary.md");
  const run = await drift(["--stack", "dev", "--json", json, "--summary", summary], JSON.stringify(PROFILE_INACTIVE), PULUMI_CHANGES_FOUND);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: DRIFT_EXIT.drift, stderr: expect.any(String) });
  expect(driftOutcome(run.code!)).toBe<DriftOutcome>("drift");
  expect(run.stdout).toContain("stack dev: drift in 2 resources");
  expect((JSON.parse(fs.readFileSync(json, "utf8")) as DriftReport).drifted).toBe(true);
  const text = fs.readFileSync(summary, "utf8");
  expect(text).toContain("### keywire drift: `dev`");
  expect(text).toContain("| InboundProfile keywire-profile |");
  expect(text).toContain("```mermaid");
  expect(text).toMatch(/^ {2}class profile broken$/m);
  expect(text).toMatch(/^ {2}linkStyle 1 stroke:#cf222e/m);
});

test("a secret of the stack's configuration echoed in the preview is not in what the check prints or writes", async () => {
  const secret = "plain-token-value-4711";
  const config = JSON.stringify({
    "keywire:apiKeyToken": { value: secret, secret: true },
    "servicenow:instanceUrl": { value: "https://dev1.service-now.com", secret: false },
  });
  const leaky = {
    steps: [
      {
        op: "update",
        urn: urn(`${T}InboundProfile`, "keywire-profile"),
        oldState: { type: `${T}InboundProfile`, inputs: { name: "p", description: `old ${secret}` }, outputs: { name: "p", description: `old ${secret}` } },
        newState: { type: `${T}InboundProfile`, inputs: { name: "p", description: "new" } },
      },
    ],
  };
  const json = path.join(dir, "leaky.json");
  const run = await drift(["--stack", "dev", "--json", json], JSON.stringify(leaky), PULUMI_CHANGES_FOUND, { FAKE_CONFIG_OUTPUT: config });
  expect(run.code).toBe(DRIFT_EXIT.drift);
  expect(run.stdout).toContain("description: expected new → actual old [REDACTED]");
  for (const text of [run.stdout, run.stderr, fs.readFileSync(json, "utf8")]) expect(text).not.toContain(secret);
});

test("a stack whose secrets cannot be read stops the check (2), and nothing of the preview is printed or written", async () => {
  const summary = path.join(dir, "unreadable-summary.md");
  const run = await drift(["--stack", "dev", "--summary", summary], JSON.stringify(PROFILE_INACTIVE), PULUMI_CHANGES_FOUND, { FAKE_CONFIG_CODE: "255" });
  expect(run.code).toBe(DRIFT_EXIT.cannotRun);
  expect(run.stderr).toContain("could not read stack dev's secrets to keep them out of the report (pulumi config exited 255: error: incorrect passphrase)");
  expect(run.stdout).toBe("");
  expect(run.stderr).not.toContain("fake pulumi stderr");
  expect(fs.existsSync(summary)).toBe(false);
});

test("no drift: exit 0, appended to $GITHUB_STEP_SUMMARY after what other steps wrote", async () => {
  const summary = path.join(dir, "step-summary.md");
  fs.writeFileSync(summary, "earlier step\n\n");
  const run = await drift(["--stack", "dev"], JSON.stringify({ steps: [] }), 0, { GITHUB_STEP_SUMMARY: summary });
  expect(run.code).toBe(DRIFT_EXIT.clean);
  expect(driftOutcome(run.code!)).toBe<DriftOutcome>("clean");
  expect(run.stdout).toBe("stack dev: no drift\n");
  const text = fs.readFileSync(summary, "utf8");
  expect(text.startsWith("earlier step\n\n### keywire drift: `dev`\n\nNo drift.\n")).toBe(true);
  expect(text).toContain("Every link is intact.");
  expect(text).not.toContain("broken");
});

test("a failing preview keeps the Pulumi CLI's code, and writes no summary", async () => {
  const summary = path.join(dir, "failed-summary.md");
  const run = await drift(["--stack", "dev", "--summary", summary], "error: [401] unauthorized", 3);
  expect(run.code).toBe(3);
  expect(driftOutcome(run.code!)).toBe<DriftOutcome>("error");
  expect(run.stderr).toContain("drift check failed (pulumi exited 3)");
  expect(fs.existsSync(summary)).toBe(false);
});

test("changes found but no JSON is an error, not drift", async () => {
  const run = await drift(["--stack", "dev"], "not json", PULUMI_CHANGES_FOUND);
  expect(run.code).toBe(DRIFT_EXIT.failed);
  expect(driftOutcome(run.code!)).toBe<DriftOutcome>("error");
  expect(run.stderr).toContain("pulumi did not print JSON");
});

test("bad arguments are an error (2), before anything runs", async () => {
  const run = await drift(["--stack"], "", 0);
  expect(run.code).toBe(DRIFT_EXIT.cannotRun);
  expect(driftOutcome(run.code!)).toBe<DriftOutcome>("error");
  expect(run.stderr).toContain("--stack needs a value");
});

test("the check's own modules load neither the Pulumi SDK nor an HTTP client: it only reads a preview's JSON", async () => {
  // The daily drift check waits for what its command loads before the preview starts.
  const probe = [
    `require(${JSON.stringify(path.join(ROOT, "scripts", "drift", "cli.ts"))});`,
    "const loaded = Object.keys(require.cache).filter((f) => /node_modules[\\/](@pulumi[\\/]pulumi|axios)[\\/]/.test(f));",
    "process.stdout.write(JSON.stringify(loaded.length));",
  ].join("\n");
  const res = await runCommand(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only", { paths: [ROOT] }), "-e", probe], {
    cwd: ROOT,
    env: process.env,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  expect(res.stderr).toBe("");
  expect(res.stdout).toBe("0");
});

describe("the mapping", () => {
  test("codes are distinct: clean, drift and every kind of error", () => {
    const codes = Object.values(DRIFT_EXIT);
    expect(new Set(codes).size).toBe(codes.length);
    expect(driftOutcome(DRIFT_EXIT.clean)).toBe("clean");
    expect(driftOutcome(DRIFT_EXIT.drift)).toBe("drift");
    for (const code of [DRIFT_EXIT.failed, DRIFT_EXIT.cannotRun, 3, 4, 6, 9, 127, 130, 255]) expect([code, driftOutcome(code)]).toEqual([code, "error"]);
  });

  test("the preview's code becomes the CLI's", () => {
    expect(driftExitCode(0, true)).toBe(DRIFT_EXIT.clean);
    expect(driftExitCode(PULUMI_CHANGES_FOUND, true)).toBe(DRIFT_EXIT.drift);
    // Pulumi's own errors pass through (they are never 0 or 7).
    for (const code of [1, 2, 3, 6, 255]) expect(driftExitCode(code, false)).toBe(code);
    // A preview that printed no JSON says nothing about drift.
    expect(driftExitCode(0, false)).toBe(DRIFT_EXIT.failed);
    expect(driftExitCode(PULUMI_CHANGES_FOUND, false)).toBe(DRIFT_EXIT.failed);
  });
});
