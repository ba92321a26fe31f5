/**
 * The drift workflow's scripts, run as GitHub runs them (`shell: bash`) with stand-ins
 * for npx, gh and curl: the drift check and the delivery canary map `keywire drift`'s and
 * `keywire canary`'s exit codes to an outcome, and the report job opens, updates and
 * closes the drift issue and tells the webhook.
 */
import * as fs from "fs";
import * as path from "path";
import { DRIFT_EXIT } from "../../scripts/drift/exitCodes";
import { CANARY_EXIT } from "../../scripts/canary/exitCodes";
import { type Run, driftJobs, runStep, scratchDir, stepRun, stub } from "./workspace";

const tmp = scratchDir("keywire-drift-workflow-");

describe("drift check step", () => {
  const script = (): string => stepRun(driftJobs().check, (s) => s.id === "drift");

  /**
   * The step as GitHub runs it in the program's directory (`working-directory:`, here a
   * subdirectory of the workspace), with `npx` answering as the installed keywire would.
   */
  async function check(code: number): Promise<{ run: Run; outcome: string; output: string; summary: string; dir: string; asked: string }> {
    const dir = fs.mkdtempSync(path.join(tmp(), "check-"));
    const bin = path.join(dir, "bin");
    const program = path.join(dir, "infra");
    fs.mkdirSync(bin);
    fs.mkdirSync(program);
    // npx --no-install keywire drift: records where and how it ran, writes the summary where --summary says, exits with the code under test.
    stub(
      bin,
      "npx",
      'echo "$PWD $*" > "$ASKED"\nwhile [ $# -gt 0 ]; do if [ "$1" = --summary ]; then echo "SUMMARY of $STUB_CODE" > "$2"; fi; shift; done\nexit "$STUB_CODE"',
    );
    const output = path.join(dir, "github-output");
    const summary = path.join(dir, "step-summary");
    const asked = path.join(dir, "asked");
    const r = await runStep(script(), program, bin, {
      STACK: "dev",
      STUB_CODE: String(code),
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_WORKSPACE: dir,
      ASKED: asked,
    });
    const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    return {
      run: r,
      outcome: read(path.join(dir, "drift-dev", "outcome")).trim(),
      output: read(output),
      summary: read(summary),
      dir,
      asked: read(asked).trim(),
    };
  }

  test("runs the installed keywire in the program's directory, and leaves its reports in the workspace for the artifact", async () => {
    const c = await check(DRIFT_EXIT.clean);
    const out = path.join(c.dir, "drift-dev");
    expect(c.asked).toBe(
      `${path.join(c.dir, "infra")} --no-install keywire drift --stack dev --json ${out}/report.json --markdown ${out}/report.md --summary ${out}/summary.md`,
    );
    expect(fs.readdirSync(out).sort()).toEqual(["exit-code", "outcome", "summary.md"]);
  });

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
      expect(c.run.stdout).toContain(`::error title=Drift check failed (dev)::keywire drift exited ${code}`);
      expect(c.summary).toContain(`The check could not run (keywire drift exited ${code})`);
    }
  });
});

describe("delivery canary switch", () => {
  const script = (): string => stepRun(driftJobs().check, (s) => s.id === "canary-on");

  async function switched(stacks: string | undefined, stack: string, sns: string): Promise<{ output: string; said: string }> {
    const dir = fs.mkdtempSync(path.join(tmp(), "canary-on-"));
    const output = path.join(dir, "github-output");
    const r = await runStep(script(), dir, path.join(dir, "bin"), {
      STACK: stack,
      SNS: sns,
      GITHUB_OUTPUT: output,
      ...(stacks !== undefined ? { CANARY_STACKS: stacks } : {}),
    });
    expect(r.code).toBe(0);
    return { output: fs.readFileSync(output, "utf8"), said: r.stdout.trim() };
  }
  /** For a stack with the SNS integration. */
  const on = async (stacks: string | undefined, stack: string): Promise<string> => (await switched(stacks, stack, "true")).output;

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

  test("a listed stack without the SNS integration has nothing to publish to: off, saying why", async () => {
    expect(await switched("dev prod", "dev", "false")).toEqual({
      output: "run=false\n",
      said: "delivery canary for dev: off (the stack has no SNS integration (sns in .github/keywire-ci.json))",
    });
    expect(await switched("prod", "dev", "true")).toEqual({ output: "run=false\n", said: "delivery canary for dev: off (not in KEYWIRE_CANARY_STACKS)" });
    expect((await switched("dev", "dev", "true")).said).toBe("delivery canary for dev: on");
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

  /** The canary step, in the program's directory, after a drift check that left `drift` (its outcome and code), with keywire canary exiting `code`. */
  async function canary(drift: { outcome: string; code: number }, code: number): Promise<CanaryRun> {
    const dir = fs.mkdtempSync(path.join(tmp(), "canary-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(dir, "infra"));
    fs.mkdirSync(path.join(dir, "drift-dev"));
    fs.writeFileSync(path.join(dir, "drift-dev", "outcome"), `${drift.outcome}\n`);
    fs.writeFileSync(path.join(dir, "drift-dev", "exit-code"), `${drift.code}\n`);
    fs.writeFileSync(path.join(dir, "drift-dev", "summary.md"), "DRIFT SUMMARY\n");
    // npx --no-install keywire canary: writes its summary where --summary says, exits with the code under test.
    stub(
      bin,
      "npx",
      'case "$*" in "--no-install keywire canary --stack dev "*) ;; *) exit 99 ;; esac\nwhile [ $# -gt 0 ]; do if [ "$1" = --summary ]; then echo "CANARY SUMMARY of $STUB_CODE" > "$2"; fi; shift; done\nexit "$STUB_CODE"',
    );
    const output = path.join(dir, "github-output");
    const summary = path.join(dir, "step-summary");
    const r = await runStep(script(), path.join(dir, "infra"), bin, {
      STACK: "dev",
      STUB_CODE: String(code),
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_WORKSPACE: dir,
    });
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
      expect(c.run.stdout).toContain(`::error title=Delivery canary failed (dev)::keywire canary exited ${code}`);
      expect(c.summary).toContain(`The canary could not run (keywire canary exited ${code})`);
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
    const dir = fs.mkdtempSync(path.join(tmp(), "report-"));
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

  const LIST =
    "issue list --label drift --state open --limit 100 --json number,title --jq .[] | select(.title == env.TITLE) | .number [TITLE=keywire drift: dev]";

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
    expect(r.webhook).toEqual([
      `https://hooks.example/T0 ${JSON.stringify({ text: "keywire: stack dev drifted from its program: https://github.example/o/r/issues/42" })}`,
    ]);
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
