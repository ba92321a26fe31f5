/**
 * keywire's GitHub Actions workflows as the rules read them (workflowPolicy.ts,
 * recoveryPolicy.ts): the parsed YAML of workflow and action files, the stack list
 * (.github/keywire-ci.json), a job's steps with the steps of the local actions it uses,
 * and what a step does (assumes an AWS role, runs pulumi/actions, the Pulumi CLI or a
 * keywire command, writes a stack's state).
 */
import * as fs from "fs";
import * as path from "path";
import { load } from "js-yaml";

export type Mapping = { [key: string]: unknown };

export interface YamlFile {
  file: string;
  text: string;
  doc: Mapping;
}

export interface Step {
  uses: string;
  run: string;
  with: Mapping;
  /** The step's `if:` condition, "" when it has none. */
  if: string;
  /** The step's `working-directory:`, "" when it has none. */
  workingDirectory: string;
  /** The workflow or local action the step is written in. */
  from: string;
}

export function isMapping(v: unknown): v is Mapping {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : "";
}

export function readYaml(file: string): YamlFile {
  const text = fs.readFileSync(file, "utf8");
  const doc = load(text, { filename: file });
  if (!isMapping(doc)) throw new Error(`${file}: not a YAML mapping`);
  return { file, text, doc };
}

/** The workflow files of a repository (or of a directory laid out like one). */
export function workflowFiles(root: string): string[] {
  const dir = path.join(root, ".github", "workflows");
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The stacks keywire's own program has: stacks/Pulumi.<stack>.yaml, except `local` (the demo's, against the emulator). */
export function ciStacks(root: string): string[] {
  return fs
    .readdirSync(path.join(root, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined && s !== "local")
    .sort();
}

// ---------------------------------------------------------------------------
// The stack list: .github/keywire-ci.json
// ---------------------------------------------------------------------------

/** The one file listing the stacks CI manages and where their program is. */
export const STACK_LIST = ".github/keywire-ci.json";
/** The reusable workflow that reads it; every job that works on stacks takes its matrix from it. */
export const STACKS_WORKFLOW = "./.github/workflows/stacks.yml";

export interface StackList {
  workingDirectory: string;
  stacks: Array<{ stack: string; sns: boolean }>;
}

/** The stack list as the stacks workflow reads it, or what is wrong with it. */
export function readStackList(root: string): StackList | string {
  const file = path.join(root, STACK_LIST);
  if (!fs.existsSync(file)) return `${STACK_LIST} is missing`;
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return `${STACK_LIST} is not JSON`;
  }
  if (!isMapping(doc) || !Array.isArray(doc.stacks)) return `${STACK_LIST}: no "stacks" list`;
  const stacks = doc.stacks.filter(isMapping).map((s) => ({ stack: str(s.stack), sns: s.sns === true }));
  return { workingDirectory: typeof doc.workingDirectory === "string" ? doc.workingDirectory : ".", stacks };
}

// ---------------------------------------------------------------------------
// Jobs and steps
// ---------------------------------------------------------------------------

export function jobsOf(wf: YamlFile): Array<[string, Mapping]> {
  const jobs = wf.doc.jobs;
  return isMapping(jobs) ? Object.entries(jobs).filter((e): e is [string, Mapping] => isMapping(e[1])) : [];
}

/** A local action's metadata file (`uses: ./path`), or undefined when there is none. */
export function localAction(root: string, uses: string): YamlFile | undefined {
  for (const name of ["action.yml", "action.yaml"]) {
    const file = path.join(root, uses, name);
    if (fs.existsSync(file)) return readYaml(file);
  }
  return undefined;
}

export function toStep(raw: Mapping, from: string): Step {
  return {
    uses: str(raw.uses),
    run: str(raw.run),
    with: isMapping(raw.with) ? raw.with : {},
    if: str(raw.if),
    workingDirectory: str(raw["working-directory"]),
    from,
  };
}

/** A job's steps, with the steps of the local composite actions it uses spliced in after them. */
export function stepsOf(job: Mapping, root: string, from: string): Step[] {
  const out: Step[] = [];
  const walk = (steps: unknown, origin: string, depth: number): void => {
    if (!Array.isArray(steps) || depth > 5) return;
    for (const raw of steps) {
      if (!isMapping(raw)) continue;
      const step = toStep(raw, origin);
      out.push(step);
      if (step.uses.startsWith("./")) {
        const action = localAction(root, step.uses);
        const runs = action?.doc.runs;
        if (action && isMapping(runs)) walk(runs.steps, path.relative(root, action.file), depth + 1);
      }
    }
  };
  walk(job.steps, from, 0);
  return out;
}

export function permissionsOf(job: Mapping): Mapping | undefined {
  return isMapping(job.permissions) ? job.permissions : undefined;
}

function needsOf(job: Mapping): string[] {
  return Array.isArray(job.needs) ? job.needs.map(str) : typeof job.needs === "string" ? [job.needs] : [];
}

export const isAws = (s: Step): boolean => s.uses.startsWith("aws-actions/configure-aws-credentials@");
export const isPulumi = (s: Step): boolean => s.uses.startsWith("pulumi/actions@");
export const isSetup = (s: Step): boolean => s.uses === "./.github/actions/setup";
export const pulumiCommand = (s: Step): string => (isPulumi(s) ? str(s.with.command) : "");
/** Runs a keywire command in any spelling (the package's, or keywire's own npm script). */
const runsKeywire = (s: Step, command: string): boolean => new RegExp(`\\b(?:npx (?:--no-install )?keywire |npm run (?:-s )?)${command}\\b`).test(s.run);
/** Runs keywire's drift check (which reads the stack's resources like a refresh). */
export const runsDrift = (s: Step): boolean => runsKeywire(s, "drift");
/** Runs keywire's delivery canary (which publishes to the stack's topic and reads its instance). */
export const runsCanary = (s: Step): boolean => runsKeywire(s, "canary");
/** A Pulumi CLI call in a `run:` script: `pulumi <command>` at the start of a command, not inside Markdown or a message. */
const PULUMI_CALL = /(?:^|[\s;&|(])pulumi\s+((?:stack\s+)?[a-z][a-z-]*)/gm;
/** The Pulumi CLI commands a step's script calls ("cancel", "stack export", …). */
export function pulumiCalls(s: Step): string[] {
  return [...s.run.matchAll(PULUMI_CALL)].map((m) => m[1].replace(/\s+/g, " "));
}
/** Calls the CLI on the program's stacks: everything but installing plugins, which the setup does anywhere. */
export const runsPulumi = (s: Step): boolean => pulumiCalls(s).some((c) => c !== "plugin");
/** The commands that write a stack's state, and so take or break its lock. */
const STATE_WRITES = ["up", "update", "refresh", "destroy", "import", "cancel", "stack import"];
export const writesState = (s: Step): boolean => STATE_WRITES.includes(pulumiCommand(s)) || pulumiCalls(s).some((c) => STATE_WRITES.includes(c));
/** An AWS login that depends on the stack having the SNS integration (the canary's switch checks it too). */
export const gatedOnSns = (s: Step): boolean => /\b(matrix|inputs)\.sns\b|steps\.canary-on\.outputs\.run\b/.test(s.if);

/** A matrix taken from a job's `matrix` output (the stacks workflow's). */
const MATRIX_FROM = /^\$\{\{ fromJSON\(needs\.([\w-]+)\.outputs\.matrix\) \}\}$/;

/** The job's matrix, when it is the output of a stacks-workflow job it needs; undefined otherwise. */
export function stacksSource(wf: YamlFile, job: Mapping): string | undefined {
  const strategy = isMapping(job.strategy) ? job.strategy : {};
  const from = MATRIX_FROM.exec(str(strategy.matrix))?.[1];
  if (from === undefined || !needsOf(job).includes(from)) return undefined;
  const source = jobsOf(wf).find(([id]) => id === from)?.[1];
  return source && str(source.uses) === STACKS_WORKFLOW ? from : undefined;
}

// ---------------------------------------------------------------------------
// Pins and triggers
// ---------------------------------------------------------------------------

export interface UsesLine {
  uses: string;
  /** The comment after it, without `#`; "" when there is none. */
  comment: string;
  line: number;
}

/** Every `uses:` of a workflow or action file, with the comment on its line. */
export function usesLines(text: string): UsesLine[] {
  const out: UsesLine[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*(["']?)([^\s"'#]+)\1\s*(?:#\s*(.*?))?\s*$/.exec(l);
    if (m) out.push({ uses: m[2], comment: m[3] ?? "", line: i + 1 });
  });
  return out;
}

export function triggers(wf: YamlFile): Mapping {
  const on = wf.doc.on;
  if (typeof on === "string") return { [on]: {} };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [str(e), {}]));
  return isMapping(on) ? on : {};
}
