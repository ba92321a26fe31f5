/**
 * What the tests of the CI workflows share: the checkout's root, a scratch directory per
 * test file, a copy of the files the workflow rules read (to break one thing in), a
 * workflow with known mistakes, and a workflow step's script run as GitHub runs it
 * (`shell: bash`) with stand-in commands on its PATH.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCommand } from "../../scripts/shared/process";
import { type Mapping, STACK_LIST, isMapping, readYaml } from "../support/workflowModel";

export const ROOT = path.resolve(__dirname, "..", "..");
const RUN_TIMEOUT_MS = 60_000;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<Run> {
  // stdin gets the input, or is closed empty: a step that reads it must not wait for more.
  const r = await runCommand(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeoutMs: RUN_TIMEOUT_MS, input: opts.input ?? "" });
  if (r.timedOut) throw new Error(`${cmd} ${args.join(" ")} did not finish within ${RUN_TIMEOUT_MS} ms`);
  if (r.code === null && r.signal === null) throw new Error(`${cmd} could not start: ${r.stderr}`);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** A workflow with mistakes actionlint and the policy each must catch. */
export const BROKEN = `name: broken
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

/** A scratch directory for the file's tests: made before them, removed after them. */
export function scratchDir(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!dir) throw new Error("the scratch directory is made in beforeAll: use it in a hook or a test");
    return dir;
  };
}

/** A copy of what the rules read (workflows, actions, stack list, stacks, the program's files), to break one thing in. */
export function copyOfRepository(scratch: string, name: string): string {
  const root = path.join(scratch, name);
  fs.cpSync(path.join(ROOT, ".github"), path.join(root, ".github"), { recursive: true });
  fs.cpSync(path.join(ROOT, "stacks"), path.join(root, "stacks"), { recursive: true });
  for (const f of ["Pulumi.yaml", "package.json"]) fs.copyFileSync(path.join(ROOT, f), path.join(root, f));
  return root;
}

export function writeStackList(root: string, list: unknown): void {
  fs.writeFileSync(path.join(root, STACK_LIST), `${JSON.stringify(list, null, 2)}\n`);
}

/** `text` with `from` (which must occur exactly once) replaced. */
export function replaced(text: string, from: string, to: string): string {
  expect(text.split(from)).toHaveLength(2);
  return text.replace(from, () => to);
}

/** drift.yml's two jobs: the check (drift and the delivery canary) and the report (issues, webhook). */
export function driftJobs(): { check: Mapping; report: Mapping } {
  const wf = readYaml(path.join(ROOT, ".github", "workflows", "drift.yml"));
  const jobs = wf.doc.jobs as Mapping;
  return { check: jobs.check as Mapping, report: jobs.report as Mapping };
}

/** The script of the job's step that `match` picks; it must run in bash and take values only through env:. */
export function stepRun(job: Mapping, match: (step: Mapping) => boolean): string {
  const step = (job.steps as unknown[]).filter(isMapping).find(match);
  if (!step || typeof step.run !== "string") throw new Error("step not found");
  expect(step.shell).toBe("bash");
  // Values reach the script through env:, never spliced into its text.
  expect(step.run).not.toContain("${{");
  return step.run;
}

/** A stand-in command: records its arguments (and stdin, for curl) and answers as told. */
export function stub(dir: string, name: string, body: string): void {
  fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/** Runs a workflow step's script the way `shell: bash` does. */
export async function runStep(script: string, cwd: string, bin: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const file = path.join(cwd, "step.sh");
  fs.writeFileSync(file, script);
  const pathEnv = [bin, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter);
  return run("bash", ["--noprofile", "--norc", "-eo", "pipefail", file], { cwd, env: { PATH: pathEnv, HOME: cwd, ...env } });
}
