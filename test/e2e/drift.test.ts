/**
 * The drift check through the real engine, against the in-process emulator: one
 * change on the instance is one item, named by resource and property with the
 * instance's value and what `pulumi up --refresh` will do; nothing that merely
 * follows it is listed. The check is the code path of `npm run drift`:
 * buildDriftReport on `pulumi preview --refresh --expect-no-changes --json`.
 */
import { RunningEmulator } from "../../emulator/servicenow";
import { DriftReport, PreviewJson, buildDriftReport, formatDriftText } from "../../scripts/drift/driftReport";
import { DRIFT_EXIT, driftExitCode } from "../../scripts/drift/exitCodes";
import { LOCAL_STACK, LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS } from "../support/pulumiCli";
import { startEmulator } from "../support/serviceNow";
import { addForeignEventPolicy } from "../support/foreignPolicy";

jest.setTimeout(5 * 60_000);

let emu: RunningEmulator;
let stack: LocalStack;

async function ok(args: string[]) {
  const res = await stack.run(args);
  if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`);
  return res;
}

/** `npm run drift`'s check: the preview, its exit code, and the report built from its JSON. */
async function driftCheck(): Promise<{ code: number; report: DriftReport }> {
  const res = await stack.run(["preview", "--refresh", "--expect-no-changes", "--json"]);
  const code = driftExitCode(res.code ?? 1, true);
  if (code !== DRIFT_EXIT.clean && code !== DRIFT_EXIT.drift) throw new Error(`preview exited ${res.code}\n${res.stderr.slice(-3000)}`);
  return { code, report: buildDriftReport(LOCAL_STACK, JSON.parse(res.stdout) as PreviewJson) };
}

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  stack = await createLocalStack("drift", emu.url);
  await ok(["up", "--yes", "--skip-preview"]);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  stack?.cleanup();
});

test("a deployed stack is clean", async () => {
  const clean = await driftCheck();
  expect(clean.code).toBe(DRIFT_EXIT.clean);
  expect(clean.report.items).toEqual([]);
});

test("a profile deactivated on the instance is that one change, active true → false, and nothing else; up --refresh repairs it", async () => {
  const outputs = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, unknown>;
  const profileId = String(outputs.inboundProfileSysId);
  // The program leaves `active` at its default: it is not among the inputs it gives.
  emu.store.update("http_key_auth", profileId, { active: "false" });

  const drifted = await driftCheck();
  expect(drifted.code).toBe(DRIFT_EXIT.drift);
  expect(drifted.report.items.map((i) => ({ resource: i.resource, action: i.action, properties: i.properties, fix: i.fix }))).toEqual([
    {
      resource: "InboundProfile keywire-profile",
      action: "update",
      properties: [{ property: "active", expected: true, actual: false, source: "instance" }],
      fix: "set active back to true",
    },
  ]);
  // The chain check's diagnosis is told with the change that explains it.
  expect(drifted.report.items[0].breaks).toMatch(/^the inbound profile "keywire-local api key \(query parameter\)" is inactive/);
  expect(formatDriftText(drifted.report)).toContain(
    "- InboundProfile keywire-profile: active changed on the instance → pulumi up --refresh will set active back to true",
  );

  await ok(["up", "--refresh", "--yes", "--skip-preview"]);
  expect(emu.store.get("http_key_auth", profileId)?.active).toBe("true");
  const repaired = await driftCheck();
  expect(repaired.code).toBe(DRIFT_EXIT.clean);
  expect(repaired.report.items).toEqual([]);
});

test("a foreign, more specific Event Management policy is one drift item naming it; up fails on it and says verified false; removing it repairs the chain", async () => {
  const outputs = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, unknown>;
  expect(outputs.verified).toBe(true);
  const added = addForeignEventPolicy(emu);
  const foreign = emu.store.get("sys_api_access_policy", added.policy)!;

  const drifted = await driftCheck();
  expect(drifted.code).toBe(DRIFT_EXIT.drift);
  expect(drifted.report.items).toHaveLength(1);
  const [item] = drifted.report.items;
  expect(item.resource).toBe("ApiKeyVerification keywire-verification");
  expect(item.summary).toContain(`"Events: POST from the monitoring team" (sys_id ${foreign.sys_id})`);
  expect(item.link).toEqual({ id: "link.event", since: foreign.sys_updated_on, run: expect.stringContaining("pulumi up --refresh") });

  // keywire cannot repair another team's policy: the up stops, names it once, and the stack says so.
  const failed = await stack.run(["up", "--refresh", "--yes", "--skip-preview"]);
  expect(failed.code).not.toBe(0);
  const said = failed.stdout + failed.stderr;
  // One diagnostic, under the verification, without a JavaScript stack (the engine lists it once more in its progress).
  const diagnostics = said.slice(said.indexOf("Diagnostics:"));
  expect(diagnostics).toContain("ApiKeyVerification (keywire-verification):");
  expect(diagnostics).toContain("the chain SNS delivers through is broken at link.event");
  expect(diagnostics.split("Events: POST from the monitoring team").length - 1).toBe(1);
  expect(said).not.toMatch(/\n\s+at .*\.(js|ts):\d+/);
  const after = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, unknown>;
  expect(after.verified).toBe(false);

  emu.store.delete("sys_auth_profile_mapping", added.mapping);
  emu.store.delete("sys_api_access_policy", foreign.sys_id);
  await ok(["up", "--refresh", "--yes", "--skip-preview"]);
  const repaired = await driftCheck();
  expect(repaired.code).toBe(DRIFT_EXIT.clean);
  expect(JSON.parse((await ok(["stack", "output", "--json"])).stdout).verified).toBe(true);
});
