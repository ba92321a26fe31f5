/**
 * keywire's rules for a deployment that stopped part-way (docs/runbook.md, section 5),
 * beside the other workflow rules in workflowPolicy.ts.
 */
import * as fs from "fs";
import * as path from "path";
import {
  type Step,
  STACK_LIST,
  STACKS_WORKFLOW,
  isAws,
  isMapping,
  isSetup,
  jobsOf,
  localAction,
  pulumiCalls,
  readYaml,
  stacksSource,
  stepsOf,
  str,
  toStep,
  triggers,
  writesState,
} from "./workflowModel";

/** The shared action that writes a stack's lock and pending operations to the job summary. */
const STATUS_ACTION = "./.github/actions/stack-status";
const isStatus = (s: Step): boolean => s.uses === STATUS_ACTION;

/**
 * After a killed deployment (docs/runbook.md, section 5): deploy-stack.yml's last step,
 * on failure or cancellation, reports the stack's lock and pending operations and points
 * at recover.yml and the runbook; recover.yml runs only by hand, for one stack of the
 * stack list, in that stack's environment with the deploy role, and in the program's
 * directory reports the status, runs `pulumi cancel`, then `pulumi stack export` and
 * `pulumi refresh --clear-pending-creates` (the script refreshes only when the export
 * shows pending operations), and reports the status again.
 */
export function checkRecovery(root: string): string[] {
  const out: string[] = [];
  const wfDir = path.join(root, ".github", "workflows");
  const status = localAction(root, STATUS_ACTION);
  if (!status) out.push(`${STATUS_ACTION.slice(2)}/action.yml is missing: nothing reports what a stopped deployment left`);
  else {
    const steps = stepsOf({ steps: isMapping(status.doc.runs) ? status.doc.runs.steps : [] }, root, "stack-status");
    const calls = steps.flatMap(pulumiCalls);
    if (!calls.includes("stack export") || !steps.some((s) => /\$GITHUB_STEP_SUMMARY/.test(s.run)))
      out.push("stack-status action: does not write the stack's pending operations (`pulumi stack export`) to the job summary");
    if (steps.some(writesState)) out.push("stack-status action: changes the stack; it may only read");
  }

  const deployStackFile = path.join(wfDir, "deploy-stack.yml");
  if (fs.existsSync(deployStackFile)) {
    for (const [id, job] of jobsOf(readYaml(deployStackFile))) {
      const raw = Array.isArray(job.steps) ? job.steps.filter(isMapping) : [];
      const last = raw.length > 0 ? toStep(raw[raw.length - 1], "deploy-stack.yml") : undefined;
      const onStop = last !== undefined && /\bfailure\(\)/.test(last.if) && /\bcancelled\(\)/.test(last.if) && !/\bsuccess\(\)|\balways\(\)/.test(last.if);
      if (!last || !isStatus(last) || !onStop) {
        out.push(
          `deploy-stack.yml: ${id}: its last step does not report the stack's lock and pending operations when the deployment fails or is cancelled (\`if: \${{ failure() || cancelled() }}\`, uses: ${STATUS_ACTION})`,
        );
        continue;
      }
      if (str(last.with.stack) !== "${{ inputs.stack }}" || str(last.with["working-directory"]) !== "${{ inputs.working-directory }}")
        out.push(`deploy-stack.yml: ${id}: the status step is not of \${{ inputs.stack }} in \${{ inputs.working-directory }}`);
      const advice = str(last.with["when-stuck"]);
      if (!advice.includes("recover.yml") || !/runbook/.test(advice) || !/section 5/.test(advice))
        out.push(
          `deploy-stack.yml: ${id}: the status step does not point at recover.yml and keywire's runbook, section 5, when the stack is left locked or with pending operations`,
        );
    }
  }

  const file = path.join(wfDir, "recover.yml");
  if (!fs.existsSync(file)) return [...out, "recover.yml is missing: nothing frees a stack a killed deployment left locked (docs/runbook.md, section 5)"];
  const wf = readYaml(file);
  const on = triggers(wf);
  const dispatch = on.workflow_dispatch;
  const input = isMapping(dispatch) && isMapping(dispatch.inputs) && isMapping(dispatch.inputs.stack) ? dispatch.inputs.stack : undefined;
  if (!input || input.required !== true) out.push("recover.yml: does not run by hand (`workflow_dispatch`) with a required `stack` input");
  const others = Object.keys(on).filter((t) => t !== "workflow_dispatch");
  if (others.length > 0) out.push(`recover.yml: also runs on ${others.join(", ")}; releasing a lock must be a person's decision, by hand`);
  const jobs = jobsOf(wf);
  const picked = jobs.find(([, j]) => str(j.uses) === STACKS_WORKFLOW && isMapping(j.with) && str(j.with.stack) === "${{ inputs.stack }}");
  if (!picked) out.push(`recover.yml: does not pick the stack from ${STACK_LIST} (a job calling stacks.yml with \`stack: \${{ inputs.stack }}\`)`);
  const recoveries = jobs.filter(([, j]) => stepsOf(j, root, "recover.yml").some((s) => pulumiCalls(s).includes("cancel")));
  if (recoveries.length !== 1) return [...out, "recover.yml: needs one job running `pulumi cancel`"];
  const [id, job] = recoveries[0];
  const where = `recover.yml: ${id}`;
  const source = stacksSource(wf, job);
  if (source === undefined || (picked && source !== picked[0]))
    out.push(`${where}: its matrix is not the picked stack's (\`matrix: \${{ fromJSON(needs.<stacks>.outputs.matrix) }}\` of the job that picks it)`);
  const env = isMapping(job.environment) ? str(job.environment.name) : str(job.environment);
  if (env !== "${{ matrix.stack }}") out.push(`${where}: does not run in the stack's GitHub environment (its approvals, its AWS_ROLE_ARN)`);
  const steps = stepsOf(job, root, "recover.yml");
  const programDir = source === undefined ? "" : `\${{ needs.${source}.outputs.working-directory }}`;
  if (!steps.some((s) => isSetup(s) && str(s.with["working-directory"]) === programDir))
    out.push(`${where}: does not use the setup action for the program's directory`);
  const aws = steps.find(isAws);
  if (!aws || str(aws.with["role-to-assume"]) !== "${{ vars.AWS_ROLE_ARN }}")
    out.push(`${where}: does not assume the deploy role (the environment's AWS_ROLE_ARN) for a stack with SNS`);

  const own = (job.steps as unknown[]).filter(isMapping);
  const at = (match: (s: Step) => boolean): number => own.findIndex((raw) => match(toStep(raw, "recover.yml")));
  const stackEnv = (i: number): string => (isMapping(own[i].env) ? str(own[i].env.STACK) : "");
  const cancel = at((s) => /\bpulumi cancel --yes --stack "\$STACK"/.test(s.run));
  const refresh = at((s) => /\bpulumi refresh --yes --clear-pending-creates --stack "\$STACK"/.test(s.run));
  const before = at(isStatus);
  if (cancel < 0) out.push(`${where}: no step runs \`pulumi cancel --yes --stack "$STACK"\``);
  if (refresh < 0) out.push(`${where}: no step runs \`pulumi refresh --yes --clear-pending-creates --stack "$STACK"\``);
  else if (cancel >= 0 && refresh < cancel) out.push(`${where}: refreshes before the lock is released`);
  else if (!/pulumi stack export --stack "\$STACK"[\s\S]*pending_operations[\s\S]*pulumi refresh/.test(toStep(own[refresh], "recover.yml").run))
    out.push(`${where}: the refresh does not depend on the pending operations \`pulumi stack export\` shows`);
  for (const i of [cancel, refresh].filter((n) => n >= 0)) {
    if (stackEnv(i) !== "${{ matrix.stack }}") out.push(`${where}: step ${i + 1}: its STACK is not \${{ matrix.stack }}`);
    if (str(own[i]["working-directory"]) !== programDir)
      out.push(`${where}: step ${i + 1}: does not run in the program's directory (${programDir || "the stacks workflow's working-directory"})`);
  }
  if (before < 0 || (cancel >= 0 && before > cancel))
    out.push(`${where}: does not report the stack's lock and pending operations (${STATUS_ACTION}) before it releases the stack`);
  if (!steps.some((s) => /\$GITHUB_STEP_SUMMARY/.test(s.run))) out.push(`${where}: writes nothing to the job summary`);
  return out;
}
