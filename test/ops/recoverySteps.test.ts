/**
 * After a killed deployment: the stack-status action reports the stack's lock and
 * pending operations (Pulumi Cloud or an S3 backend), and recover.yml's steps release the
 * lock and clear pending creates only when the state has them. Run as GitHub runs them
 * (`shell: bash`) with stand-ins for pulumi and aws.
 */
import * as fs from "fs";
import * as path from "path";
import { type Mapping, readYaml } from "../support/workflowModel";
import { ROOT, type Run, runStep, scratchDir, stepRun, stub } from "./workspace";

const tmp = scratchDir("keywire-recovery-steps-");

/** The Pulumi program's directory of a test workspace: where the steps run. */
function programDir(dir: string): string {
  const program = path.join(dir, "infra");
  fs.mkdirSync(program, { recursive: true });
  fs.writeFileSync(path.join(program, "Pulumi.yaml"), "name: keywire\nruntime: nodejs\n");
  return program;
}

/** A directory holding only links to the named commands of this machine: a PATH without anything else. */
function onlyTools(dir: string, names: string[]): string {
  const bin = path.join(dir, "system-bin");
  fs.mkdirSync(bin);
  for (const name of names) {
    const found = (process.env.PATH ?? "")
      .split(path.delimiter)
      .map((d) => path.join(d, name))
      .find((f) => fs.existsSync(f));
    if (!found) throw new Error(`${name} is not on PATH`);
    fs.symlinkSync(found, path.join(bin, name));
  }
  return bin;
}

const STATE_WITH = (ops: Array<{ type: string; urn: string }>): string =>
  JSON.stringify({
    version: 3,
    deployment: {
      manifest: {},
      resources: [],
      ...(ops.length > 0 ? { pending_operations: ops.map((o) => ({ type: o.type, resource: { urn: o.urn } })) } : {}),
    },
  });
const KEY_URN = "urn:pulumi:dev::keywire::keywire:servicenow:ApiKeyAuth$pulumi-nodejs:dynamic/keywire/servicenow:ApiKey::keywire-key";

describe("the stack's lock and pending operations (stack-status action)", () => {
  const script = (): string => {
    const action = readYaml(path.join(ROOT, ".github", "actions", "stack-status", "action.yml"));
    return stepRun({ steps: (action.doc.runs as Mapping).steps }, (s) => s.id === "status");
  };

  interface Status {
    code: number | null;
    outputs: string;
    summary: string;
    asked: string[];
    said: string;
  }

  /**
   * The step in a program's directory. `pulumi` answers `stack ls --json` with STACK_LS and
   * `stack export` with EXPORT (or fails with EXPORT_ERROR); `aws s3 ls` prints S3_LS, says
   * S3_ERROR and exits S3_CODE, `aws s3 cp` prints LOCK. Each logs where and how it ran.
   */
  async function status(env: NodeJS.ProcessEnv, opts: { noCli?: boolean } = {}): Promise<Status> {
    const dir = fs.mkdtempSync(path.join(tmp(), "status-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const program = programDir(dir);
    const asked = path.join(dir, "asked");
    fs.writeFileSync(asked, "");
    if (!opts.noCli) {
      stub(
        bin,
        "pulumi",
        [
          'echo "pulumi $*" >> "$ASKED"',
          'case "$1 $2" in',
          '  "stack ls") printf "%s" "$STACK_LS" ;;',
          '  "stack export") if [ -n "$EXPORT_ERROR" ]; then echo "$EXPORT_ERROR" >&2; exit 255; fi; printf "%s" "$EXPORT" ;;',
          "  *) exit 99 ;;",
          "esac",
        ].join("\n"),
      );
    }
    stub(
      bin,
      "aws",
      [
        'echo "aws $*" >> "$ASKED"',
        'case "$1 $2" in',
        '  "s3 ls") printf "%s" "$S3_LS"; printf "%s" "$S3_ERROR" >&2; exit "${S3_CODE:-0}" ;;',
        '  "s3 cp") printf "%s" "$LOCK" ;;',
        "esac",
      ].join("\n"),
    );
    const outputs = path.join(dir, "github-output");
    const summary = path.join(dir, "step-summary");
    const base = {
      STACK: "dev",
      HEADING: "after the deployment stopped",
      WHEN_STUCK: "STUCK: run recover.yml",
      WHEN_CLEAR: "CLEAR: nothing to recover",
      GITHUB_OUTPUT: outputs,
      GITHUB_STEP_SUMMARY: summary,
      ASKED: asked,
    };
    const tools = opts.noCli
      ? {
          PATH: [bin, onlyTools(dir, ["bash", "jq", "sed", "grep", "tr", "cut", "head", "tail", "mktemp", "rm", "cat", "find", "timeout"])].join(
            path.delimiter,
          ),
        }
      : {};
    const r = await runStep(script(), program, bin, { ...base, ...env, ...tools });
    const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    return { code: r.code, outputs: read(outputs), summary: read(summary), asked: read(asked).split("\n").filter(Boolean), said: r.stdout.trim() };
  }

  const CLOUD = { PULUMI_BACKEND_URL: "https://api.pulumi.com" };
  const S3 = { PULUMI_BACKEND_URL: "s3://state-bucket/keywire?region=eu-west-1&awssdk=v2" };
  const table = (lock: string, pending: string): string =>
    `### keywire: stack \`dev\`, after the deployment stopped\n\n| | |\n|---|---|\n| Lock | ${lock} |\n| Pending operations | ${pending} |\n\n`;

  test("Pulumi Cloud with the killed update in progress and its create pending: locked, 1, and what to do", async () => {
    const s = await status({
      ...CLOUD,
      STACK_LS: JSON.stringify([
        { name: "dev2", current: false, updateInProgress: false },
        { name: "acme/keywire/dev", current: true, updateInProgress: true },
      ]),
      EXPORT: STATE_WITH([{ type: "creating", urn: KEY_URN }]),
    });
    expect(s.code).toBe(0);
    expect(s.outputs).toBe("backend=cloud\nlocked=yes\npending=1\n");
    expect(s.summary).toBe(`${table("locked: Pulumi Cloud shows an update in progress", `1: \`creating ${KEY_URN}\``)}STUCK: run recover.yml\n\n`);
    expect(s.asked).toEqual(["pulumi stack ls --json", "pulumi stack export --stack dev"]);
    expect(s.said).toBe("stack dev: locked yes, pending operations 1");
  });

  test("Pulumi Cloud with no update in progress and nothing pending: clear, and the other advice", async () => {
    const s = await status({ ...CLOUD, STACK_LS: JSON.stringify([{ name: "dev", current: true, updateInProgress: false }]), EXPORT: STATE_WITH([]) });
    expect(s.outputs).toBe("backend=cloud\nlocked=no\npending=0\n");
    expect(s.summary).toBe(`${table("not locked: Pulumi Cloud shows no update in progress", "none")}CLEAR: nothing to recover\n\n`);
  });

  test("an S3 backend: the stack's own lock file, named with who holds it; other projects' and stacks' locks are not its", async () => {
    const s = await status({
      ...S3,
      S3_LS: [
        "2026-12-07 02:43:03        98 keywire/.pulumi/locks/organization/keywire/dev/0b0e9e9a-1.json",
        "2026-12-07 02:43:03        98 keywire/.pulumi/locks/organization/billing/dev/0b0e9e9a-2.json",
        "2026-12-07 02:43:03        98 keywire/.pulumi/locks/organization/keywire/dev2/0b0e9e9a-3.json",
        "2026-12-07 02:43:03        98 keywire/.pulumi/locks/organization/keywire/devXeu/0b0e9e9a-4.json",
        "",
      ].join("\n"),
      LOCK: JSON.stringify({ pid: 29998, username: "runner", hostname: "fv-az1", timestamp: "2026-12-07T02:43:03Z" }),
      EXPORT: STATE_WITH([]),
    });
    expect(s.outputs).toBe("backend=self-managed\nlocked=yes\npending=0\n");
    expect(s.summary).toContain(
      "| Lock | locked: 1 lock file(s); `keywire/.pulumi/locks/organization/keywire/dev/0b0e9e9a-1.json`, created by `runner@fv-az1 (pid 29998) at 2026-12-07T02:43:03Z` |\n",
    );
    expect(s.summary).toContain("STUCK");
    expect(s.asked).toEqual([
      "aws s3 ls s3://state-bucket/keywire/.pulumi/locks/ --recursive --region eu-west-1",
      "aws s3 cp s3://state-bucket/keywire/.pulumi/locks/organization/keywire/dev/0b0e9e9a-1.json - --region eu-west-1",
      "pulumi stack export --stack dev",
    ]);
  });

  test("an S3 backend without locks (aws s3 ls exits 1 and says nothing) is not locked; a refused listing is unknown, and so stuck", async () => {
    const free = await status({ ...S3, S3_LS: "", S3_CODE: "1", EXPORT: STATE_WITH([]) });
    expect(free.outputs).toBe("backend=self-managed\nlocked=no\npending=0\n");
    expect(free.summary).toContain("| Lock | not locked: the backend holds no lock file of the stack |");
    expect(free.summary).toContain("CLEAR");
    const refused = await status({
      ...S3,
      S3_LS: "",
      S3_CODE: "1",
      S3_ERROR: "\nAn error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied\n",
      EXPORT: STATE_WITH([]),
    });
    expect(refused.outputs).toBe("backend=self-managed\nlocked=unknown\npending=0\n");
    expect(refused.summary).toContain(
      "| Lock | unknown: listing the backend's lock files failed: `An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied` |",
    );
    expect(refused.summary).toContain("STUCK");
  });

  test("a job that stopped before the Pulumi CLI was set up: unknown, said so, and the step still succeeds", async () => {
    const s = await status({ ...CLOUD }, { noCli: true });
    expect(s.code).toBe(0);
    expect(s.outputs).toBe("backend=cloud\nlocked=unknown\npending=unknown\n");
    expect(s.summary).toBe(
      `${table("unknown: the Pulumi CLI is not on PATH (the job stopped before its setup finished)", "unknown: the Pulumi CLI is not on PATH")}STUCK: run recover.yml\n\n`,
    );
  });

  test("a state that cannot be read is unknown with the CLI's last line; text from outside cannot break the table", async () => {
    const failed = await status({ ...CLOUD, STACK_LS: "[]", EXPORT_ERROR: "error: could not decrypt\nerror: no stack named 'dev' found" });
    expect(failed.outputs).toBe("backend=cloud\nlocked=unknown\npending=unknown\n");
    expect(failed.summary).toContain("| Lock | unknown: `pulumi stack ls` does not say whether the stack has an update in progress |");
    expect(failed.summary).toContain("| Pending operations | unknown: `pulumi stack export` failed: `error: no stack named 'dev' found` |");
    const odd = await status({ ...CLOUD, STACK_LS: "[]", EXPORT: STATE_WITH([{ type: "updating", urn: "urn:pulumi:dev::keywire::x::a|b`c" }]) });
    expect(odd.summary).toContain("| Pending operations | 1: `updating urn:pulumi:dev::keywire::x::a\\|bc` |");
  });
});

describe("recover.yml's steps", () => {
  const step = (id: string): string =>
    stepRun((readYaml(path.join(ROOT, ".github", "workflows", "recover.yml")).doc.jobs as Mapping).recover as Mapping, (s) => s.id === id);

  interface StepRun {
    run: Run;
    asked: string[];
    summary: string;
  }

  /** A recover.yml step in the program's directory; `pulumi` logs where and how it ran, exits CANCEL_CODE or REFRESH_CODE, and prints EXPORT. */
  async function recoverStep(id: string, env: NodeJS.ProcessEnv): Promise<StepRun> {
    const dir = fs.mkdtempSync(path.join(tmp(), `recover-${id}-`));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const program = programDir(dir);
    const asked = path.join(dir, "asked");
    fs.writeFileSync(asked, "");
    stub(
      bin,
      "pulumi",
      [
        'echo "$PWD $*" >> "$ASKED"',
        'case "$1" in',
        '  cancel) exit "${CANCEL_CODE:-0}" ;;',
        '  stack) printf "%s" "$EXPORT"; exit "${EXPORT_CODE:-0}" ;;',
        '  refresh) exit "${REFRESH_CODE:-0}" ;;',
        "esac",
        "exit 99",
      ].join("\n"),
    );
    const summary = path.join(dir, "step-summary");
    const r = await runStep(step(id), program, bin, { STACK: "dev", GITHUB_STEP_SUMMARY: summary, ASKED: asked, ...env });
    const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    return {
      run: r,
      asked: read(asked)
        .split("\n")
        .filter(Boolean)
        .map((l) => l.replace(program, "<program>")),
      summary: read(summary),
    };
  }

  test("the lock: cancelled in the program's directory, on a self-managed backend whatever its listing found", async () => {
    for (const locked of ["yes", "no", "unknown"]) {
      const r = await recoverStep("cancel", { BACKEND: "self-managed", LOCKED: locked });
      expect(r.run.code).toBe(0);
      expect(r.asked).toEqual(["<program> cancel --yes --stack dev"]);
      expect(r.summary).toBe("**What the recovery did:**\n\n- The lock: released with `pulumi cancel --yes --stack dev`.\n");
    }
  });

  test("the lock: on Pulumi Cloud only when an update is in progress (it refuses a cancel otherwise)", async () => {
    const idle = await recoverStep("cancel", { BACKEND: "cloud", LOCKED: "no" });
    expect({ code: idle.run.code, asked: idle.asked }).toEqual({ code: 0, asked: [] });
    expect(idle.summary).toContain("- The lock: Pulumi Cloud shows no update in progress, so nothing was cancelled.\n");
    for (const locked of ["yes", "unknown"])
      expect((await recoverStep("cancel", { BACKEND: "cloud", LOCKED: locked })).asked).toEqual(["<program> cancel --yes --stack dev"]);
  });

  test("a failed cancel fails the job and says so", async () => {
    const r = await recoverStep("cancel", { BACKEND: "cloud", LOCKED: "yes", CANCEL_CODE: "255" });
    expect(r.run.code).toBe(1);
    expect(r.run.stdout).toContain("::error title=Lock not released (dev)::pulumi cancel failed");
    expect(r.summary).toContain("- The lock: `pulumi cancel --yes --stack dev` failed; the job log says why.\n");
  });

  test("pending creates: refreshed with --clear-pending-creates only when the state has pending operations", async () => {
    const none = await recoverStep("refresh", { EXPORT: STATE_WITH([]) });
    expect({ code: none.run.code, asked: none.asked }).toEqual({ code: 0, asked: ["<program> stack export --stack dev"] });
    expect(none.summary).toBe("- Pending operations: none in the state, so no refresh.\n\n");

    const two = await recoverStep("refresh", {
      EXPORT: STATE_WITH([
        { type: "creating", urn: KEY_URN },
        { type: "creating", urn: `${KEY_URN}-2` },
      ]),
    });
    expect(two.run.code).toBe(0);
    expect(two.asked).toEqual(["<program> stack export --stack dev", "<program> refresh --yes --clear-pending-creates --stack dev"]);
    expect(two.run.stdout).toContain(`creating ${KEY_URN}\n`);
    expect(two.summary).toBe("- Pending operations: 2 in the state; `pulumi refresh --yes --clear-pending-creates --stack dev` ran.\n\n");
  });

  test("a state that cannot be exported, or a failed refresh, fails the job", async () => {
    const unread = await recoverStep("refresh", { EXPORT: "", EXPORT_CODE: "255" });
    expect({ code: unread.run.code, asked: unread.asked }).toEqual({ code: 1, asked: ["<program> stack export --stack dev"] });
    expect(unread.summary).toContain("`pulumi stack export` failed, so none were dropped");
    const failed = await recoverStep("refresh", { EXPORT: STATE_WITH([{ type: "creating", urn: KEY_URN }]), REFRESH_CODE: "255" });
    expect(failed.run.code).toBe(1);
    expect(failed.run.stdout).toContain("::error title=Refresh failed (dev)::");
    expect(failed.summary).toContain("`pulumi refresh --yes --clear-pending-creates --stack dev` failed");
  });
});
