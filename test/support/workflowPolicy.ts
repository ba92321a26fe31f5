/**
 * keywire's rules for its GitHub Actions workflows, checked on the parsed YAML. They
 * are what actionlint cannot know: which permissions each job may hold, that AWS is
 * reached through OIDC only, that a stack is never deployed and checked at once, and
 * that every stack CI manages is previewed, deployed (in order) and checked for drift,
 * and that the delivery canary publishes only with a role of its own, only when it runs.
 *
 * `checkWorkflow` holds the rules for any workflow file; `checkKeywireWorkflows` the
 * ones about keywire's own files and stacks. Each returns the violations, as
 * "<file>: <job>: <what is wrong>", empty when there are none.
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
  /** The workflow or local action the step is written in. */
  from: string;
}

export function isMapping(v: unknown): v is Mapping {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
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

/** The stacks CI manages: stacks/Pulumi.<stack>.yaml, except `local` (the demo's, against the emulator). */
export function ciStacks(root: string): string[] {
  return fs
    .readdirSync(path.join(root, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined && s !== "local")
    .sort();
}

function jobsOf(wf: YamlFile): Array<[string, Mapping]> {
  const jobs = wf.doc.jobs;
  return isMapping(jobs) ? Object.entries(jobs).filter((e): e is [string, Mapping] => isMapping(e[1])) : [];
}

/** A local action's metadata file (`uses: ./path`), or undefined when there is none. */
function localAction(root: string, uses: string): YamlFile | undefined {
  for (const name of ["action.yml", "action.yaml"]) {
    const file = path.join(root, uses, name);
    if (fs.existsSync(file)) return readYaml(file);
  }
  return undefined;
}

function toStep(raw: Mapping, from: string): Step {
  return { uses: str(raw.uses), run: str(raw.run), with: isMapping(raw.with) ? raw.with : {}, if: str(raw.if), from };
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

function permissionsOf(job: Mapping): Mapping | undefined {
  return isMapping(job.permissions) ? job.permissions : undefined;
}

const isAws = (s: Step): boolean => s.uses.startsWith("aws-actions/configure-aws-credentials@");
const isPulumi = (s: Step): boolean => s.uses.startsWith("pulumi/actions@");
const pulumiCommand = (s: Step): string => (isPulumi(s) ? str(s.with.command) : "");
/** Runs keywire's drift check (which reads the stack's resources like a refresh). */
const runsDrift = (s: Step): boolean => /\bnpm run (-s )?drift\b/.test(s.run);
/** Runs keywire's delivery canary (which publishes to the stack's topic and reads its instance). */
const runsCanary = (s: Step): boolean => /\bnpm run (-s )?canary\b/.test(s.run);

/** Long-lived AWS credentials, in any spelling a workflow could pass them. */
const AWS_KEYS = /AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|aws-secret-access-key|aws-access-key-id|AWS_SESSION_TOKEN/i;
/** A major version at least (v6, v6.1, v6.1.2), or a full commit SHA. */
const PINNED = /^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/;
/** The group deployments and drift checks share: one per stack. */
const STACK_GROUP = /^keywire-\$\{\{ (matrix|inputs)\.stack \}\}$/;

function calledWorkflow(root: string, uses: string): YamlFile | undefined {
  if (!uses.startsWith("./")) return undefined;
  const file = path.join(root, uses);
  return fs.existsSync(file) ? readYaml(file) : undefined;
}

/** The rules every workflow follows. `root` resolves local actions and reusable workflows. */
export function checkWorkflow(wf: YamlFile, root: string): string[] {
  const name = path.relative(root, wf.file);
  const out: string[] = [];

  if (AWS_KEYS.test(wf.text)) out.push(`${name}: names long-lived AWS credentials; assume a role with aws-actions/configure-aws-credentials (role-to-assume) instead`);
  const top = wf.doc.permissions;
  if (!isMapping(top)) out.push(`${name}: no workflow-level \`permissions:\` mapping (the default grants write access)`);
  else for (const [scope, level] of Object.entries(top)) if (level === "write") out.push(`${name}: workflow-level permissions grant ${scope}: write; grant it in the job that needs it`);

  const jobs = jobsOf(wf);
  if (jobs.length === 0) out.push(`${name}: no jobs`);
  for (const [id, job] of jobs) {
    const where = `${name}: ${id}`;
    const perms = permissionsOf(job);
    if (!perms) {
      out.push(`${where}: no \`permissions:\` of its own`);
      continue;
    }
    const called = str(job.uses);
    if (called !== "" && !called.startsWith("./") && !PINNED.test(called)) out.push(`${where}: ${called} is not pinned to a version`);
    const calledWf = calledWorkflow(root, called);
    const steps = stepsOf(job, root, name);
    for (const s of steps) {
      if (s.uses !== "" && !s.uses.startsWith("./") && !s.uses.startsWith("docker://") && !PINNED.test(s.uses)) {
        out.push(`${where}: ${s.uses} (in ${s.from}) is not pinned to a major version or a commit`);
      }
      if (isAws(s) && str(s.with["role-to-assume"]) === "") out.push(`${where}: configure-aws-credentials without role-to-assume`);
    }
    const assumesAws = steps.some(isAws) || (calledWf !== undefined && jobsOf(calledWf).some(([, j]) => stepsOf(j, root, called).some(isAws)));
    if (assumesAws && perms["id-token"] !== "write") out.push(`${where}: assumes an AWS role but lacks \`id-token: write\` (OIDC)`);
    if (!assumesAws && perms["id-token"] === "write") out.push(`${where}: has \`id-token: write\` but assumes no AWS role`);
    const comments = steps.some((s) => isPulumi(s) && str(s.with["comment-on-pr"]) === "true");
    if (perms["pull-requests"] === "write" && !comments) out.push(`${where}: has \`pull-requests: write\` but posts no preview comment`);
    const editsIssues = steps.some((s) => /\bgh issue\b/.test(s.run));
    if (perms.issues === "write" && !editsIssues) out.push(`${where}: has \`issues: write\` but edits no issue`);
    if (editsIssues && (perms["id-token"] === "write" || steps.some(isPulumi) || steps.some(runsDrift) || steps.some(runsCanary))) {
      out.push(`${where}: edits issues and touches a stack in one job; keep issue access away from the job that runs the program`);
    }
    for (const [scope, level] of Object.entries(perms)) {
      if (level === "write" && !["id-token", "pull-requests", "issues"].includes(scope)) out.push(`${where}: grants ${scope}: write, which no keywire job needs`);
    }
    // A deployment or a drift check holds its stack: they share one group per stack and never cancel each other.
    const holdsStack = steps.some((s) => ["up", "update", "refresh", "destroy"].includes(pulumiCommand(s)) || runsDrift(s) || runsCanary(s));
    if (holdsStack) {
      const c = job.concurrency;
      if (!isMapping(c) || !STACK_GROUP.test(str(c.group)) || c["cancel-in-progress"] !== false) {
        out.push(`${where}: changes or checks a stack without \`concurrency: { group: keywire-\${{ matrix.stack }}, cancel-in-progress: false }\``);
      }
    }
    if (steps.some((s) => pulumiCommand(s) === "preview")) {
      const c = job.concurrency;
      if (!isMapping(c) || !/\$\{\{ matrix\.stack \}\}/.test(str(c.group)) || STACK_GROUP.test(str(c.group))) {
        out.push(`${where}: a preview needs a concurrency group of its own per stack (not the deploy/drift group)`);
      }
    }
  }
  return out;
}

/** The stacks of a job's matrix (`matrix.stack: [...]` or `matrix.include[].stack`). */
export function matrixStacks(job: Mapping): string[] {
  const strategy = isMapping(job.strategy) ? job.strategy : {};
  const matrix = isMapping(strategy.matrix) ? strategy.matrix : {};
  const listed = Array.isArray(matrix.stack) ? matrix.stack.map(str) : [];
  const included = Array.isArray(matrix.include) ? matrix.include.filter(isMapping).map((e) => str(e.stack)) : [];
  return [...listed, ...included].filter((s) => s !== "").sort();
}

function triggers(wf: YamlFile): Mapping {
  const on = wf.doc.on;
  if (typeof on === "string") return { [on]: {} };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [str(e), {}]));
  return isMapping(on) ? on : {};
}

/** The deploy workflow's stacks in the order its `needs` chain runs them. */
export function deployOrder(wf: YamlFile): string[] {
  const jobs = jobsOf(wf).filter(([, j]) => str(j.uses) === "./.github/workflows/deploy-stack.yml");
  const needsOf = (j: Mapping): string[] => (Array.isArray(j.needs) ? j.needs.map(str) : typeof j.needs === "string" ? [j.needs] : []);
  const order: string[] = [];
  let current = jobs.find(([, j]) => needsOf(j).length === 0);
  const seen = new Set<string>();
  while (current && !seen.has(current[0])) {
    seen.add(current[0]);
    order.push(str(isMapping(current[1].with) ? current[1].with.stack : undefined));
    const id = current[0];
    current = jobs.find(([, j]) => needsOf(j).includes(id));
  }
  return order;
}

/**
 * The rules about keywire's own workflows: every CI stack previewed, deployed in order and
 * checked for drift; the delivery canary in the drift check job, with its own role.
 */
export function checkKeywireWorkflows(root: string): string[] {
  const out: string[] = [];
  const stacks = ciStacks(root);
  const wfDir = path.join(root, ".github", "workflows");
  const read = (f: string): YamlFile | undefined => (fs.existsSync(path.join(wfDir, f)) ? readYaml(path.join(wfDir, f)) : undefined);
  const same = (a: string[], b: string[]): boolean => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

  const preview = read("preview.yml");
  if (!preview) out.push("preview.yml is missing");
  else {
    if (!("pull_request" in triggers(preview))) out.push("preview.yml: does not run on pull requests");
    const jobs = jobsOf(preview).filter(([, j]) => stepsOf(j, root, "preview.yml").some((s) => pulumiCommand(s) === "preview"));
    if (jobs.length !== 1) out.push("preview.yml: needs one job running pulumi/actions with `command: preview`");
    for (const [id, job] of jobs) {
      if (!same(matrixStacks(job), stacks)) out.push(`preview.yml: ${id}: previews ${matrixStacks(job).join(", ") || "no stack"}, not every CI stack (${stacks.join(", ")})`);
      const step = stepsOf(job, root, "preview.yml").find((s) => pulumiCommand(s) === "preview")!;
      if (str(step.with["comment-on-pr"]) !== "true") out.push(`preview.yml: ${id}: the preview does not comment on the pull request`);
      if (str(step.with["stack-name"]) !== "${{ matrix.stack }}") out.push(`preview.yml: ${id}: the preview is not of \${{ matrix.stack }}`);
    }
  }

  const deploy = read("deploy.yml");
  const deployStack = read("deploy-stack.yml");
  if (!deploy || !deployStack) out.push("deploy.yml or deploy-stack.yml is missing");
  else {
    const push = triggers(deploy).push;
    const branches = isMapping(push) && Array.isArray(push.branches) ? push.branches.map(str) : [];
    if (!branches.includes("main")) out.push("deploy.yml: does not run on pushes to main");
    const order = deployOrder(deploy);
    if (!same(order, stacks)) out.push(`deploy.yml: deploys ${order.join(" → ") || "nothing"} in its needs chain, not every CI stack (${stacks.join(", ")})`);
    if (stacks.includes("dev") && order[0] !== "dev") out.push(`deploy.yml: the first stack deployed is ${order[0]}, not dev`);
    if (stacks.includes("prod") && order[order.length - 1] !== "prod") out.push(`deploy.yml: the last stack deployed is ${order[order.length - 1]}, not prod`);
    const jobs = jobsOf(deployStack);
    if (!("workflow_call" in triggers(deployStack))) out.push("deploy-stack.yml: is not a reusable workflow (on: workflow_call)");
    for (const [id, job] of jobs) {
      const steps = stepsOf(job, root, "deploy-stack.yml");
      const up = steps.find((s) => pulumiCommand(s) === "up");
      if (!up) out.push(`deploy-stack.yml: ${id}: runs no pulumi/actions \`command: up\``);
      else if (str(up.with["stack-name"]) !== "${{ inputs.stack }}") out.push(`deploy-stack.yml: ${id}: does not deploy \${{ inputs.stack }}`);
      const env = isMapping(job.environment) ? str(job.environment.name) : str(job.environment);
      if (env !== "${{ inputs.stack }}") out.push(`deploy-stack.yml: ${id}: does not run in the stack's GitHub environment (approvals, its AWS_ROLE_ARN)`);
      const aws = steps.find(isAws);
      if (!aws || str(aws.with["role-to-assume"]) !== "${{ vars.AWS_ROLE_ARN }}") out.push(`deploy-stack.yml: ${id}: does not assume the environment's AWS_ROLE_ARN`);
    }
  }

  const drift = read("drift.yml");
  if (!drift) out.push("drift.yml is missing");
  else {
    const schedule = triggers(drift).schedule;
    if (!Array.isArray(schedule) || schedule.length === 0) out.push("drift.yml: has no schedule");
    const jobs = jobsOf(drift);
    const checks = jobs.filter(([, j]) => stepsOf(j, root, "drift.yml").some(runsDrift));
    const reports = jobs.filter(([, j]) => stepsOf(j, root, "drift.yml").some((s) => /\bgh issue\b/.test(s.run)));
    if (checks.length !== 1) out.push("drift.yml: needs one job running `npm run -s drift`");
    if (reports.length !== 1) out.push("drift.yml: needs one job opening and closing drift issues (`gh issue`)");
    for (const [id, job] of [...checks, ...reports]) {
      if (!same(matrixStacks(job), stacks)) out.push(`drift.yml: ${id}: covers ${matrixStacks(job).join(", ") || "no stack"}, not every CI stack (${stacks.join(", ")})`);
    }
    for (const [id, job] of jobs) {
      const steps = stepsOf(job, root, "drift.yml");
      steps.forEach((step, i) => {
        if (!runsCanary(step)) return;
        if (!steps.some(runsDrift)) out.push(`drift.yml: ${id}: runs the canary outside the drift check job, whose outcome it shares`);
        if (step.if === "") out.push(`drift.yml: ${id}: the canary runs on every stack; gate it with an \`if:\` on the stack list`);
        // The credentials in force are the last role assumed before the canary.
        const role = steps.slice(0, i).reverse().find(isAws);
        if (!role || role.if !== step.if) out.push(`drift.yml: ${id}: the canary's AWS role is not assumed under the canary's own \`if:\` (only when the canary runs)`);
        else if (!/canary/i.test(str(role.with["role-to-assume"]))) out.push(`drift.yml: ${id}: the canary publishes with ${str(role.with["role-to-assume"])}, not a role of its own that may only publish to the topic`);
      });
    }
  }

  // The shared setup: npm's cache, the Pulumi CLI pinned to the SDK, its plugins cached.
  const setup = localAction(root, "./.github/actions/setup");
  if (!setup) out.push(".github/actions/setup/action.yml is missing");
  else {
    const steps = stepsOf({ steps: isMapping(setup.doc.runs) ? setup.doc.runs.steps : [] }, root, "setup");
    if (!steps.some((s) => s.uses.startsWith("actions/setup-node@") && str(s.with.cache) === "npm")) out.push("setup action: no actions/setup-node with `cache: npm`");
    if (!steps.some((s) => s.uses.startsWith("actions/cache@") && str(s.with.path).includes("~/.pulumi/plugins"))) out.push("setup action: the Pulumi plugins are not cached");
    if (!steps.some((s) => isPulumi(s) && str(s.with["pulumi-version"]) !== "")) out.push("setup action: the Pulumi CLI is not installed at a pinned version");
    if (AWS_KEYS.test(setup.text)) out.push("setup action: names long-lived AWS credentials");
  }
  return out;
}
