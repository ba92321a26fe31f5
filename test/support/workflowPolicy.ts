/**
 * keywire's rules for its GitHub Actions workflows, checked on the parsed YAML (and, for
 * the comments that name a pinned action's version, on its text). They are what
 * actionlint cannot know: which permissions each job may hold, that AWS is reached
 * through OIDC only and only for stacks with the SNS integration, that a stack is never
 * deployed and checked at once, that the stacks are listed in one place
 * (.github/keywire-ci.json, read by stacks.yml) and the program may live in a
 * subdirectory, that keywire runs as the package's command (`npx --no-install keywire`),
 * that every third-party action is pinned by commit SHA with its version named, that
 * Dependabot keeps those pins and the packages current, that every stack CI manages is
 * previewed, deployed (in order) and checked for drift, that the delivery canary
 * publishes only with a role of its own, only when it runs, and that a deployment that
 * stopped says what it left and recover.yml frees the stack by hand.
 *
 * `checkWorkflow` holds the rules for any workflow file; `checkKeywireWorkflows` the
 * ones about the repository's files and stacks as a whole. Each returns the violations,
 * as "<file>: <job>: <what is wrong>", empty when there are none.
 *
 * The workflows are read through workflowModel.ts; the rules for a deployment that
 * stopped part-way are in recoveryPolicy.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { checkRecovery } from "./recoveryPolicy";
import {
  type Mapping,
  type Step,
  type YamlFile,
  STACK_LIST,
  ciStacks,
  gatedOnSns,
  isAws,
  isMapping,
  isPulumi,
  isSetup,
  jobsOf,
  localAction,
  permissionsOf,
  pulumiCalls,
  pulumiCommand,
  readStackList,
  readYaml,
  runsCanary,
  runsDrift,
  runsPulumi,
  stacksSource,
  stepsOf,
  str,
  triggers,
  usesLines,
  workflowFiles,
  writesState,
} from "./workflowModel";

/** Long-lived AWS credentials, in any spelling a workflow could pass them. */
const AWS_KEYS = /AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|aws-secret-access-key|aws-access-key-id|AWS_SESSION_TOKEN/i;
/** The group deployments and drift checks share: one per stack. */
const STACK_GROUP = /^keywire-\$\{\{ (matrix|inputs)\.stack \}\}$/;
/** A full commit SHA. */
const SHA_REF = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/;
/** The comment after a pinned action naming the version the SHA is. */
const VERSION_COMMENT = /^v\d+\.\d+\.\d+$/;

function calledWorkflow(root: string, uses: string): YamlFile | undefined {
  if (!uses.startsWith("./")) return undefined;
  const file = path.join(root, uses);
  return fs.existsSync(file) ? readYaml(file) : undefined;
}

/** Whether the job works on the stacks: runs the program, keywire's checks or the deployment, or reports on them. */
function touchesStacks(job: Mapping, steps: Step[]): boolean {
  return (
    str(job.uses) === "./.github/workflows/deploy-stack.yml" ||
    steps.some((s) => (isPulumi(s) && pulumiCommand(s) !== "") || runsPulumi(s) || runsDrift(s) || runsCanary(s) || /\bgh issue\b/.test(s.run))
  );
}

// ---------------------------------------------------------------------------
// Pins
// ---------------------------------------------------------------------------

/** Third-party actions and reusable workflows pinned by full commit SHA, each with a `# vX.Y.Z` comment. */
function checkPins(file: YamlFile, name: string): string[] {
  const out: string[] = [];
  for (const u of usesLines(file.text)) {
    if (u.uses.startsWith("./") || u.uses.startsWith("docker://")) continue;
    if (!SHA_REF.test(u.uses)) out.push(`${name}:${u.line}: ${u.uses} is not pinned to a full commit SHA (a tag can be moved to other code)`);
    else if (!VERSION_COMMENT.test(u.comment)) out.push(`${name}:${u.line}: ${u.uses} has no \`# vX.Y.Z\` comment naming the version its SHA is`);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Any workflow
// ---------------------------------------------------------------------------

/** The rules every workflow follows. `root` resolves local actions and reusable workflows. */
export function checkWorkflow(wf: YamlFile, root: string): string[] {
  const name = path.relative(root, wf.file);
  const out: string[] = [];

  if (AWS_KEYS.test(wf.text))
    out.push(`${name}: names long-lived AWS credentials; assume a role with aws-actions/configure-aws-credentials (role-to-assume) instead`);
  const top = wf.doc.permissions;
  if (!isMapping(top)) out.push(`${name}: no workflow-level \`permissions:\` mapping (the default grants write access)`);
  else
    for (const [scope, level] of Object.entries(top))
      if (level === "write") out.push(`${name}: workflow-level permissions grant ${scope}: write; grant it in the job that needs it`);
  out.push(...checkPins(wf, name));

  const jobs = jobsOf(wf);
  if (jobs.length === 0) out.push(`${name}: no jobs`);
  const reusable = "workflow_call" in triggers(wf);
  const actionsChecked = new Set<string>();
  for (const [id, job] of jobs) {
    const where = `${name}: ${id}`;
    const perms = permissionsOf(job);
    if (!perms) {
      out.push(`${where}: no \`permissions:\` of its own`);
      continue;
    }
    const called = str(job.uses);
    const calledWf = calledWorkflow(root, called);
    const steps = stepsOf(job, root, name);
    for (const s of steps) {
      if (isAws(s) && str(s.with["role-to-assume"]) === "") out.push(`${where}: configure-aws-credentials without role-to-assume`);
      if (isAws(s) && !gatedOnSns(s))
        out.push(
          `${where}: assumes an AWS role for every stack; gate it on the stack's SNS integration (\`if: \${{ matrix.sns }}\`), so a stack without SNS needs no AWS credentials`,
        );
      if (s.uses.startsWith("./") && !actionsChecked.has(s.uses)) {
        actionsChecked.add(s.uses);
        const action = localAction(root, s.uses);
        if (action) out.push(...checkPins(action, path.relative(root, action.file)));
      }
      const script = /\bnpm run (?:-s )?(drift|audit|canary|emulator|pulumi)\b/.exec(s.run);
      if (script)
        out.push(
          `${where}: calls keywire's own npm script \`npm run ${script[1]}\`, which only keywire's repository has; call \`npx --no-install keywire ${script[1]}\` in the program's directory`,
        );
      if (/\bnpx (?!--no-install )keywire\b/.test(s.run))
        out.push(
          `${where}: calls \`npx keywire\` without --no-install: where keywire is not installed, npx would fetch and run a package of that name from the registry`,
        );
      if (/\bnpx (?:--no-install )?keywire\b/.test(s.run) && s.workingDirectory === "")
        out.push(`${where}: runs keywire without \`working-directory:\`; npx finds it only in the program's directory`);
      if (runsPulumi(s) && s.workingDirectory === "")
        out.push(
          `${where}: calls the Pulumi CLI (\`pulumi ${pulumiCalls(s).find((c) => c !== "plugin")}\`) without \`working-directory:\`; it finds the project only in the program's directory`,
        );
      if (pulumiCommand(s) !== "" && str(s.with["work-dir"]) === "")
        out.push(`${where}: runs pulumi/actions \`command: ${pulumiCommand(s)}\` without \`work-dir\`: the program may live in a subdirectory`);
      if (isSetup(s) && str(s.with["working-directory"]) === "")
        out.push(`${where}: uses the setup action without \`working-directory\`: it installs the program's packages there`);
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
      if (level === "write" && !["id-token", "pull-requests", "issues"].includes(scope))
        out.push(`${where}: grants ${scope}: write, which no keywire job needs`);
    }
    // The stacks are listed once, in .github/keywire-ci.json: a job that works on them takes
    // them from the stacks workflow (a reusable workflow's job gets its stack from its caller's).
    if (!reusable && touchesStacks(job, steps) && stacksSource(wf, job) === undefined) {
      out.push(
        `${where}: does not take its stacks from the stacks workflow; use \`needs: stacks\` and \`matrix: \${{ fromJSON(needs.stacks.outputs.matrix) }}\`, so that ${STACK_LIST} is the one list`,
      );
    }
    // A deployment or a drift check holds its stack: they share one group per stack and never cancel each other.
    const holdsStack = steps.some((s) => writesState(s) || runsDrift(s) || runsCanary(s));
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

// ---------------------------------------------------------------------------
// The repository as a whole
// ---------------------------------------------------------------------------

/** The stacks in the order deploy.yml deploys them: the stack list's, where its deploy job runs them one at a time from it. */
export function deployOrder(root: string): string[] {
  const list = readStackList(root);
  const file = path.join(root, ".github", "workflows", "deploy.yml");
  if (typeof list === "string" || !fs.existsSync(file)) return [];
  const wf = readYaml(file);
  const deploys = jobsOf(wf).filter(([, j]) => str(j.uses) === "./.github/workflows/deploy-stack.yml");
  const inOrder = deploys.some(([, j]) => {
    const strategy = isMapping(j.strategy) ? j.strategy : {};
    return stacksSource(wf, j) !== undefined && strategy["max-parallel"] === 1 && strategy["fail-fast"] !== false;
  });
  return inOrder ? list.stacks.map((s) => s.stack) : [];
}

/** Whether a stack file turns the SNS integration on (`keywire:sns: { enabled: true }`). */
function stackHasSns(root: string, stack: string): boolean {
  const file = path.join(root, "stacks", `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) return false;
  const config = readYaml(file).doc.config;
  const sns = isMapping(config) ? config["keywire:sns"] : undefined;
  return isMapping(sns) && sns.enabled === true;
}

/** The Dependabot configuration keeps the pinned actions (workflows and local actions) and the program's npm packages current. */
export function checkDependabot(root: string, programDir: string): string[] {
  const file = path.join(root, ".github", "dependabot.yml");
  if (!fs.existsSync(file)) return [".github/dependabot.yml is missing: nothing updates the pinned actions and packages"];
  const doc = readYaml(file).doc;
  const out: string[] = [];
  if (doc.version !== 2) out.push(".github/dependabot.yml: not `version: 2`");
  const updates = Array.isArray(doc.updates) ? doc.updates.filter(isMapping) : [];
  const dirsOf = (u: Mapping): string[] => (Array.isArray(u.directories) ? u.directories.map(str) : typeof u.directory === "string" ? [u.directory] : []);
  const actions = updates.filter((u) => u["package-ecosystem"] === "github-actions").flatMap(dirsOf);
  if (!actions.includes("/")) out.push(".github/dependabot.yml: no github-actions updates for the workflows (directory /)");
  const localActions = fs.existsSync(path.join(root, ".github", "actions")) ? fs.readdirSync(path.join(root, ".github", "actions")) : [];
  for (const a of localActions) {
    if (!actions.includes(`/.github/actions/${a}`) && !actions.includes("/.github/actions/*"))
      out.push(`.github/dependabot.yml: no github-actions updates for .github/actions/${a}`);
  }
  const program = programDir === "." ? "/" : `/${programDir}`;
  const npm = updates.filter((u) => u["package-ecosystem"] === "npm").flatMap(dirsOf);
  if (!npm.includes(program)) out.push(`.github/dependabot.yml: no npm updates for the program's directory (${program})`);
  for (const u of updates)
    if (!isMapping(u.schedule) || str(u.schedule.interval) === "")
      out.push(`.github/dependabot.yml: the ${str(u["package-ecosystem"])} updates have no schedule`);
  return out;
}

/**
 * The rules about keywire's own repository: the stack list names every CI stack, dev
 * first and prod last, each with the SNS integration its stack file has; every such
 * stack is previewed, deployed in order and checked for drift; the delivery canary runs
 * in the drift check job with its own role; the shared setup finds the program's
 * lockfile; a stopped deployment says what it left and recover.yml frees the stack
 * (checkRecovery); each action has one pin; Dependabot keeps them current.
 */
export function checkKeywireWorkflows(root: string): string[] {
  const out: string[] = [];
  const stacks = ciStacks(root);
  const wfDir = path.join(root, ".github", "workflows");
  const read = (f: string): YamlFile | undefined => (fs.existsSync(path.join(wfDir, f)) ? readYaml(path.join(wfDir, f)) : undefined);
  const same = (a: string[], b: string[]): boolean => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

  const list = readStackList(root);
  let programDir = ".";
  if (typeof list === "string") out.push(list);
  else {
    programDir = list.workingDirectory;
    const listed = list.stacks.map((s) => s.stack);
    if (!same(listed, stacks)) out.push(`${STACK_LIST}: lists ${listed.join(", ") || "no stack"}, not every CI stack (${stacks.join(", ")})`);
    if (stacks.includes("dev") && listed[0] !== "dev") out.push(`${STACK_LIST}: the first stack (deployed first) is ${listed[0]}, not dev`);
    if (stacks.includes("prod") && listed[listed.length - 1] !== "prod")
      out.push(`${STACK_LIST}: the last stack (deployed last) is ${listed[listed.length - 1]}, not prod`);
    for (const s of list.stacks) {
      if (s.sns !== stackHasSns(root, s.stack))
        out.push(`${STACK_LIST}: stack ${s.stack} has "sns": ${s.sns}, but its stack file ${s.sns ? "does not turn" : "turns"} keywire:sns on`);
    }
    for (const f of ["Pulumi.yaml", "package.json"]) {
      if (!fs.existsSync(path.join(root, programDir, f))) out.push(`${STACK_LIST}: workingDirectory ${programDir} holds no ${f}`);
    }
  }
  if (!fs.existsSync(path.join(wfDir, "stacks.yml"))) out.push("stacks.yml is missing");
  else if (!("workflow_call" in triggers(readYaml(path.join(wfDir, "stacks.yml"))))) out.push("stacks.yml: is not a reusable workflow (on: workflow_call)");

  const preview = read("preview.yml");
  if (!preview) out.push("preview.yml is missing");
  else {
    if (!("pull_request" in triggers(preview))) out.push("preview.yml: does not run on pull requests");
    const jobs = jobsOf(preview).filter(([, j]) => stepsOf(j, root, "preview.yml").some((s) => pulumiCommand(s) === "preview"));
    if (jobs.length !== 1) out.push("preview.yml: needs one job running pulumi/actions with `command: preview`");
    for (const [id, job] of jobs) {
      if (stacksSource(preview, job) === undefined) out.push(`preview.yml: ${id}: does not preview the stacks of ${STACK_LIST}`);
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
    if (deployOrder(root).length === 0) {
      out.push(
        `deploy.yml: does not deploy the stacks of ${STACK_LIST} one at a time in its order (a job calling deploy-stack.yml with its matrix, \`max-parallel: 1\`, and fail-fast left on)`,
      );
    }
    for (const [id, job] of jobsOf(deploy).filter(([, j]) => str(j.uses) === "./.github/workflows/deploy-stack.yml")) {
      const w = isMapping(job.with) ? job.with : {};
      if (str(w.stack) !== "${{ matrix.stack }}" || str(w.sns) !== "${{ matrix.sns }}")
        out.push(`deploy.yml: ${id}: does not pass the stack and its sns flag from the matrix`);
      if (!/^\$\{\{ needs\.[\w-]+\.outputs\.working-directory \}\}$/.test(str(w["working-directory"])))
        out.push(`deploy.yml: ${id}: does not pass the program's directory from the stacks workflow`);
    }
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
      if (!aws || str(aws.with["role-to-assume"]) !== "${{ vars.AWS_ROLE_ARN }}")
        out.push(`deploy-stack.yml: ${id}: does not assume the environment's AWS_ROLE_ARN`);
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
    if (checks.length !== 1) out.push("drift.yml: needs one job running `npx --no-install keywire drift`");
    if (reports.length !== 1) out.push("drift.yml: needs one job opening and closing drift issues (`gh issue`)");
    for (const [id, job] of [...checks, ...reports]) {
      if (stacksSource(drift, job) === undefined) out.push(`drift.yml: ${id}: does not cover the stacks of ${STACK_LIST}`);
    }
    for (const [id, job] of jobs) {
      const steps = stepsOf(job, root, "drift.yml");
      steps.forEach((step, i) => {
        if (!runsCanary(step)) return;
        if (!steps.some(runsDrift)) out.push(`drift.yml: ${id}: runs the canary outside the drift check job, whose outcome it shares`);
        if (step.if === "") out.push(`drift.yml: ${id}: the canary runs on every stack; gate it with an \`if:\` on the stack list`);
        // The credentials in force are the last role assumed before the canary.
        const role = steps.slice(0, i).reverse().find(isAws);
        if (!role || role.if !== step.if)
          out.push(`drift.yml: ${id}: the canary's AWS role is not assumed under the canary's own \`if:\` (only when the canary runs)`);
        else if (!/canary/i.test(str(role.with["role-to-assume"])))
          out.push(`drift.yml: ${id}: the canary publishes with ${str(role.with["role-to-assume"])}, not a role of its own that may only publish to the topic`);
      });
    }
  }

  // The shared setup: npm's cache and npm ci at the program's lockfile, the Pulumi CLI pinned to the SDK, its plugins cached.
  const setup = localAction(root, "./.github/actions/setup");
  if (!setup) out.push(".github/actions/setup/action.yml is missing");
  else {
    const inputs = isMapping(setup.doc.inputs) ? setup.doc.inputs : {};
    if (!("working-directory" in inputs)) out.push("setup action: no `working-directory` input for the program's directory");
    const steps = stepsOf({ steps: isMapping(setup.doc.runs) ? setup.doc.runs.steps : [] }, root, "setup");
    const node = steps.find((s) => s.uses.startsWith("actions/setup-node@") && str(s.with.cache) === "npm");
    if (!node) out.push("setup action: no actions/setup-node with `cache: npm`");
    else if (str(node.with["cache-dependency-path"]) === "")
      out.push("setup action: actions/setup-node has no `cache-dependency-path`: npm's cache would look for package-lock.json at the repository's root only");
    const ci = steps.find((s) => /^\s*npm ci\b/m.test(s.run));
    if (!ci || ci.workingDirectory === "") out.push("setup action: `npm ci` does not run where the program's lockfile is (`working-directory:`)");
    if (!steps.some((s) => s.uses.startsWith("actions/cache@") && str(s.with.path).includes("~/.pulumi/plugins")))
      out.push("setup action: the Pulumi plugins are not cached");
    if (!steps.some((s) => isPulumi(s) && str(s.with["pulumi-version"]) !== "")) out.push("setup action: the Pulumi CLI is not installed at a pinned version");
    if (AWS_KEYS.test(setup.text)) out.push("setup action: names long-lived AWS credentials");
  }

  // One version of each action everywhere, as Dependabot moves them together.
  const pins = new Map<string, Set<string>>();
  const files = [...workflowFiles(root), ...(setup ? [setup.file] : [])];
  for (const f of files) {
    for (const u of usesLines(fs.readFileSync(f, "utf8"))) {
      const [action, ref] = u.uses.split("@");
      if (ref === undefined || u.uses.startsWith("./")) continue;
      pins.set(action, new Set([...(pins.get(action) ?? []), `${ref}${u.comment ? ` # ${u.comment}` : ""}`]));
    }
  }
  for (const [action, refs] of pins)
    if (refs.size > 1) out.push(`${action} is pinned to ${refs.size} versions (${[...refs].sort().join(", ")}); pin one everywhere`);

  out.push(...checkRecovery(root));
  out.push(...checkDependabot(root, programDir));
  return out;
}
