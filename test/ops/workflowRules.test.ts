/**
 * keywire's own rules for its CI workflows hold (workflowPolicy.ts: least permissions,
 * OIDC only and only for stacks with SNS, one group per stack, the stacks listed once,
 * the program in any directory, keywire run as the package's command, actions pinned by
 * SHA, Dependabot, every stack covered, the delivery canary with a role of its own, a
 * stopped deployment reported and recover.yml wired), and each rule catches the mistake
 * it is about in a copy of the repository with that one thing broken.
 */
import * as fs from "fs";
import * as path from "path";
import { type Mapping, STACK_LIST, ciStacks, isMapping, readYaml, workflowFiles } from "../support/workflowModel";
import { checkDependabot, checkKeywireWorkflows, checkWorkflow, deployOrder } from "../support/workflowPolicy";
import { checkRecovery } from "../support/recoveryPolicy";
import { BROKEN, ROOT, copyOfRepository, driftJobs, replaced, scratchDir, writeStackList } from "./workspace";

const tmp = scratchDir("keywire-workflow-rules-");

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
    const root = path.join(tmp(), "policy");
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
    fs.writeFileSync(
      file,
      BROKEN.replace("jobs:\n", "permissions:\n  contents: read\njobs:\n").replace(
        "    runs-on:",
        "    permissions:\n      contents: read\n      issues: write\n    runs-on:",
      ),
    );
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
    const root = copyOfRepository(tmp(), "copy");
    fs.writeFileSync(path.join(root, "stacks", "Pulumi.staging.yaml"), "config: {}\n");
    expect(checkKeywireWorkflows(root)).toEqual([`${STACK_LIST}: lists dev, prod, not every CI stack (dev, prod, staging)`]);
    // staging after prod, with SNS its stack file does not turn on.
    writeStackList(root, {
      workingDirectory: ".",
      stacks: [
        { stack: "dev", sns: true },
        { stack: "prod", sns: true },
        { stack: "staging", sns: true },
      ],
    });
    expect(checkKeywireWorkflows(root)).toEqual([
      `${STACK_LIST}: the last stack (deployed last) is staging, not prod`,
      `${STACK_LIST}: stack staging has "sns": true, but its stack file does not turn keywire:sns on`,
    ]);
    writeStackList(root, { workingDirectory: ".", stacks: [{ stack: "dev", sns: true }, { stack: "staging" }, { stack: "prod", sns: true }] });
    expect(checkKeywireWorkflows(root)).toEqual([]);
    expect(deployOrder(root)).toEqual(["dev", "staging", "prod"]);
  });

  test("a workflow that lists its stacks itself, or deploys them all at once, is caught", () => {
    const root = copyOfRepository(tmp(), "own-list");
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
    const root = copyOfRepository(tmp(), "keywire-calls");
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
    const root = copyOfRepository(tmp(), "pins");
    const preview = path.join(root, ".github", "workflows", "preview.yml");
    let text = fs.readFileSync(preview, "utf8");
    text = replaced(text, "actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2", "actions/checkout@v6");
    text = replaced(
      text,
      "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0",
      "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # latest",
    );
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
    fs.writeFileSync(
      setup,
      replaced(
        fs.readFileSync(setup, "utf8"),
        "actions/cache@cdf6c1fa76f9f475f3d7449005a359c84ca0f306 # v5.0.3",
        "actions/cache@cdf6c1fa76f9f475f3d7449005a359c84ca0f306",
      ),
    );
    expect(checkWorkflow(readYaml(path.join(root, ".github", "workflows", "deploy-stack.yml")), root)).toEqual([
      expect.stringMatching(/^\.github\/actions\/setup\/action\.yml:\d+: actions\/cache@cdf6c1fa76f9f475f3d7449005a359c84ca0f306 has no `# vX\.Y\.Z` comment/),
    ]);
  });

  test("a program in a subdirectory: the setup, previews and deployments get its directory; Dependabot updates its packages there", () => {
    const root = copyOfRepository(tmp(), "subdirectory");
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
    text = replaced(
      text,
      "        uses: ./.github/actions/setup\n        with:\n          working-directory: ${{ needs.stacks.outputs.working-directory }}\n",
      "        uses: ./.github/actions/setup\n",
    );
    fs.writeFileSync(preview, text);
    expect(checkWorkflow(readYaml(preview), root)).toEqual([
      ".github/workflows/preview.yml: preview: uses the setup action without `working-directory`: it installs the program's packages there",
      ".github/workflows/preview.yml: preview: runs pulumi/actions `command: preview` without `work-dir`: the program may live in a subdirectory",
    ]);
    writeStackList(root, {
      workingDirectory: "infra",
      stacks: [
        { stack: "dev", sns: true },
        { stack: "prod", sns: true },
      ],
    });
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
    const root = copyOfRepository(tmp(), `canary-${name}`);
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
    const found = violations("read-role", (t) =>
      t.replace(
        "role-to-assume: ${{ vars[format('AWS_CANARY_ROLE_ARN_{0}', matrix.key)] }}",
        "role-to-assume: ${{ vars[format('AWS_READ_ROLE_ARN_{0}', matrix.key)] }}",
      ),
    );
    expect(found).toEqual([
      "drift.yml: check: the canary publishes with ${{ vars[format('AWS_READ_ROLE_ARN_{0}', matrix.key)] }}, not a role of its own that may only publish to the topic",
    ]);
  });

  test("a canary in the report job, which edits issues, is caught", () => {
    const found = violations("in-report", (t) =>
      t.replace(
        `      - uses: ${NODE_PIN}\n`,
        `      - run: npx --no-install keywire canary --stack dev\n        shell: bash\n        working-directory: .\n      - uses: ${NODE_PIN}\n`,
      ),
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
    const root = copyOfRepository(tmp(), `recover-${name}`);
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
    const root = copyOfRepository(tmp(), "recover-missing");
    fs.rmSync(path.join(root, ".github", "workflows", "recover.yml"));
    expect(checkRecovery(root)).toEqual(["recover.yml is missing: nothing frees a stack a killed deployment left locked (docs/runbook.md, section 5)"]);
    expect(
      violations("on-push", "workflows/recover.yml", (t) =>
        replaced(t, "on:\n  workflow_dispatch:\n", "on:\n  push:\n    branches: [main]\n  workflow_dispatch:\n"),
      ),
    ).toEqual(["recover.yml: also runs on push; releasing a lock must be a person's decision, by hand"]);
  });

  test("a recovery outside the stack's environment or its group, with the read role, or for a stack the list does not pick, is caught", () => {
    expect(violations("no-environment", "workflows/recover.yml", (t) => replaced(t, "    environment: ${{ matrix.stack }}\n", ""))).toEqual([
      "recover.yml: recover: does not run in the stack's GitHub environment (its approvals, its AWS_ROLE_ARN)",
    ]);
    expect(
      violations("no-group", "workflows/recover.yml", (t) =>
        replaced(t, "    concurrency:\n      group: keywire-${{ matrix.stack }}\n      cancel-in-progress: false\n", ""),
      ),
    ).toEqual([
      ".github/workflows/recover.yml: recover: changes or checks a stack without `concurrency: { group: keywire-${{ matrix.stack }}, cancel-in-progress: false }`",
    ]);
    expect(
      violations("read-role", "workflows/recover.yml", (t) =>
        replaced(t, "role-to-assume: ${{ vars.AWS_ROLE_ARN }}", "role-to-assume: ${{ vars[format('AWS_READ_ROLE_ARN_{0}', matrix.key)] }}"),
      ),
    ).toEqual(["recover.yml: recover: does not assume the deploy role (the environment's AWS_ROLE_ARN) for a stack with SNS"]);
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
    expect(
      violations("refresh-always", "workflows/recover.yml", (t) =>
        replaced(t, 'if ! exported="$(pulumi stack export --stack "$STACK")"; then', 'if ! exported="$(pulumi stack ls --json)"; then'),
      ),
    ).toEqual(["recover.yml: recover: the refresh does not depend on the pending operations `pulumi stack export` shows"]);
  });

  test("a deploy job that reports nothing when it stops, only on failure, or without pointing at the recovery, is caught", () => {
    const expected =
      "deploy-stack.yml: up: its last step does not report the stack's lock and pending operations when the deployment fails or is cancelled (`if: ${{ failure() || cancelled() }}`, uses: ./.github/actions/stack-status)";
    expect(violations("failure-only", "workflows/deploy-stack.yml", (t) => replaced(t, "if: ${{ failure() || cancelled() }}", "if: ${{ failure() }}"))).toEqual(
      [expected],
    );
    expect(violations("no-report", "workflows/deploy-stack.yml", (t) => t.slice(0, t.indexOf("      # A killed `up` leaves")))).toEqual([expected]);
    expect(violations("no-pointer", "workflows/deploy-stack.yml", (t) => replaced(t, "/actions/workflows/recover.yml", "/actions"))).toEqual([
      "deploy-stack.yml: up: the status step does not point at recover.yml and keywire's runbook, section 5, when the stack is left locked or with pending operations",
    ]);
  });
});
