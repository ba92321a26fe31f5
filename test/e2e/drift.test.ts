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
