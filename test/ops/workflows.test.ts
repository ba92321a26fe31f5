/**
 * The CI workflows in .github/workflows: actionlint finds nothing in them, keywire's
 * own rules hold (workflowPolicy.ts: least permissions, OIDC only and only for stacks
 * with SNS, one group per stack, the stacks listed once, the program in any directory,
 * keywire run as the package's command, actions pinned by SHA, Dependabot, every stack
 * covered, a stopped deployment reported and recover.yml wired), and the workflows'
 * scripts do what they say: the stack list is read and checked, the setup finds the
 * program's lockfile, the drift workflow maps `keywire drift`'s and `keywire canary`'s
 * exit codes to the right issue changes, and the stack's lock and pending operations
 * are reported and released — run here with stand-ins for npx, gh, curl, pulumi and aws.
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
import { Mapping, STACK_LIST, checkDependabot, checkKeywireWorkflows, checkRecovery, checkWorkflow, ciStacks, deployOrder, isMapping, readYaml, workflowFiles } from "../support/workflowPolicy";

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
  // A child that exits without reading its stdin closes the pipe (EPIPE): its exit code says what happened.
  child.stdin.on("error", () => undefined);
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

/** A copy of what the rules read (workflows, actions, stack list, stacks, the program's files), to break one thing in. */
function copyOfRepository(name: string): string {
  const root = path.join(tmp, name);
  fs.cpSync(path.join(ROOT, ".github"), path.join(root, ".github"), { recursive: true });
  fs.cpSync(path.join(ROOT, "stacks"), path.join(root, "stacks"), { recursive: true });
  for (const f of ["Pulumi.yaml", "package.json"]) fs.copyFileSync(path.join(ROOT, f), path.join(root, f));
  return root;
}

function writeStackList(root: string, list: unknown): void {
  fs.writeFileSync(path.join(root, STACK_LIST), `${JSON.stringify(list, null, 2)}\n`);
}

/** `text` with `from` (which must occur exactly once) replaced. */
function replaced(text: string, from: string, to: string): string {
  expect(text.split(from)).toHaveLength(2);
  return text.replace(from, () => to);
}

describe("actionlint", () => {
  test("is there, or Go is not (a failed build with Go present is a failure)", () => {
    if (!actionlint.ok) expect(actionlint).toEqual({ ok: false, kind: "missing", reason: expect.stringContaining("no `go`") });
    else expect(fs.existsSync(actionlint.path)).toBe(true);
  });

  test("finds nothing in any workflow (without Go: the structural rules hold)", async () => {
    const files = workflowFiles(ROOT);
    expect(files.map((f) => path.basename(f))).toEqual(["deploy-stack.yml", "deploy.yml", "drift.yml", "preview.yml", "recover.yml", "stacks.yml"]);
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

  test("every stack CI manages is listed once, previewed, deployed dev → prod, and checked for drift", () => {
    expect(ciStacks(ROOT)).toEqual(["dev", "prod"]);
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, STACK_LIST), "utf8"))).toEqual({
      workingDirectory: ".",
      stacks: [
        { stack: "dev", sns: true },
        { stack: "prod", sns: true },
      ],
    });
    expect(deployOrder(ROOT)).toEqual(["dev", "prod"]);
    expect(checkKeywireWorkflows(ROOT)).toEqual([]);
  });

  test("they catch a broken workflow: no permissions, AWS keys, unpinned actions, no work-dir, its own stack list, no stack group", () => {
    const root = path.join(tmp, "policy");
    fs.mkdirSync(path.join(root, ".github", "workflows"), { recursive: true });
    const file = path.join(root, ".github", "workflows", "broken.yml");
    fs.writeFileSync(file, BROKEN);
    const found = checkWorkflow(readYaml(file), root);
    expect(found).toEqual([
      ".github/workflows/broken.yml: names long-lived AWS credentials; assume a role with aws-actions/configure-aws-credentials (role-to-assume) instead",
      ".github/workflows/broken.yml: no workflow-level `permissions:` mapping (the default grants write access)",
      ".github/workflows/broken.yml:13: actions/checkout@main is not pinned to a full commit SHA (a tag can be moved to other code)",
      ".github/workflows/broken.yml:15: pulumi/actions@v6 is not pinned to a full commit SHA (a tag can be moved to other code)",
      ".github/workflows/broken.yml: deploy: no `permissions:` of its own",
    ]);
    // With permissions, the job's own problems show.
    fs.writeFileSync(file, BROKEN.replace("jobs:\n", "permissions:\n  contents: read\njobs:\n").replace("    runs-on:", "    permissions:\n      contents: read\n      issues: write\n    runs-on:"));
    expect(checkWorkflow(readYaml(file), root)).toEqual([
      ".github/workflows/broken.yml: names long-lived AWS credentials; assume a role with aws-actions/configure-aws-credentials (role-to-assume) instead",
      ".github/workflows/broken.yml:18: actions/checkout@main is not pinned to a full commit SHA (a tag can be moved to other code)",
      ".github/workflows/broken.yml:20: pulumi/actions@v6 is not pinned to a full commit SHA (a tag can be moved to other code)",
      ".github/workflows/broken.yml: deploy: runs pulumi/actions `command: up` without `work-dir`: the program may live in a subdirectory",
      ".github/workflows/broken.yml: deploy: has `issues: write` but edits no issue",
      ".github/workflows/broken.yml: deploy: does not take its stacks from the stacks workflow; use `needs: stacks` and `matrix: ${{ fromJSON(needs.stacks.outputs.matrix) }}`, so that .github/keywire-ci.json is the one list",
      ".github/workflows/broken.yml: deploy: changes or checks a stack without `concurrency: { group: keywire-${{ matrix.stack }}, cancel-in-progress: false }`",
    ]);
  });

  test("they catch a stack left out of the list, a deployment order that ends anywhere but prod, and an sns flag its stack file contradicts", () => {
    const root = copyOfRepository("copy");
    fs.writeFileSync(path.join(root, "stacks", "Pulumi.staging.yaml"), "config: {}\n");
    expect(checkKeywireWorkflows(root)).toEqual([`${STACK_LIST}: lists dev, prod, not every CI stack (dev, prod, staging)`]);
    // staging after prod, with SNS its stack file does not turn on.
    writeStackList(root, { workingDirectory: ".", stacks: [{ stack: "dev", sns: true }, { stack: "prod", sns: true }, { stack: "staging", sns: true }] });
    expect(checkKeywireWorkflows(root)).toEqual([
      `${STACK_LIST}: the last stack (deployed last) is staging, not prod`,
      `${STACK_LIST}: stack staging has "sns": true, but its stack file does not turn keywire:sns on`,
    ]);
    writeStackList(root, { workingDirectory: ".", stacks: [{ stack: "dev", sns: true }, { stack: "staging" }, { stack: "prod", sns: true }] });
    expect(checkKeywireWorkflows(root)).toEqual([]);
    expect(deployOrder(root)).toEqual(["dev", "staging", "prod"]);
  });

  test("a workflow that lists its stacks itself, or deploys them all at once, is caught", () => {
    const root = copyOfRepository("own-list");
    const preview = path.join(root, ".github", "workflows", "preview.yml");
    const text = fs.readFileSync(preview, "utf8");
    fs.writeFileSync(preview, replaced(text, "      matrix: ${{ fromJSON(needs.stacks.outputs.matrix) }}\n", "      matrix:\n        stack: [dev, prod]\n"));
    expect([...checkKeywireWorkflows(root), ...checkWorkflow(readYaml(preview), root)]).toEqual([
      `preview.yml: preview: does not preview the stacks of ${STACK_LIST}`,
      `.github/workflows/preview.yml: preview: does not take its stacks from the stacks workflow; use \`needs: stacks\` and \`matrix: \${{ fromJSON(needs.stacks.outputs.matrix) }}\`, so that ${STACK_LIST} is the one list`,
    ]);
    fs.writeFileSync(preview, text);
    const deploy = path.join(root, ".github", "workflows", "deploy.yml");
    fs.writeFileSync(deploy, replaced(fs.readFileSync(deploy, "utf8"), "      max-parallel: 1\n", ""));
    expect(checkKeywireWorkflows(root)).toEqual([
      `deploy.yml: does not deploy the stacks of ${STACK_LIST} one at a time in its order (a job calling deploy-stack.yml with its matrix, \`max-parallel: 1\`, and fail-fast left on)`,
    ]);
    expect(deployOrder(root)).toEqual([]);
  });

  test("AWS credentials for a stack without SNS, keywire's own npm scripts, npx without --no-install, and keywire run outside the program's directory are caught", () => {
    const root = copyOfRepository("keywire-calls");
    const drift = path.join(root, ".github", "workflows", "drift.yml");
    let text = fs.readFileSync(drift, "utf8");
    text = replaced(text, "        if: ${{ matrix.sns }}\n", "");
    text = replaced(text, "npx --no-install keywire drift --stack", "npm run -s drift -- --stack");
    text = replaced(text, "npx --no-install keywire canary --stack", "npx keywire canary --stack");
    const canaryStep = "        id: canary\n        if: ${{ !cancelled() && steps.canary-on.outputs.run == 'true' }}\n        shell: bash\n";
    text = replaced(text, `${canaryStep}        working-directory: \${{ needs.stacks.outputs.working-directory }}\n`, canaryStep);
    fs.writeFileSync(drift, text);
    expect(checkWorkflow(readYaml(drift), root)).toEqual([
      ".github/workflows/drift.yml: check: assumes an AWS role for every stack; gate it on the stack's SNS integration (`if: ${{ matrix.sns }}`), so a stack without SNS needs no AWS credentials",
      ".github/workflows/drift.yml: check: calls keywire's own npm script `npm run drift`, which only keywire's repository has; call `npx --no-install keywire drift` in the program's directory",
      ".github/workflows/drift.yml: check: calls `npx keywire` without --no-install: where keywire is not installed, npx would fetch and run a package of that name from the registry",
      ".github/workflows/drift.yml: check: runs keywire without `working-directory:`; npx finds it only in the program's directory",
    ]);
  });

  test("pins: a tag, a SHA without its version, or two versions of one action are caught", () => {
    const root = copyOfRepository("pins");
    const preview = path.join(root, ".github", "workflows", "preview.yml");
    let text = fs.readFileSync(preview, "utf8");
    text = replaced(text, "actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2", "actions/checkout@v6");
    text = replaced(text, "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0", "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # latest");
    fs.writeFileSync(preview, text);
    const line = (needle: string): number => text.split("\n").findIndex((l) => l.includes(needle)) + 1;
    expect(checkWorkflow(readYaml(preview), root)).toEqual([
      `.github/workflows/preview.yml:${line("actions/checkout@v6")}: actions/checkout@v6 is not pinned to a full commit SHA (a tag can be moved to other code)`,
      `.github/workflows/preview.yml:${line("# latest")}: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d has no \`# vX.Y.Z\` comment naming the version its SHA is`,
    ]);
    expect(checkKeywireWorkflows(root)).toEqual([
      "actions/checkout is pinned to 2 versions (de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2, v6); pin one everywhere",
      "pulumi/actions is pinned to 2 versions (8e5e406f4007fca908480587cb9893c07090f58d # latest, 8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0); pin one everywhere",
    ]);
    // The local action's pins count too.
    const setup = path.join(root, ".github", "actions", "setup", "action.yml");
    fs.writeFileSync(setup, replaced(fs.readFileSync(setup, "utf8"), "actions/cache@cdf6c1fa76f9f475f3d7449005a359c84ca0f306 # v5.0.3", "actions/cache@cdf6c1fa76f9f475f3d7449005a359c84ca0f306"));
    expect(checkWorkflow(readYaml(path.join(root, ".github", "workflows", "deploy-stack.yml")), root)).toEqual([
      expect.stringMatching(/^\.github\/actions\/setup\/action\.yml:\d+: actions\/cache@cdf6c1fa76f9f475f3d7449005a359c84ca0f306 has no `# vX\.Y\.Z` comment/),
    ]);
  });

  test("a program in a subdirectory: the setup, previews and deployments get its directory; Dependabot updates its packages there", () => {
    const root = copyOfRepository("subdirectory");
    const dependabot = path.join(root, ".github", "dependabot.yml");
    expect(checkDependabot(root, ".")).toEqual([]);
    expect(checkDependabot(root, "infra")).toEqual([".github/dependabot.yml: no npm updates for the program's directory (/infra)"]);
    fs.writeFileSync(dependabot, replaced(fs.readFileSync(dependabot, "utf8"), "      - /.github/actions/*\n", ""));
    expect(checkDependabot(root, ".")).toEqual([
      ".github/dependabot.yml: no github-actions updates for .github/actions/setup",
      ".github/dependabot.yml: no github-actions updates for .github/actions/stack-status",
    ]);
    fs.rmSync(dependabot);
    expect(checkDependabot(root, ".")).toEqual([".github/dependabot.yml is missing: nothing updates the pinned actions and packages"]);

    const preview = path.join(root, ".github", "workflows", "preview.yml");
    let text = fs.readFileSync(preview, "utf8");
    text = replaced(text, "          work-dir: ${{ needs.stacks.outputs.working-directory }}\n", "");
    text = replaced(text, "        uses: ./.github/actions/setup\n        with:\n          working-directory: ${{ needs.stacks.outputs.working-directory }}\n", "        uses: ./.github/actions/setup\n");
    fs.writeFileSync(preview, text);
    expect(checkWorkflow(readYaml(preview), root)).toEqual([
      ".github/workflows/preview.yml: preview: uses the setup action without `working-directory`: it installs the program's packages there",
      ".github/workflows/preview.yml: preview: runs pulumi/actions `command: preview` without `work-dir`: the program may live in a subdirectory",
    ]);
    writeStackList(root, { workingDirectory: "infra", stacks: [{ stack: "dev", sns: true }, { stack: "prod", sns: true }] });
    expect(checkKeywireWorkflows(root)).toEqual(
      expect.arrayContaining([`${STACK_LIST}: workingDirectory infra holds no Pulumi.yaml`, `${STACK_LIST}: workingDirectory infra holds no package.json`]),
    );
  });
});

describe("keywire's rules for the delivery canary", () => {
  const CANARY_IF = "if: ${{ !cancelled() && steps.canary-on.outputs.run == 'true' }}";
  const AWS_PIN = "aws-actions/configure-aws-credentials@254c19bd240aabef8777f48595e9d2d7b972184b # v6.2.1";
  const NODE_PIN = "actions/setup-node@6044e13b5dc448c55e2357c09f80417699197238 # v6.2.0";

  /** The repository's workflows with drift.yml changed by `edit`, and the violations found. */
  function violations(name: string, edit: (text: string) => string): string[] {
    const root = copyOfRepository(`canary-${name}`);
    const file = path.join(root, ".github", "workflows", "drift.yml");
    const text = fs.readFileSync(file, "utf8");
    const edited = edit(text);
    expect(edited).not.toBe(text);
    fs.writeFileSync(file, edited);
    return [...checkKeywireWorkflows(root), ...checkWorkflow(readYaml(file), root)];
  }

  test("the workflow as it is: the canary runs in the check job, with its own role, only when it runs", () => {
    const steps = (driftJobs().check.steps as unknown[]).filter(isMapping);
    const canary = steps.findIndex((s) => typeof s.run === "string" && /npx --no-install keywire canary/.test(s.run));
    const role = steps.findIndex((s) => isMapping(s.with) && s.with["role-to-assume"] === "${{ vars[format('AWS_CANARY_ROLE_ARN_{0}', matrix.key)] }}");
    expect(canary).toBeGreaterThan(role);
    expect(role).toBeGreaterThan(steps.findIndex((s) => s.id === "drift"));
    expect(steps[role].if).toBe(steps[canary].if);
    expect(violations("as-is", (t) => `${t}\n`)).toEqual([]);
  });

  test("a canary role assumed whatever the stack list says is caught", () => {
    const found = violations("ungated-role", (t) => t.replace(`${AWS_PIN}\n        ${CANARY_IF}\n`, `${AWS_PIN}\n`));
    expect(found).toEqual([
      "drift.yml: check: the canary's AWS role is not assumed under the canary's own `if:` (only when the canary runs)",
      ".github/workflows/drift.yml: check: assumes an AWS role for every stack; gate it on the stack's SNS integration (`if: ${{ matrix.sns }}`), so a stack without SNS needs no AWS credentials",
    ]);
  });

  test("a canary publishing with the drift check's read role is caught", () => {
    const found = violations("read-role", (t) => t.replace("role-to-assume: ${{ vars[format('AWS_CANARY_ROLE_ARN_{0}', matrix.key)] }}", "role-to-assume: ${{ vars[format('AWS_READ_ROLE_ARN_{0}', matrix.key)] }}"));
    expect(found).toEqual(["drift.yml: check: the canary publishes with ${{ vars[format('AWS_READ_ROLE_ARN_{0}', matrix.key)] }}, not a role of its own that may only publish to the topic"]);
  });

  test("a canary in the report job, which edits issues, is caught", () => {
    const found = violations("in-report", (t) =>
      t.replace(`      - uses: ${NODE_PIN}\n`, `      - run: npx --no-install keywire canary --stack dev\n        shell: bash\n        working-directory: .\n      - uses: ${NODE_PIN}\n`),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        "drift.yml: report: runs the canary outside the drift check job, whose outcome it shares",
        "drift.yml: report: the canary runs on every stack; gate it with an `if:` on the stack list",
        ".github/workflows/drift.yml: report: edits issues and touches a stack in one job; keep issue access away from the job that runs the program",
      ]),
    );
  });
});

describe("keywire's rules for a killed deployment", () => {
  /** The repository's workflows with `file` (under .github/) changed by `edit`, and every violation found. */
  function violations(name: string, file: string, edit: (text: string) => string): string[] {
    const root = copyOfRepository(`recover-${name}`);
    const f = path.join(root, ".github", file);
    const text = fs.readFileSync(f, "utf8");
    const edited = edit(text);
    expect(edited).not.toBe(text);
    fs.writeFileSync(f, edited);
    return [...checkKeywireWorkflows(root), ...workflowFiles(root).flatMap((w) => checkWorkflow(readYaml(w), root))];
  }
  const recoverJob = (): Mapping => (readYaml(path.join(ROOT, ".github", "workflows", "recover.yml")).doc.jobs as Mapping).recover as Mapping;

  test("as they are: the deploy job reports what a stopped run left; recover.yml frees one listed stack, by hand, as the deployment would run", () => {
    expect(checkRecovery(ROOT)).toEqual([]);
    const wf = readYaml(path.join(ROOT, ".github", "workflows", "recover.yml"));
    expect(Object.keys(wf.doc.on as Mapping)).toEqual(["workflow_dispatch"]);
    const job = recoverJob();
    expect(job.environment).toBe("${{ matrix.stack }}");
    expect(job.concurrency).toEqual({ group: "keywire-${{ matrix.stack }}", "cancel-in-progress": false });
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
    const steps = (job.steps as unknown[]).filter(isMapping);
    expect(steps.map((st) => st.id ?? st.name ?? st.uses)).toEqual([
      expect.stringMatching(/^actions\/checkout@/),
      "setup",
      expect.stringMatching(/^aws-actions\/configure-aws-credentials@/),
      "before",
      "cancel",
      "refresh",
      "The stack after the recovery",
    ]);
    const deployUp = (readYaml(path.join(ROOT, ".github", "workflows", "deploy-stack.yml")).doc.jobs as Mapping).up as Mapping;
    const last = (deployUp.steps as unknown[]).filter(isMapping).slice(-1)[0];
    expect({ if: last.if, uses: last.uses }).toEqual({ if: "${{ failure() || cancelled() }}", uses: "./.github/actions/stack-status" });
  });

  test("no recover.yml, or one that also runs by itself, is caught", () => {
    const root = copyOfRepository("recover-missing");
    fs.rmSync(path.join(root, ".github", "workflows", "recover.yml"));
    expect(checkRecovery(root)).toEqual(["recover.yml is missing: nothing frees a stack a killed deployment left locked (docs/runbook.md, section 5)"]);
    expect(violations("on-push", "workflows/recover.yml", (t) => replaced(t, "on:\n  workflow_dispatch:\n", "on:\n  push:\n    branches: [main]\n  workflow_dispatch:\n"))).toEqual([
      "recover.yml: also runs on push; releasing a lock must be a person's decision, by hand",
    ]);
  });

  test("a recovery outside the stack's environment or its group, with the read role, or for a stack the list does not pick, is caught", () => {
    expect(violations("no-environment", "workflows/recover.yml", (t) => replaced(t, "    environment: ${{ matrix.stack }}\n", ""))).toEqual([
      "recover.yml: recover: does not run in the stack's GitHub environment (its approvals, its AWS_ROLE_ARN)",
    ]);
    expect(violations("no-group", "workflows/recover.yml", (t) => replaced(t, "    concurrency:\n      group: keywire-${{ matrix.stack }}\n      cancel-in-progress: false\n", ""))).toEqual([
      ".github/workflows/recover.yml: recover: changes or checks a stack without `concurrency: { group: keywire-${{ matrix.stack }}, cancel-in-progress: false }`",
    ]);
    expect(violations("read-role", "workflows/recover.yml", (t) => replaced(t, "role-to-assume: ${{ vars.AWS_ROLE_ARN }}", "role-to-assume: ${{ vars[format('AWS_READ_ROLE_ARN_{0}', matrix.key)] }}"))).toEqual([
      "recover.yml: recover: does not assume the deploy role (the environment's AWS_ROLE_ARN) for a stack with SNS",
    ]);
    expect(violations("every-stack", "workflows/recover.yml", (t) => replaced(t, "    with:\n      stack: ${{ inputs.stack }}\n", ""))).toEqual([
      `recover.yml: does not pick the stack from ${STACK_LIST} (a job calling stacks.yml with \`stack: \${{ inputs.stack }}\`)`,
    ]);
  });

  test("a cancel outside the program's directory, or a refresh whatever the state says, is caught", () => {
    const cancelDir = "        id: cancel\n        shell: bash\n        working-directory: ${{ needs.stacks.outputs.working-directory }}\n";
    expect(violations("cancel-dir", "workflows/recover.yml", (t) => replaced(t, cancelDir, "        id: cancel\n        shell: bash\n"))).toEqual([
      "recover.yml: recover: step 5: does not run in the program's directory (${{ needs.stacks.outputs.working-directory }})",
      ".github/workflows/recover.yml: recover: calls the Pulumi CLI (`pulumi cancel`) without `working-directory:`; it finds the project only in the program's directory",
    ]);
    expect(violations("refresh-always", "workflows/recover.yml", (t) => replaced(t, 'if ! exported="$(pulumi stack export --stack "$STACK")"; then', 'if ! exported="$(pulumi stack ls --json)"; then'))).toEqual([
      "recover.yml: recover: the refresh does not depend on the pending operations `pulumi stack export` shows",
    ]);
  });

  test("a deploy job that reports nothing when it stops, only on failure, or without pointing at the recovery, is caught", () => {
    const expected = "deploy-stack.yml: up: its last step does not report the stack's lock and pending operations when the deployment fails or is cancelled (`if: ${{ failure() || cancelled() }}`, uses: ./.github/actions/stack-status)";
    expect(violations("failure-only", "workflows/deploy-stack.yml", (t) => replaced(t, "if: ${{ failure() || cancelled() }}", "if: ${{ failure() }}"))).toEqual([expected]);
    expect(violations("no-report", "workflows/deploy-stack.yml", (t) => t.slice(0, t.indexOf("      # A killed `up` leaves")))).toEqual([expected]);
    expect(violations("no-pointer", "workflows/deploy-stack.yml", (t) => replaced(t, "/actions/workflows/recover.yml", "/actions"))).toEqual([
      "deploy-stack.yml: up: the status step does not point at recover.yml and keywire's runbook, section 5, when the stack is left locked or with pending operations",
    ]);
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

describe("the stack list (stacks.yml)", () => {
  const script = (): string => {
    const wf = readYaml(path.join(ROOT, ".github", "workflows", "stacks.yml"));
    return stepRun((wf.doc.jobs as Mapping).read as Mapping, (s) => s.id === "read");
  };

  /** The step on `list` (written as given, so not-JSON can be tried too), for `only` one stack of it: its exit code, outputs and messages. */
  async function read(list: unknown, only?: string): Promise<{ code: number | null; output: string; said: string }> {
    const dir = fs.mkdtempSync(path.join(tmp, "stacks-"));
    fs.mkdirSync(path.join(dir, ".github"));
    fs.writeFileSync(path.join(dir, ".github", "keywire-ci.json"), typeof list === "string" ? list : JSON.stringify(list));
    const output = path.join(dir, "github-output");
    fs.writeFileSync(output, "");
    const r = await runStep(script(), dir, path.join(dir, "bin"), { FILE: ".github/keywire-ci.json", GITHUB_OUTPUT: output, ...(only !== undefined ? { ONLY: only } : {}) });
    return { code: r.code, output: fs.readFileSync(output, "utf8"), said: (r.stdout + r.stderr).trim() };
  }

  test("the repository's own list: both stacks with SNS, in deployment order, the program at the root", async () => {
    const r = await read(fs.readFileSync(path.join(ROOT, STACK_LIST), "utf8"));
    expect(r).toEqual({
      code: 0,
      output: 'matrix={"include":[{"stack":"dev","sns":true,"key":"DEV"},{"stack":"prod","sns":true,"key":"PROD"}]}\nworking-directory=.\n',
      said: "program in .; stacks: dev (sns), prod (sns)",
    });
  });

  test("sns defaults to false, the program may live in a subdirectory, and each stack gets its role variables' suffix", async () => {
    const r = await read({ workingDirectory: "infra/pulumi", stacks: [{ stack: "eu-prod.2" }, { stack: "dev", sns: true }] });
    expect(r.code).toBe(0);
    expect(r.output).toBe('matrix={"include":[{"stack":"eu-prod.2","sns":false,"key":"EU_PROD_2"},{"stack":"dev","sns":true,"key":"DEV"}]}\nworking-directory=infra/pulumi\n');
  });

  test("one stack asked for (recover.yml): the matrix holds it alone; an empty ask is every stack", async () => {
    const list = { workingDirectory: "infra", stacks: [{ stack: "dev", sns: true }, { stack: "staging" }, { stack: "prod", sns: true }] };
    expect(await read(list, "staging")).toEqual({
      code: 0,
      output: 'matrix={"include":[{"stack":"staging","sns":false,"key":"STAGING"}]}\nworking-directory=infra\n',
      said: "program in infra; stacks: staging",
    });
    expect((await read(list, "")).output).toContain('"stack":"dev"');
  });

  test("a stack asked for that the list lacks, or that is no stack name, stops the run; a name that is not one is not repeated", async () => {
    const list = { stacks: [{ stack: "dev", sns: true }, { stack: "prod", sns: true }] };
    expect(await read(list, "qa")).toEqual({ code: 1, output: "", said: "::error file=.github/keywire-ci.json::stack qa is not listed in the file, which lists dev, prod" });
    for (const only of ["dev\n::warning::x", "../prod", "-dev"]) {
      expect(await read(list, only)).toEqual({ code: 1, output: "", said: "::error file=.github/keywire-ci.json::the stack asked for is not a stack name of letters, digits, _, . and -" });
    }
  });

  test("each mistake stops the run with one line naming it", async () => {
    const error = async (list: unknown): Promise<string> => {
      const r = await read(list);
      expect({ code: r.code, output: r.output }).toEqual({ code: 1, output: "" });
      return r.said;
    };
    const at = "::error file=.github/keywire-ci.json::";
    expect(await error([{ stack: "dev" }])).toBe(`${at}the file must hold one JSON object with "stacks"`);
    expect(await error({ stacks: [] })).toBe(`${at}"stacks" must list at least one stack, such as [{"stack": "dev", "sns": true}]`);
    for (const stack of ["org/dev", "-dev", "", 7]) {
      expect(await error({ stacks: [{ stack }] })).toBe(`${at}each entry of "stacks" needs "stack": a stack name of letters, digits, _, . and -`);
    }
    expect(await error({ stacks: [{ stack: "dev", sns: "yes" }] })).toBe(`${at}"sns" of stack dev must be true or false`);
    expect(await error({ stacks: [{ stack: "dev" }, { stack: "dev" }] })).toBe(`${at}a stack is listed twice`);
    expect(await error({ stacks: [{ stack: "eu-prod" }, { stack: "eu.prod" }] })).toMatch(/^::error file=\.github\/keywire-ci\.json::two stacks would share AWS role variables/);
    for (const workingDirectory of ["../infra", "/infra", "infra/", "infra/../..", ""]) {
      expect(await error({ workingDirectory, stacks: [{ stack: "dev" }] })).toMatch(/^::error file=\.github\/keywire-ci\.json::workingDirectory must be a directory inside the repository/);
    }
    expect(await error("{ not json")).toMatch(/^::error file=\.github\/keywire-ci\.json::/);
  });
});

describe("the setup's lockfile", () => {
  const script = (): string => {
    const action = readYaml(path.join(ROOT, ".github", "actions", "setup", "action.yml"));
    return stepRun({ steps: (action.doc.runs as Mapping).steps }, (s) => s.id === "lockfile");
  };

  /** The step in a workspace holding `files`, for the program in `programDir`. */
  async function find(programDir: string, files: string[]): Promise<{ code: number | null; output: string; said: string }> {
    const dir = fs.mkdtempSync(path.join(tmp, "lockfile-"));
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), "{}\n");
    }
    const output = path.join(dir, "github-output");
    fs.writeFileSync(output, "");
    const r = await runStep(script(), dir, path.join(dir, "bin"), { PROGRAM_DIR: programDir, GITHUB_OUTPUT: output });
    return { code: r.code, output: fs.readFileSync(output, "utf8"), said: r.stdout.trim() };
  }

  test("the program's own lockfile, at the root or in its subdirectory, or a workspace's above it", async () => {
    expect(await find(".", ["package.json", "package-lock.json"])).toEqual({ code: 0, output: "dir=.\npath=./package-lock.json\n", said: "lockfile: ./package-lock.json" });
    expect(await find("infra", ["package.json", "package-lock.json", "infra/package.json", "infra/package-lock.json"])).toMatchObject({ code: 0, output: "dir=infra\npath=infra/package-lock.json\n" });
    expect(await find("packages/infra", ["package.json", "package-lock.json", "packages/infra/package.json"])).toMatchObject({ code: 0, output: "dir=.\npath=./package-lock.json\n" });
    expect(await find("infra", ["infra/package.json", "infra/npm-shrinkwrap.json"])).toMatchObject({ code: 0, output: "dir=infra\npath=infra/npm-shrinkwrap.json\n" });
  });

  test("no program there, or no lockfile: the job stops saying what to do", async () => {
    expect(await find("infra", ["package.json", "package-lock.json"])).toEqual({
      code: 1,
      output: "",
      said: "::error::no package.json in infra: set workingDirectory in .github/keywire-ci.json to the Pulumi program's directory",
    });
    expect(await find("infra", ["infra/package.json"])).toEqual({
      code: 1,
      output: "",
      said: "::error::no package-lock.json in infra or above it: run npm install there and commit the lockfile (npm ci installs exactly what it says)",
    });
  });
});

describe("drift check step", () => {
  const script = (): string => stepRun(driftJobs().check, (s) => s.id === "drift");

  /**
   * The step as GitHub runs it in the program's directory (`working-directory:`, here a
   * subdirectory of the workspace), with `npx` answering as the installed keywire would.
   */
  async function check(code: number): Promise<{ run: Run; outcome: string; output: string; summary: string; dir: string; asked: string }> {
    const dir = fs.mkdtempSync(path.join(tmp, "check-"));
    const bin = path.join(dir, "bin");
    const program = path.join(dir, "infra");
    fs.mkdirSync(bin);
    fs.mkdirSync(program);
    // npx --no-install keywire drift: records where and how it ran, writes the summary where --summary says, exits with the code under test.
    stub(bin, "npx", 'echo "$PWD $*" > "$ASKED"\nwhile [ $# -gt 0 ]; do if [ "$1" = --summary ]; then echo "SUMMARY of $STUB_CODE" > "$2"; fi; shift; done\nexit "$STUB_CODE"');
    const output = path.join(dir, "github-output");
    const summary = path.join(dir, "step-summary");
    const asked = path.join(dir, "asked");
    const r = await runStep(script(), program, bin, { STACK: "dev", STUB_CODE: String(code), GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: dir, ASKED: asked });
    const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    return { run: r, outcome: read(path.join(dir, "drift-dev", "outcome")).trim(), output: read(output), summary: read(summary), dir, asked: read(asked).trim() };
  }

  test("runs the installed keywire in the program's directory, and leaves its reports in the workspace for the artifact", async () => {
    const c = await check(DRIFT_EXIT.clean);
    const out = path.join(c.dir, "drift-dev");
    expect(c.asked).toBe(`${path.join(c.dir, "infra")} --no-install keywire drift --stack dev --json ${out}/report.json --markdown ${out}/report.md --summary ${out}/summary.md`);
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
    const dir = fs.mkdtempSync(path.join(tmp, "canary-on-"));
    const output = path.join(dir, "github-output");
    const r = await runStep(script(), dir, path.join(dir, "bin"), { STACK: stack, SNS: sns, GITHUB_OUTPUT: output, ...(stacks !== undefined ? { CANARY_STACKS: stacks } : {}) });
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
    const dir = fs.mkdtempSync(path.join(tmp, "canary-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(dir, "infra"));
    fs.mkdirSync(path.join(dir, "drift-dev"));
    fs.writeFileSync(path.join(dir, "drift-dev", "outcome"), `${drift.outcome}\n`);
    fs.writeFileSync(path.join(dir, "drift-dev", "exit-code"), `${drift.code}\n`);
    fs.writeFileSync(path.join(dir, "drift-dev", "summary.md"), "DRIFT SUMMARY\n");
    // npx --no-install keywire canary: writes its summary where --summary says, exits with the code under test.
    stub(bin, "npx", 'case "$*" in "--no-install keywire canary --stack dev "*) ;; *) exit 99 ;; esac\nwhile [ $# -gt 0 ]; do if [ "$1" = --summary ]; then echo "CANARY SUMMARY of $STUB_CODE" > "$2"; fi; shift; done\nexit "$STUB_CODE"');
    const output = path.join(dir, "github-output");
    const summary = path.join(dir, "step-summary");
    const r = await runStep(script(), path.join(dir, "infra"), bin, { STACK: "dev", STUB_CODE: String(code), GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: dir });
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

// ---------------------------------------------------------------------------
// After a killed deployment: the status the deploy job and recover.yml report, and
// recover.yml's steps, with stand-ins for pulumi and aws
// ---------------------------------------------------------------------------

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
    const found = (process.env.PATH ?? "").split(path.delimiter).map((d) => path.join(d, name)).find((f) => fs.existsSync(f));
    if (!found) throw new Error(`${name} is not on PATH`);
    fs.symlinkSync(found, path.join(bin, name));
  }
  return bin;
}

const STATE_WITH = (ops: Array<{ type: string; urn: string }>): string =>
  JSON.stringify({ version: 3, deployment: { manifest: {}, resources: [], ...(ops.length > 0 ? { pending_operations: ops.map((o) => ({ type: o.type, resource: { urn: o.urn } })) } : {}) } });
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
    const dir = fs.mkdtempSync(path.join(tmp, "status-"));
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
    stub(bin, "aws", ['echo "aws $*" >> "$ASKED"', 'case "$1 $2" in', '  "s3 ls") printf "%s" "$S3_LS"; printf "%s" "$S3_ERROR" >&2; exit "${S3_CODE:-0}" ;;', '  "s3 cp") printf "%s" "$LOCK" ;;', "esac"].join("\n"));
    const outputs = path.join(dir, "github-output");
    const summary = path.join(dir, "step-summary");
    const base = { STACK: "dev", HEADING: "after the deployment stopped", WHEN_STUCK: "STUCK: run recover.yml", WHEN_CLEAR: "CLEAR: nothing to recover", GITHUB_OUTPUT: outputs, GITHUB_STEP_SUMMARY: summary, ASKED: asked };
    const tools = opts.noCli ? { PATH: [bin, onlyTools(dir, ["bash", "jq", "sed", "grep", "tr", "cut", "head", "tail", "mktemp", "rm", "cat", "find", "timeout"])].join(path.delimiter) } : {};
    const r = await runStep(script(), program, bin, { ...base, ...env, ...tools });
    const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    return { code: r.code, outputs: read(outputs), summary: read(summary), asked: read(asked).split("\n").filter(Boolean), said: r.stdout.trim() };
  }

  const CLOUD = { PULUMI_BACKEND_URL: "https://api.pulumi.com" };
  const S3 = { PULUMI_BACKEND_URL: "s3://state-bucket/keywire?region=eu-west-1&awssdk=v2" };
  const table = (lock: string, pending: string): string => `### keywire: stack \`dev\`, after the deployment stopped\n\n| | |\n|---|---|\n| Lock | ${lock} |\n| Pending operations | ${pending} |\n\n`;

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
    expect(s.summary).toContain("| Lock | locked: 1 lock file(s); `keywire/.pulumi/locks/organization/keywire/dev/0b0e9e9a-1.json`, created by `runner@fv-az1 (pid 29998) at 2026-12-07T02:43:03Z` |\n");
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
    const refused = await status({ ...S3, S3_LS: "", S3_CODE: "1", S3_ERROR: "\nAn error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied\n", EXPORT: STATE_WITH([]) });
    expect(refused.outputs).toBe("backend=self-managed\nlocked=unknown\npending=0\n");
    expect(refused.summary).toContain("| Lock | unknown: listing the backend's lock files failed: `An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied` |");
    expect(refused.summary).toContain("STUCK");
  });

  test("a job that stopped before the Pulumi CLI was set up: unknown, said so, and the step still succeeds", async () => {
    const s = await status({ ...CLOUD }, { noCli: true });
    expect(s.code).toBe(0);
    expect(s.outputs).toBe("backend=cloud\nlocked=unknown\npending=unknown\n");
    expect(s.summary).toBe(`${table("unknown: the Pulumi CLI is not on PATH (the job stopped before its setup finished)", "unknown: the Pulumi CLI is not on PATH")}STUCK: run recover.yml\n\n`);
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
  const step = (id: string): string => stepRun(((readYaml(path.join(ROOT, ".github", "workflows", "recover.yml")).doc.jobs as Mapping).recover as Mapping), (s) => s.id === id);

  interface StepRun {
    run: Run;
    asked: string[];
    summary: string;
  }

  /** A recover.yml step in the program's directory; `pulumi` logs where and how it ran, exits CANCEL_CODE or REFRESH_CODE, and prints EXPORT. */
  async function recoverStep(id: string, env: NodeJS.ProcessEnv): Promise<StepRun> {
    const dir = fs.mkdtempSync(path.join(tmp, `recover-${id}-`));
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
    return { run: r, asked: read(asked).split("\n").filter(Boolean).map((l) => l.replace(program, "<program>")), summary: read(summary) };
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
    for (const locked of ["yes", "unknown"]) expect((await recoverStep("cancel", { BACKEND: "cloud", LOCKED: locked })).asked).toEqual(["<program> cancel --yes --stack dev"]);
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

    const two = await recoverStep("refresh", { EXPORT: STATE_WITH([{ type: "creating", urn: KEY_URN }, { type: "creating", urn: `${KEY_URN}-2` }]) });
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
