/**
 * The crash matrix (test/e2e/crashMatrix*.test.ts): keywire's `local` stack through the
 * real engine, a run killed with SIGKILL right after the instance committed a given
 * write (support/crashRun.ts), then the commands docs/runbook.md section 5 gives, then a
 * judgement of what the instance and the state hold. Each file runs its cases on one
 * emulator and one stack, and prints a line per case and a closing
 * "crash matrix (<part>): N tried, M survived", as the fault matrix does.
 */
import * as fs from "fs";
import * as path from "path";
import type { GlideRecord, RunningEmulator } from "../../emulator/servicenow";
import { LOCAL_STACK, LocalStack, createLocalStack } from "./localStack";
import { PULUMI_SETUP_TIMEOUT_MS, PulumiToolchain, RunPulumiResult, ensurePulumi } from "./pulumiCli";
import { startEmulator } from "./serviceNow";
import { InstanceGate, Moment, startInstanceGate, type Exchange } from "./instanceGate";
import { CrashedRun, KillScope, crashAt } from "./crashRun";

/** What the local stack names (stacks/Pulumi.local.yaml). */
export const KEY_NAME = "keywire-local event management";
export const INTEGRATION_USER = "svc.keywire.events";
const TYPE_PREFIX = "pulumi-nodejs:dynamic/keywire/servicenow:";

/** The record resources of the local stack, by type: the table each writes, and what makes a record of it unique there. */
const RECORD_TYPES: Record<string, { table: string; key: (r: GlideRecord) => string }> = {
  ServiceNowUser: { table: "sys_user", key: (r) => r.user_name },
  UserRoleGrant: { table: "sys_user_has_role", key: (r) => `${r.user} ${r.role}` },
  InboundProfile: { table: "http_key_auth", key: (r) => r.name },
  AccessPolicy: { table: "sys_api_access_policy", key: (r) => r.name },
  AccessPolicyProfileLink: { table: "sys_auth_profile_mapping", key: (r) => `${r.api_access_policy} ${r.inbound_auth_profile}` },
  RateLimitRule: { table: "sys_rate_limit_rules", key: (r) => r.name },
  ApiKey: { table: "api_key", key: (r) => r.name },
  PushConnector: { table: "sn_em_connector_push_instance", key: (r) => r.name },
};
const TABLES = [...new Set(Object.values(RECORD_TYPES).map((t) => t.table))];

/** The record resources the local stack declares, by resource name: each exactly once in a deployed state. */
const DECLARED = [
  "keywire-user",
  "keywire-role-evt_mgmt_integration",
  "keywire-role-itil",
  "keywire-profile",
  "keywire-table-get",
  "keywire-table-post",
  "keywire-event-api",
  "keywire-link-event-api",
  "keywire-link-table-get",
  "keywire-link-table-post",
  "keywire-rate-limit",
  "keywire-key",
  "keywire-push-connector",
].sort();

/** The instance before the stack: each table's sys_ids, and each record's `active` (adopted shipped records are restored on destroy). */
export interface Baseline {
  ids: Map<string, Set<string>>;
  active: Map<string, string>;
}

function baselineOf(emu: RunningEmulator): Baseline {
  const ids = new Map<string, Set<string>>();
  const active = new Map<string, string>();
  for (const table of TABLES) {
    const rows = emu.store.query(table);
    ids.set(table, new Set(rows.map((r) => r.sys_id)));
    for (const r of rows) active.set(`${table}/${r.sys_id}`, r.active ?? "");
  }
  return { ids, active };
}

interface StateResource {
  urn: string;
  type: string;
  id?: string;
  /** A replaced resource still to be deleted. */
  delete?: boolean;
}

export interface StackState {
  resources: StateResource[];
  /** "<type> <resource name>", e.g. "creating keywire-key". */
  pending: string[];
}

const nameOf = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

export async function stackState(stack: LocalStack): Promise<StackState> {
  const res = await stack.run(["stack", "export"]);
  if (res.code !== 0) fail("pulumi stack export", res);
  const d = (JSON.parse(res.stdout) as { deployment: { resources?: StateResource[]; pending_operations?: { type: string; resource: { urn: string } }[] } })
    .deployment;
  return {
    resources: d.resources ?? [],
    pending: (d.pending_operations ?? []).map((op) => `${op.type} ${nameOf(op.resource.urn)}`),
  };
}

function fail(step: string, res: RunPulumiResult): never {
  throw new Error(`${step} exited ${res.code}${res.timedOut ? " (timed out)" : ""}\n${res.stdout.slice(-4000)}\n${res.stderr.slice(-3000)}`);
}

/** What recovery did, in order: each step as a user types it (without `--stack`, `--yes`, `--skip-preview`). */
interface Recovery {
  /** Every step: the pulumi commands, and an empty `.attrs` sidecar removed ("rm <file> (empty)"). */
  steps: string[];
  /** The pulumi commands alone. */
  commands: string[];
  /** What each command printed. */
  printed: Record<string, string>;
}

/**
 * docs/runbook.md section 5 after a killed `up` (`finish: "up"`) or a killed `destroy`
 * (`finish: "destroy"`). "On a laptop" (`order: "laptop"`): remove an empty `.attrs`
 * sidecar (step 2), release the lock if the killed run holds it (step 3), finish the run
 * (step 4: `up --refresh`, or `destroy` again), and drop a pending create where the state
 * keeps one (step 5). "In CI" (`order: "ci"`): the recover workflow's steps 3 and 5, then
 * the deploy job's rerun (step 4); step 2 too, since the stack here is on a file backend.
 * Step 1, that the killed run is gone, is crashAt's.
 */
async function recover(stack: LocalStack, finish: "up" | "destroy", order: "laptop" | "ci" = "laptop"): Promise<Recovery> {
  const done: Recovery = { steps: [], commands: [], printed: {} };
  const step = async (name: string, args: string[]): Promise<void> => {
    const res = await stack.run(args);
    if (res.code !== 0) fail(`pulumi ${name}`, res);
    done.steps.push(name);
    done.commands.push(name);
    done.printed[name] = `${res.stdout}\n${res.stderr}`;
  };
  const dropPendingCreates = async (): Promise<void> => {
    if ((await stackState(stack)).pending.length > 0) await step("refresh --clear-pending-creates", ["refresh", "--yes", "--clear-pending-creates"]);
  };
  const pulumiDir = path.join(stack.backend.dir, "state", ".pulumi");
  for (const file of walk(pulumiDir)) {
    if (file.endsWith(".attrs") && fs.statSync(file).size === 0) {
      fs.rmSync(file);
      done.steps.push(`rm ${path.basename(file)} (empty)`);
    }
  }
  if (walk(path.join(pulumiDir, "locks")).length > 0) {
    await step("cancel", ["cancel", "--yes"]);
    if (!done.printed.cancel.includes(`The currently running update for '${LOCAL_STACK}' has been canceled!`))
      throw new Error(`pulumi cancel said:\n${done.printed.cancel}`);
  }
  if (order === "ci") await dropPendingCreates();
  if (finish === "up") await step("up --refresh", ["up", "--refresh", "--yes", "--skip-preview"]);
  else await step("destroy", ["destroy", "--yes", "--skip-preview"]);
  if (order === "laptop") await dropPendingCreates();
  return done;
}

/** The runbook's commands after a run killed mid-create: release the lock, finish the run, drop the pending create. */
export const AFTER_A_KILLED_CREATE = ["cancel", "up --refresh", "refresh --clear-pending-creates"];

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** `pulumi stack output --json --show-secrets` of the stack. */
export async function outputsOf(stack: LocalStack): Promise<Record<string, unknown>> {
  const res = await stack.run(["stack", "output", "--json", "--show-secrets"]);
  if (res.code !== 0) fail("pulumi stack output", res);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

/** Whether the instance answers a Table API GET authenticated only by `token` in `x-sn-apikey` with 200. */
async function authenticates(emu: RunningEmulator, token: string): Promise<boolean> {
  const q = new URLSearchParams({ sysparm_limit: "1", "x-sn-apikey": token });
  const res = await fetch(`${emu.url}/api/now/table/sys_user?${q.toString()}`, { signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/** What the stack looks like from its side: its state, and for a deployed stack its outputs and the drift check's exit code. */
export interface StackView {
  state: StackState;
  outputs?: Record<string, unknown>;
  driftExit?: number | null;
  driftPrinted?: string;
}

/**
 * What is wrong with a stack that should be deployed as declared, or (`destroyed`) gone
 * without a trace; [] when it converged. Either way: no pending operation, and nothing
 * new in the tables the stack writes that the state does not hold (no owner would ever
 * delete it). Deployed: the state holds each declared record once; each of its records is
 * on the instance once (no duplicate of a name or pair the stack uses); exactly one active
 * key for the integration user, the state's, proven (`verified`), whose token from
 * `inboundEndpoint` is the key's and authenticates a Table API GET; the drift check is
 * clean. Destroyed: the state is empty, and the records that were there before the stack
 * are there, as active as they were.
 */
export async function problemsOf(emu: RunningEmulator, base: Baseline, view: StackView, expected: "deployed" | "destroyed"): Promise<string[]> {
  const problems: string[] = [];
  const { state } = view;
  if (state.pending.length > 0) problems.push(`pending operations left in the state: ${state.pending.join(", ")}`);
  const records = state.resources.flatMap((r) => {
    const t = r.type.startsWith(TYPE_PREFIX) ? RECORD_TYPES[r.type.slice(TYPE_PREFIX.length)] : undefined;
    return t ? [{ ...r, name: nameOf(r.urn), ...t }] : [];
  });
  const held = new Set(records.map((r) => `${r.table}/${r.id ?? ""}`));
  for (const table of TABLES) {
    const before = base.ids.get(table) ?? new Set<string>();
    for (const row of emu.store.query(table)) {
      if (!before.has(row.sys_id) && !held.has(`${table}/${row.sys_id}`))
        problems.push(`${table} ${row.sys_id} (${uniqueKey(table, row)}) is on the instance, and no state holds it`);
    }
  }
  if (expected === "destroyed") {
    if (state.resources.length > 0) problems.push(`the state still holds ${state.resources.map((r) => nameOf(r.urn)).join(", ")}`);
    for (const [at, active] of base.active) {
      const [table, id] = at.split("/");
      const row = emu.store.get(table, id);
      if (!row) problems.push(`${at}, there before the stack, is gone`);
      else if ((row.active ?? "") !== active) problems.push(`${at}: active is ${row.active}, was ${active} before the stack`);
    }
    return problems;
  }
  const names = records.map((r) => r.name).sort();
  if (JSON.stringify(names) !== JSON.stringify(DECLARED))
    problems.push(`the state's records are [${names.join(", ")}], not the declared [${DECLARED.join(", ")}]`);
  for (const r of records) {
    const row = r.id === undefined ? undefined : emu.store.get(r.table, r.id);
    if (!row) {
      problems.push(`${r.name}: the state's ${r.table} ${r.id ?? "(no id)"} is not on the instance`);
      continue;
    }
    const same = emu.store.query(r.table, (x) => r.key(x) === r.key(row));
    if (same.length !== 1) problems.push(`${r.name}: ${same.length} ${r.table} records for "${r.key(row)}"`);
  }
  const users = emu.store.query("sys_user", (u) => u.user_name === INTEGRATION_USER);
  const activeKeys = emu.store.query("api_key", (k) => users.some((u) => u.sys_id === k.user) && k.active === "true");
  const out = view.outputs ?? {};
  const keyId = String(out.apiKeySysId);
  if (activeKeys.map((k) => k.sys_id).join() !== keyId) {
    problems.push(`active keys of ${INTEGRATION_USER}: [${activeKeys.map((k) => `${k.name} ${k.sys_id}`).join(", ")}], not the stack's ${keyId} alone`);
  }
  if (out.verified !== true) problems.push(`verified is ${String(out.verified)}`);
  const endpoint = typeof out.inboundEndpoint === "string" ? out.inboundEndpoint : "";
  const token = URL.canParse(endpoint) ? (new URL(endpoint).searchParams.get("x-sn-apikey") ?? "") : "";
  if (token === "" || token !== emu.tokenOf(keyId)) problems.push("the token in inboundEndpoint is not the key's");
  else if (!(await authenticates(emu, token))) problems.push("the token in inboundEndpoint does not authenticate a Table API GET");
  if (view.driftExit !== 0)
    problems.push(`the drift check (preview --refresh --expect-no-changes) exited ${String(view.driftExit)}: ${(view.driftPrinted ?? "").slice(-2000)}`);
  return problems;
}

/** What makes `row` unique in `table`, for messages. */
function uniqueKey(table: string, row: GlideRecord): string {
  const t = Object.values(RECORD_TYPES).find((x) => x.table === table);
  return t ? t.key(row) : "";
}

/** problemsOf, with the stack's view taken through the CLI (the drift check only for a deployed stack: a destroyed one declares what it would create). */
export async function judge(emu: RunningEmulator, stack: LocalStack, base: Baseline, expected: "deployed" | "destroyed"): Promise<string[]> {
  const view: StackView = { state: await stackState(stack) };
  if (expected === "deployed") {
    view.outputs = await outputsOf(stack);
    const drift = await stack.run(["preview", "--refresh", "--expect-no-changes"]);
    view.driftExit = drift.code;
    view.driftPrinted = `${drift.stdout}\n${drift.stderr}`;
  }
  return problemsOf(emu, base, view, expected);
}

/** Whether the instance holds what the exchange reports: the record a POST created, no record where a DELETE removed one. */
function committed(emu: RunningEmulator, x: Exchange): boolean {
  if (x.table !== undefined && x.method === "POST") {
    const id = (JSON.parse(x.body) as { result?: { sys_id?: string } }).result?.sys_id;
    return id !== undefined && emu.store.get(x.table, id) !== undefined;
  }
  if (x.table !== undefined && x.method === "DELETE") return x.sysId !== undefined && emu.store.get(x.table, x.sysId) === undefined;
  return x.status >= 200 && x.status < 300;
}

/** A write the instance committed: `method` on `table` (on the record `sysId`, where given), answered 2xx. */
export function wrote(method: "POST" | "PATCH" | "DELETE", table: string, sysId?: string): Moment {
  return (x) => x.method === method && x.table === table && (sysId === undefined || x.sysId === sysId) && x.status >= 200 && x.status < 300;
}

/** A key's probe answered: a Table API GET authenticated by an API key, which the instance accepted. */
export const probeAnswered: Moment = (x) => x.method === "GET" && x.table !== undefined && x.query.has("x-sn-apikey") && x.status === 200;

/** One file's part of the matrix: its emulator, the gate before it, its stack, and the cases it ran. */
export interface Matrix {
  emu: RunningEmulator;
  gate: InstanceGate;
  stack: LocalStack;
  tc: PulumiToolchain;
  base: Baseline;
  lines: string[];
  survived: number;
}

/**
 * Sets a part up for its file: an emulator that reveals tokens over the API (a key is proven
 * without a person's step), the gate before it, and a configured stack that names the gate.
 * Prints the part's lines and its closing line when the file ends.
 */
export function setUpMatrix(part: string): { matrix: () => Matrix } {
  let m: Matrix | undefined;
  beforeAll(async () => {
    const tc = await ensurePulumi();
    const emu = await startEmulator({ tokenReadback: "input_display_value" });
    const gate = await startInstanceGate(emu.url);
    const stack = await createLocalStack(`crash-${part.replace(/\W+/g, "-")}`, gate.url);
    m = { emu, gate, stack, tc, base: baselineOf(emu), lines: [], survived: 0 };
  }, PULUMI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    if (!m) return;
    process.stdout.write(`\n${m.lines.join("\n")}\ncrash matrix (${part}): ${m.lines.length} tried, ${m.survived} survived\n`);
    await m.gate.close();
    await m.emu.stop();
    m.stack.cleanup();
  });
  return {
    matrix: () => {
      if (!m) throw new Error("the crash matrix was not set up");
      return m;
    },
  };
}

export interface CrashCase {
  name: string;
  /** The run that is killed: `up`, or `destroy`. */
  run: "up" | "destroy";
  moment: Moment;
  scope: KillScope;
  /** Whose steps recover the stack: the runbook's "On a laptop" (default) or "In CI". */
  recovery?: "laptop" | "ci";
}

export interface CaseOutcome {
  problems: string[];
  recovery?: Recovery;
}

/**
 * A case on the matrix's stack: the run killed at its moment, the runbook's recovery, the
 * judgement. Records the case's line; `problems` is [] when it survived.
 */
export async function runCase(m: Matrix, c: CrashCase): Promise<CaseOutcome> {
  const problems: string[] = [];
  let recovery: Recovery | undefined;
  let crash: CrashedRun | undefined;
  try {
    crash = await crashAt(m.tc, m.stack, m.gate, [c.run, "--yes", "--skip-preview"], c.moment, c.scope);
    if (!committed(m.emu, crash.moment))
      problems.push(`the instance does not hold what ${crash.moment.method} ${crash.moment.table ?? crash.moment.path} answered`);
    if (crash.leftAlive.length > 0) problems.push(`left alive after the kill: ${crash.leftAlive.map((p) => p.cmdline).join("; ")}`);
    recovery = await recover(m.stack, c.run, c.recovery ?? "laptop");
    problems.push(...(await judge(m.emu, m.stack, m.base, c.run === "up" ? "deployed" : "destroyed")));
  } catch (err) {
    problems.push((err as Error).message.slice(0, 6000));
  }
  const at = crash ? `${crash.moment.method} ${crash.moment.table ?? crash.moment.path} ${crash.moment.status}` : "never reached";
  const kill = c.scope === "group" ? "CLI, host and providers" : "CLI alone";
  const by = c.recovery === "ci" ? " (as CI recovers)" : "";
  const survived = problems.length === 0;
  if (survived) m.survived++;
  m.lines.push(
    `${survived ? "survived" : "FAILED  "} ${c.name} [killed: ${kill}, after ${at}; then${by} ${recovery?.steps.join(", ") ?? "-"}]` +
      (survived ? "" : `\n    ${problems.join("\n    ")}`),
  );
  return { problems, ...(recovery ? { recovery } : {}) };
}

/** `pulumi <args>` of the matrix's stack, which must succeed. */
export async function ok(m: Matrix, args: string[]): Promise<RunPulumiResult> {
  const res = await m.stack.run(args);
  if (res.code !== 0) fail(`pulumi ${args.join(" ")}`, res);
  return res;
}
