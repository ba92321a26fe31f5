/**
 * The CI workflows in .github/workflows: actionlint finds nothing in them, keywire's
 * own rules hold (workflowPolicy.ts: least permissions, OIDC only, one group per
 * stack, every stack covered), and the drift workflow's scripts map `npm run drift`'s
 * exit codes to the right issue changes — run here with stand-ins for npm, gh and curl.
 *
 * actionlint is built once from the Go module proxy (scripts/tools/actionlint.ts).
 * Where Go is missing, the actionlint tests check the structural rules instead; a
 * failed build with Go present fails them.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Actionlint, ensureActionlint } from "../../scripts/tools/actionlint";
import { DRIFT_EXIT } from "../../scripts/drift/exitCodes";
import { CANARY_EXIT } from "../../scripts/canary/exitCodes";
import { Mapping, checkKeywireWorkflows, checkWorkflow, ciStacks, deployOrder, isMapping, readYaml, workflowFiles } from "../support/workflowPolicy";

const ROOT = path.resolve(__dirname, "..", "..");
/** A cold Go module and build cache builds actionlint in a minute or two; a busy machine takes longer. */
const BUILD_TIMEOUT_MS = 16 * 60_000;
const RUN_TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<Run> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  child.stdin.end(opts.input ?? "");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} did not finish within ${RUN_TIMEOUT_MS} ms`));
    }, RUN_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Deterministic on every machine: shellcheck and pyflakes run only where installed, so they are left out. */
const ACTIONLINT_FLAGS = ["-no-color", "-shellcheck=", "-pyflakes="];

/** A workflow with mistakes actionlint and the policy each must catch. */
const BROKEN = `name: broken
on:
  push: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        stack: [dev]
    env:
      AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
    steps:
      - uses: actions/checkout@main
      - run: echo "\${{ matrix.stak }}"
      - uses: pulumi/actions@v6
        with:
          command: up
          stack-name: \${{ matrix.stack }}
          comment-on-pull-request: true
`;

let tmp: string;
let actionlint: Actionlint;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-workflows-"));
  actionlint = await ensureActionlint({ log: (line) => process.stderr.write(`[actionlint] ${line}\n`) });
}, BUILD_TIMEOUT_MS);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("actionlint", () => {
  test("is there, or Go is not (a failed build with Go present is a failure)", () => {
    if (!actionlint.ok) expect(actionlint).toEqual({ ok: false, kind: "missing", reason: expect.stringContaining("no `go`") });
    else expect(fs.existsSync(actionlint.path)).toBe(true);
  });

  test("finds nothing in any workflow (without Go: the structural rules hold)", async () => {
    const files = workflowFiles(ROOT);
    expect(files.map((f) => path.basename(f))).toEqual(["deploy-stack.yml", "deploy.yml", "drift.yml", "preview.yml"]);
    if (!actionlint.ok) {
      expect(files.flatMap((f) => checkWorkflow(readYaml(f), ROOT))).toEqual([]);
      return;
    }
    const r = await run(actionlint.path, [...ACTIONLINT_FLAGS, ...files.map((f) => path.relative(ROOT, f))], { cwd: ROOT });
    expect({ code: r.code, findings: r.stdout + r.stderr }).toEqual({ code: 0, findings: "" });
  });

  test("finds the mistakes in a broken workflow (without Go: the structural rules do)", async () => {
    const root = path.join(tmp, "broken");
    fs.mkdirSync(path.join(root, ".github", "workflows"), { recursive: true });
    const file = path.join(root, ".github", "workflows", "broken.yml");
    fs.writeFileSync(file, BROKEN);
    if (!actionlint.ok) {
      expect(checkWorkflow(readYaml(file), root).length).toBeGreaterThan(0);
      return;
    }
    const r = await run(actionlint.path, [...ACTIONLINT_FLAGS, ".github/workflows/broken.yml"], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('property "stak" is not defined');
    expect(r.stdout).toContain('input "comment-on-pull-request" is not defined in action "pulumi/actions@v6"');
  });
});

describe("keywire's rules", () => {
  test("every workflow follows them", () => {
    expect(workflowFiles(ROOT).flatMap((f) => checkWorkflow(readYaml(f), ROOT))).toEqual([]);
  });

  test("every stack CI manages is previewed, deployed dev → prod, and checked for drift", () => {
    expect(ciStacks(ROOT)).toEqual(["dev", "prod"]);
    expect(deployOrder(readYaml(path.join(ROOT, ".github", "workflows", "deploy.yml")))).toEqual(["dev", "prod"]);
    expect(checkKeywireWorkflows(ROOT)).toEqual([]);
  });

  test("they catch a broken workflow: no permissions, AWS keys, an unpinned action, no stack group", () => {
    const root = path.join(tmp, "policy");
    fs.mkdirSync(path.join(root, ".github", "workflows"), { recursive: true });
    const file = path.join(root, ".github", "workflows", "broken.yml");
    fs.writeFileSync(file, BROKEN);
    const found = checkWorkflow(readYaml(file), root);
    expect(found).toEqual([
      ".github/workflows/broken.yml: names long-lived AWS credentials; assume a role with aws-actions/configure-aws-credentials (role-to-assume) instead",
      ".github/workflows/broken.yml: no workflow-level `permissions:` mapping (the default grants write access)",
      ".github/workflows/broken.yml: deploy: no `permissions:` of its own",
    ]);
    // With permissions, the job's own problems show.
    fs.writeFileSync(file, BROKEN.replace("jobs:\n", "permissions:\n  contents: read\njobs:\n").replace("    runs-on:", "    permissions:\n      contents: read\n      issues: write\n    runs-on:"));
    expect(checkWorkflow(readYaml(file), root)).toEqual([
      ".github/workflows/broken.yml: names long-lived AWS credentials; assume a role with aws-actions/configure-aws-credentials (role-to-assume) instead",
      ".github/workflows/broken.yml: deploy: actions/checkout@main (in .github/workflows/broken.yml) is not pinned to a major version or a commit",
      ".github/workflows/broken.yml: deploy: has `issues: write` but edits no issue",
      ".github/workflows/broken.yml: deploy: changes or checks a stack without `concurrency: { group: keywire-${{ matrix.stack }}, cancel-in-progress: false }`",
    ]);
  });

  test("they catch a stack left out, and a deployment order that ends anywhere but prod", () => {
    const root = path.join(tmp, "copy");
    fs.cpSync(path.join(ROOT, ".github"), path.join(root, ".github"), { recursive: true });
    fs.mkdirSync(path.join(root, "stacks"));
    for (const s of ["dev", "local", "prod", "staging"]) fs.writeFileSync(path.join(root, "stacks", `Pulumi.${s}.yaml`), "config: {}\n");
    const deploy = path.join(root, ".github", "workflows", "deploy.yml");
    const text = fs.readFileSync(deploy, "utf8");
    // staging after prod: every stack deployed, but prod not last.
    fs.writeFileSync(deploy, `${text}\n  staging:\n    needs: prod\n    uses: ./.github/workflows/deploy-stack.yml\n    with:\n      stack: staging\n    secrets: inherit\n    permissions:\n      contents: read\n      id-token: write\n`);
    const found = checkKeywireWorkflows(root);
    expect(found).toContain("preview.yml: preview: previews dev, prod, not every CI stack (dev, prod, staging)");
    expect(found).toContain("drift.yml: check: covers dev, prod, not every CI stack (dev, prod, staging)");
    expect(found).toContain("deploy.yml: the last stack deployed is staging, not prod");
    expect(found).not.toContainEqual(expect.stringMatching(/^deploy\.yml: deploys/));
  });
});

describe("keywire's rules for the delivery canary", () => {
  const CANARY_IF = "if: ${{ !cancelled() && steps.canary-on.outputs.run == 'true' }}";

  /** The repository's workflows with drift.yml changed by `edit`, and the violations found. */
  function violations(name: string, edit: (text: string) => string): string[] {
    const root = path.join(tmp, `canary-${name}`);
    fs.cpSync(path.join(ROOT, ".github"), path.join(root, ".github"), { recursive: true });
    fs.cpSync(path.join(ROOT, "stacks"), path.join(root, "stacks"), { recursive: true });
    const file = path.join(root, ".github", "workflows", "drift.yml");
    const text = fs.readFileSync(file, "utf8");
    const edited = edit(text);
    expect(edited).not.toBe(text);
    fs.writeFileSync(file, edited);
    return [...checkKeywireWorkflows(root), ...checkWorkflow(readYaml(file), root)];
  }

  test("the workflow as it is: the canary runs in the check job, with its own role, only when it runs", () => {
    const steps = (driftJobs().check.steps as unknown[]).filter(isMapping);
    const canary = steps.findIndex((s) => typeof s.run === "string" && /npm run -s canary/.test(s.run));
    const role = steps.findIndex((s) => isMapping(s.with) && s.with["role-to-assume"] === "${{ matrix.canary-role }}");
    expect(canary).toBeGreaterThan(role);
    expect(role).toBeGreaterThan(steps.findIndex((s) => s.id === "drift"));
    expect(steps[role].if).toBe(steps[canary].if);
    expect(violations("as-is", (t) => `${t}\n`)).toEqual([]);
  });

  test("a canary role assumed whatever the stack list says is caught", () => {
    const found = violations("ungated-role", (t) => t.replace(`configure-aws-credentials@v6\n        ${CANARY_IF}\n`, "configure-aws-credentials@v6\n"));
    expect(found).toEqual(["drift.yml: check: the canary's AWS role is not assumed under the canary's own `if:` (only when the canary runs)"]);
  });

  test("a canary publishing with the drift check's read role is caught", () => {
    const found = violations("read-role", (t) => t.replace("role-to-assume: ${{ matrix.canary-role }}", "role-to-assume: ${{ matrix.read-role }}"));
    expect(found).toEqual(["drift.yml: check: the canary publishes with ${{ matrix.read-role }}, not a role of its own that may only publish to the topic"]);
  });

  test("a canary in the report job, which edits issues, is caught", () => {
    const found = violations("in-report", (t) => t.replace("      - uses: actions/setup-node@v6\n", "      - run: npm run -s canary -- --stack dev\n        shell: bash\n      - uses: actions/setup-node@v6\n"));
    expect(found).toEqual(
      expect.arrayContaining([
        "drift.yml: report: runs the canary outside the drift check job, whose outcome it shares",
        "drift.yml: report: the canary runs on every stack; gate it with an `if:` on the stack list",
        ".github/workflows/drift.yml: report: edits issues and touches a stack in one job; keep issue access away from the job that runs the program",
      ]),
    );
  });
});

// ---------------------------------------------------------------------------
// The drift workflow's scripts, run as GitHub runs them (`shell: bash`)
// ---------------------------------------------------------------------------

function driftJobs(): { check: Mapping; report: Mapping } {
  const wf = readYaml(path.join(ROOT, ".github", "workflows", "drift.yml"));
  const jobs = wf.doc.jobs as Mapping;
  return { check: jobs.check as Mapping, report: jobs.report as Mapping };
}

function stepRun(job: Mapping, match: (step: Mapping) => boolean): string {
  const step = (job.steps as unknown[]).filter(isMapping).find(match);
  if (!step || typeof step.run !== "string") throw new Error("step not found");
  expect(step.shell).toBe("bash");
  // Values reach the script through env:, never spliced into its text.
  expect(step.run).not.toContain("${{");
  return step.run;
}

/** A stand-in command: records its arguments (and stdin, for curl) and answers as told. */
function stub(dir: string, name: string, body: string): void {
  fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/** Runs a workflow step's script the way `shell: bash` does. */
async function runStep(script: string, cwd: string, bin: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const file = path.join(cwd, "step.sh");
  fs.writeFileSync(file, script);
  const pathEnv = [bin, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter);
  return run("bash", ["--noprofile", "--norc", "-eo", "pipefail", file], { cwd, env: { PATH: pathEnv, HOME: cwd, ...env } });
}

describe("drift check step", () => {
  const script = (): string => stepRun(driftJobs().check, (s) => s.id === "drift");

  async function check(code: number): Promise<{ run: Run; outcome: string; output: string; summary: string; dir: string }> {
    const dir = fs.mkdtempSync(path.join(tmp, "check-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    // npm run -s drift: writes the summary where --summary says, exits with the code under test.
    stub(bin, "npm", 'while [ $# -gt 0 ]; do if [ "$1" = --summary ]; then echo "SUMMARY of $STUB_CODE" > "$2"; fi; shift; done\nexit "$STUB_CODE"');
    const output = path.join(dir, "github-output");
    const summary = path.join(dir, "step-summary");
    const r = await runStep(script(), dir, bin, { STACK: "dev", STUB_CODE: String(code), GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary });
    const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    return { run: r, outcome: read(path.join(dir, "drift-dev", "outcome")).trim(), output: read(output), summary: read(summary), dir };
  }

  test("exit 0 is clean, 7 is drift, and both leave the job green for the report job to act on", async () => {
    for (const [code, outcome] of [
      [DRIFT_EXIT.clean, "clean"],
      [DRIFT_EXIT.drift, "drift"],
    ] as const) {
      const c = await check(code);
      expect({ code: c.run.code, outcome: c.outcome, output: c.output }).toEqual({ code: 0, outcome, output: `outcome=${outcome}\n` });
      expect(c.summary).toBe(`SUMMARY of ${code}\n`);
      expect(fs.readFileSync(path.join(c.dir, "drift-dev", "exit-code"), "utf8")).toBe(`${code}\n`);
    }
  });

  test("every other code is an error: the job fails and says the issue is left alone", async () => {
    for (const code of [DRIFT_EXIT.failed, DRIFT_EXIT.cannotRun, 3, 6, 255]) {
      const c = await check(code);
      expect({ code: c.run.code, outcome: c.outcome, output: c.output }).toEqual({ code: 1, outcome: "error", output: "outcome=error\n" });
      expect(c.run.stdout).toContain(`::error title=Drift check failed (dev)::npm run drift exited ${code}`);
      expect(c.summary).toContain(`The check could not run (npm run drift exited ${code})`);
    }
  });
});

describe("delivery canary switch", () => {
  const script = (): string => stepRun(driftJobs().check, (s) => s.id === "canary-on");

  async function on(stacks: string | undefined, stack: string): Promise<string> {
    const dir = fs.mkdtempSync(path.join(tmp, "canary-on-"));
    const output = path.join(dir, "github-output");
    const r = await runStep(script(), dir, path.join(dir, "bin"), { STACK: stack, GITHUB_OUTPUT: output, ...(stacks !== undefined ? { CANARY_STACKS: stacks } : {}) });
    expect(r.code).toBe(0);
    return fs.readFileSync(output, "utf8");
  }

  test("KEYWIRE_CANARY_STACKS lists the stacks, by commas or spaces; unset or empty turns it off; no glob or prefix matches", async () => {
    expect(await on("dev prod", "prod")).toBe("run=true\n");
    expect(await on("dev,prod", "dev")).toBe("run=true\n");
    expect(await on(" prod , dev ", "dev")).toBe("run=true\n");
    expect(await on("prod", "dev")).toBe("run=false\n");
    expect(await on("development", "dev")).toBe("run=false\n");
    expect(await on("*", "dev")).toBe("run=false\n");
    expect(await on("", "dev")).toBe("run=false\n");
    expect(await on(undefined, "dev")).toBe("run=false\n");
  });
});

describe("delivery canary step", () => {
  const script = (): string => stepRun(driftJobs().check, (s) => s.id === "canary");

  interface CanaryRun {
    run: Run;
    outcome: string;
    exitCode: string;
    output: string;
    summary: string;
    report: string;
  }

  /** The canary step after a drift check that left `drift` (its outcome and code), with npm run canary exiting `code`. */
  async function canary(drift: { outcome: string; code: number }, code: number): Promise<CanaryRun> {
    const dir = fs.mkdtempSync(path.join(tmp, "canary-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(dir, "drift-dev"));
    fs.writeFileSync(path.join(dir, "drift-dev", "outcome"), `${drift.outcome}\n`);
    fs.writeFileSync(path.join(dir, "drift-dev", "exit-code"), `${drift.code}\n`);
    fs.writeFileSync(path.join(dir, "drift-dev", "summary.md"), "DRIFT SUMMARY\n");
    // npm run -s canary: writes its summary where --summary says, exits with the code under test.
    stub(bin, "npm", 'case "$*" in "run -s canary -- --stack dev "*) ;; *) exit 99 ;; esac\nwhile [ $# -gt 0 ]; do if [ "$1" = --summary ]; then echo "CANARY SUMMARY of $STUB_CODE" > "$2"; fi; shift; done\nexit "$STUB_CODE"');
    const output = path.join(dir, "github-output");
    const summary = path.join(dir, "step-summary");
    const r = await runStep(script(), dir, bin, { STACK: "dev", STUB_CODE: String(code), GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary });
    const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    return {
      run: r,
      outcome: read(path.join(dir, "drift-dev", "outcome")).trim(),
      exitCode: read(path.join(dir, "drift-dev", "exit-code")).trim(),
      output: read(output),
      summary: read(summary),
      report: read(path.join(dir, "drift-dev", "summary.md")),
    };
  }

  test("delivered leaves drift's outcome as it was, and adds the canary's report to the issue's and the job's summary", async () => {
    for (const drift of ["clean", "drift"] as const) {
      const c = await canary({ outcome: drift, code: drift === "clean" ? DRIFT_EXIT.clean : DRIFT_EXIT.drift }, CANARY_EXIT.delivered);
      expect({ code: c.run.code, outcome: c.outcome, output: c.output }).toEqual({ code: 0, outcome: drift, output: `outcome=${drift}\n` });
      expect(c.report).toBe("DRIFT SUMMARY\nCANARY SUMMARY of 0\n");
      expect(c.summary).toBe("CANARY SUMMARY of 0\n");
    }
  });

  test("not delivered (7) is drift's outcome: the issue is opened or updated, whatever drift found; the job stays green for the report job", async () => {
    for (const [drift, code] of [
      ["clean", DRIFT_EXIT.clean],
      ["drift", DRIFT_EXIT.drift],
      ["error", 3],
    ] as const) {
      const c = await canary({ outcome: drift, code }, CANARY_EXIT.notDelivered);
      expect({ code: c.run.code, outcome: c.outcome, output: c.output }).toEqual({ code: 0, outcome: "drift", output: "outcome=drift\n" });
      expect(c.exitCode).toBe(`drift ${code}, canary 7`);
      expect(c.run.stdout).toContain("::warning title=Alarms not delivered (dev)::");
      expect(c.report).toBe("DRIFT SUMMARY\nCANARY SUMMARY of 7\n");
    }
  });

  test("any other code is an error: the step fails; a clean drift check becomes an error, a drift finding still opens the issue", async () => {
    for (const code of [CANARY_EXIT.failed, CANARY_EXIT.cannotRun, 130]) {
      const c = await canary({ outcome: "clean", code: DRIFT_EXIT.clean }, code);
      expect({ code: c.run.code, outcome: c.outcome, output: c.output }).toEqual({ code: 1, outcome: "error", output: "outcome=error\n" });
      expect(c.run.stdout).toContain(`::error title=Delivery canary failed (dev)::npm run canary exited ${code}`);
      expect(c.summary).toContain(`The canary could not run (npm run canary exited ${code})`);
    }
    const withDrift = await canary({ outcome: "drift", code: DRIFT_EXIT.drift }, CANARY_EXIT.failed);
    expect({ code: withDrift.run.code, outcome: withDrift.outcome }).toEqual({ code: 1, outcome: "drift" });
  });
});

describe("drift report step", () => {
  const script = (): string => stepRun(driftJobs().report, (s) => typeof s.run === "string" && s.run.includes("gh issue"));
  const RUN_URL = "https://github.example/o/r/actions/runs/1";

  interface Report {
    run: Run;
    gh: string[];
    webhook: string[];
    body: string;
  }

  /** The report step after a check whose artifact holds `artifact` (undefined: no artifact). */
  async function report(artifact: { outcome: string; code: number } | undefined, openIssue: string, webhook = "https://hooks.example/T0"): Promise<Report> {
    const dir = fs.mkdtempSync(path.join(tmp, "report-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    if (artifact) {
      fs.mkdirSync(path.join(dir, "drift-dev"));
      fs.writeFileSync(path.join(dir, "drift-dev", "outcome"), `${artifact.outcome}\n`);
      fs.writeFileSync(path.join(dir, "drift-dev", "exit-code"), `${artifact.code}\n`);
      fs.writeFileSync(path.join(dir, "drift-dev", "summary.md"), "### keywire drift: `dev`\n\nthe report\n");
    }
    const ghLog = path.join(dir, "gh.log");
    const hookLog = path.join(dir, "hook.log");
    const bodyCopy = path.join(dir, "body.md");
    stub(
      bin,
      "gh",
      [
        'echo "$* [TITLE=$TITLE]" >> "$GH_LOG"',
        'prev=""; for a in "$@"; do if [ "$prev" = --body-file ]; then cp "$a" "$BODY_COPY"; fi; prev="$a"; done',
        'case "$1 $2" in',
        '  "issue list") if [ -n "$OPEN_ISSUE" ]; then echo "$OPEN_ISSUE"; fi ;;',
        '  "issue create") echo "https://github.example/o/r/issues/42" ;;',
        "esac",
      ].join("\n"),
    );
    stub(bin, "curl", 'for a in "$@"; do last="$a"; done\necho "$last $(cat)" >> "$HOOK_LOG"');
    const r = await runStep(script(), dir, bin, {
      STACK: "dev",
      RUN_URL,
      GH_TOKEN: "t",
      GH_REPO: "o/r",
      DRIFT_WEBHOOK_URL: webhook,
      OPEN_ISSUE: openIssue,
      GH_LOG: ghLog,
      HOOK_LOG: hookLog,
      BODY_COPY: bodyCopy,
    });
    const lines = (f: string): string[] => (fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n") : []);
    return { run: r, gh: lines(ghLog), webhook: lines(hookLog), body: fs.existsSync(bodyCopy) ? fs.readFileSync(bodyCopy, "utf8") : "" };
  }

  const LIST = "issue list --label drift --state open --limit 100 --json number,title --jq .[] | select(.title == env.TITLE) | .number [TITLE=keywire drift: dev]";

  test("drift, no open issue: the label, a new issue with the report, the webhook, and a failed job", async () => {
    const r = await report({ outcome: "drift", code: DRIFT_EXIT.drift }, "");
    expect(r.run.code).toBe(1);
    expect(r.gh).toEqual([
      LIST,
      expect.stringMatching(/^label create drift --color B60205 /),
      "issue create --title keywire drift: dev --label drift --body-file drift-dev/issue.md [TITLE=keywire drift: dev]",
    ]);
    expect(r.body.startsWith("### keywire drift: `dev`\n\nthe report\n")).toBe(true);
    expect(r.body).toContain(`Found by the [drift check](${RUN_URL})`);
    expect(r.webhook).toEqual([`https://hooks.example/T0 ${JSON.stringify({ text: "keywire: stack dev drifted from its program: https://github.example/o/r/issues/42" })}`]);
    expect(r.run.stdout).toContain("::error title=Drift in dev::issue opened: https://github.example/o/r/issues/42");
  });

  test("drift, issue already open: its body gets this run's report; no new issue, no webhook", async () => {
    const r = await report({ outcome: "drift", code: DRIFT_EXIT.drift }, "12");
    expect(r.run.code).toBe(1);
    expect(r.gh).toEqual([LIST, "issue edit 12 --body-file drift-dev/issue.md [TITLE=keywire drift: dev]"]);
    expect(r.body).toContain("the report");
    expect(r.webhook).toEqual([]);
  });

  test("clean with an open issue: closed with a comment, and the webhook told", async () => {
    const r = await report({ outcome: "clean", code: DRIFT_EXIT.clean }, "12");
    expect(r.run.code).toBe(0);
    expect(r.gh).toEqual([LIST, `issue close 12 --comment The drift check found stack \`dev\` clean again: ${RUN_URL} [TITLE=keywire drift: dev]`]);
    expect(r.webhook).toEqual([`https://hooks.example/T0 ${JSON.stringify({ text: "keywire: stack dev is clean again; issue #12 closed" })}`]);
  });

  test("clean and no issue: nothing changes", async () => {
    const r = await report({ outcome: "clean", code: DRIFT_EXIT.clean }, "");
    expect(r.run.code).toBe(0);
    expect(r.gh).toEqual([LIST]);
    expect(r.webhook).toEqual([]);
  });

  test("an error, or no report at all: no issue is touched; the webhook hears of it", async () => {
    for (const [artifact, why] of [
      [{ outcome: "error", code: 3 }, "3"],
      [undefined, "no report"],
    ] as const) {
      const r = await report(artifact, "12");
      expect(r.run.code).toBe(0);
      expect(r.gh).toEqual([]);
      expect(r.webhook).toEqual([`https://hooks.example/T0 ${JSON.stringify({ text: `keywire: the drift check of stack dev failed (${why}): ${RUN_URL}` })}`]);
      expect(r.run.stdout).toContain("::warning title=Drift check failed (dev)::");
    }
  });

  test("without DRIFT_WEBHOOK_URL nothing is posted", async () => {
    const r = await report({ outcome: "drift", code: DRIFT_EXIT.drift }, "", "");
    expect(r.run.code).toBe(1);
    expect(r.webhook).toEqual([]);
    expect(r.gh).toHaveLength(3);
  });
});
