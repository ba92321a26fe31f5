/**
 * docs/runbook.md, "A deployment was killed", step by step through the real engine: a
 * `pulumi up` of the local stack (file backend) whose CLI is SIGKILLed while the API
 * key's create is on the wire, then what the next commands say and what repairs the
 * stack: the lock and `pulumi cancel`, the pending create and `--clear-pending-creates`,
 * and an empty `.attrs` sidecar beside the checkpoint.
 *
 * The steps build on each other, so they run in order in one file.
 */
import * as fs from "fs";
import * as path from "path";
import type { RunningEmulator } from "../../emulator/servicenow";
import { LOCAL_STACK, LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS, RunPulumiResult, ensurePulumi } from "../support/pulumiCli";
import { startEmulator } from "../support/serviceNow";
import { LATENCY_MS, upKilledAtKeyCreate } from "../support/killedRun";

jest.setTimeout(5 * 60_000);

const KEY_URN = "urn:pulumi:local::keywire::keywire:servicenow:ApiKeyAuth$pulumi-nodejs:dynamic/keywire/servicenow:ApiKey::keywire-key";
/** The pending creates the kill left, as `pulumi cancel` found them. */
let pendingAtKill: string[] = [];
const KEY_NAME = "keywire-local event management";

let emu: RunningEmulator;
let stack: LocalStack;

async function run(args: string[]): Promise<RunPulumiResult & { output: string }> {
  const res = await stack.run(args, 3 * 60_000);
  return { ...res, output: `${res.stdout}\n${res.stderr}` };
}

/** The pending operations the stack's state records, as "<type> <urn>". */
async function pendingOperations(): Promise<string[]> {
  const res = await run(["stack", "export"]);
  expect(res.code).toBe(0);
  const state = JSON.parse(res.stdout) as { deployment: { pending_operations?: { type: string; resource: { urn: string } }[] } };
  return (state.deployment.pending_operations ?? []).map((op) => `${op.type} ${op.resource.urn}`);
}

beforeAll(async () => {
  const tc = await ensurePulumi();
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  stack = await createLocalStack("killed-recovery", emu.url);
  emu.setFaults({ latencyMs: LATENCY_MS });
  const killed = await upKilledAtKeyCreate(tc, emu, stack, {});
  expect(killed.leftAlive).toEqual([]);
  emu.setFaults({});
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  stack?.cleanup();
});

test("the killed run's lock refuses up and refresh, and names `pulumi cancel`; preview still runs", async () => {
  for (const args of [
    ["up", "--yes", "--skip-preview"],
    ["refresh", "--yes"],
  ]) {
    const res = await run(args);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
    );
    expect(res.stderr).toMatch(/\.pulumi\/locks\/organization\/keywire\/local\/[0-9a-f-]+\.json\?no_tmp_dir=true: created by .+ \(pid \d+\) at /);
  }
  expect((await run(["preview"])).code).toBe(0);
});

test("pulumi cancel removes the lock; the interrupted create is a pending operation", async () => {
  const res = await run(["cancel", "--yes"]);
  expect(res.code).toBe(0);
  expect(res.stdout).toContain(`The currently running update for '${LOCAL_STACK}' has been canceled!`);
  // The key's create, and any other create in flight at that moment (the rate limit's runs beside it).
  pendingAtKill = await pendingOperations();
  expect(pendingAtKill).toContain(`creating ${KEY_URN}`);
  for (const op of pendingAtKill) expect(op).toMatch(/^creating urn:/);
});

test("the next up warns of the pending create, creates the key again and succeeds; the pending operation stays", async () => {
  const res = await run(["up", "--yes", "--skip-preview"]);
  expect(res.code).toBe(0);
  expect(res.stdout).toContain(`warning: Attempting to deploy or update resources with ${pendingAtKill.length} pending operations from previous deployment.`);
  expect(res.stdout).toContain(`* ${KEY_URN}, interrupted while creating`);
  expect(res.stdout).toContain("Note that `pulumi refresh` will need to be run interactively to clear pending CREATE operations.");
  // The key and its verification, and each other create the kill cut off.
  expect(res.stdout).toContain(`+ ${pendingAtKill.length + 1} created`);
  // One key on the instance: the one the state holds.
  const outputs = JSON.parse((await run(["stack", "output", "--json"])).stdout) as { apiKeySysId: string };
  expect(emu.store.query("api_key", (r) => r.name === KEY_NAME).map((r) => r.sys_id)).toEqual([outputs.apiKeySysId]);
  // A non-interactive refresh leaves it, and every later up warns again.
  expect((await run(["refresh", "--yes"])).code).toBe(0);
  expect(await pendingOperations()).toEqual(pendingAtKill);
});

test("refresh --clear-pending-creates drops it from the state, and the next up is quiet", async () => {
  expect((await run(["refresh", "--yes", "--clear-pending-creates"])).code).toBe(0);
  expect(await pendingOperations()).toEqual([]);
  const res = await run(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
  expect(res.code).toBe(0);
  expect(res.stdout).not.toContain("pending operations");
});

test("--import-pending-creates takes the URN and the ID as two values, not one", async () => {
  const res = await run(["refresh", "--yes", "--import-pending-creates", `${KEY_URN},0123`]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain("each URN must be followed by an ID: found an odd number of entries");
});

test("an empty .attrs beside the checkpoint fails every command with EOF until it is removed", async () => {
  const attrs = path.join(stack.backend.dir, "state", ".pulumi", "stacks", "keywire", `${LOCAL_STACK}.json.attrs`);
  expect(fs.statSync(attrs).size).toBeGreaterThan(0);
  fs.truncateSync(attrs, 0);
  for (const args of [
    ["stack", "output"],
    ["cancel", "--yes"],
    ["up", "--yes", "--skip-preview"],
  ]) {
    const res = await run(args);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("error: failed to load checkpoint: EOF");
  }
  expect((await run(["stack", "ls"])).stderr).toContain("error: EOF");
  fs.rmSync(attrs);
  expect((await run(["up", "--yes", "--skip-preview", "--expect-no-changes"])).code).toBe(0);
});
