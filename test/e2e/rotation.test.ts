/**
 * Key rotation through the real engine: a due rotation shows in preview and in
 * the drift check; `up` creates and proves the new key before the old one is
 * deleted, so at no moment is the integration left without a working key.
 */
import { RunningEmulator } from "../../emulator/servicenow";
import { buildDriftReport, PreviewJson } from "../../scripts/drift/driftReport";
import { LOCAL_STACK, LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS } from "../support/pulumiCli";
import { startEmulator } from "../support/serviceNow";
import { KeySample, accepted, watchKeys } from "../support/keyWatch";

jest.setTimeout(10 * 60_000);

let emu: RunningEmulator;
let stack: LocalStack;

async function ok(args: string[]) {
  const res = await stack.run(args);
  if (res.code !== 0 && !(args.includes("--expect-no-changes") && res.code === 7)) {
    throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`);
  }
  return res;
}

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  stack = await createLocalStack("rotation", emu.url);
  await ok(["config", "set", "--path", "keywire:apiKey.rotation.trigger", "2026-11"]);
  await ok(["up", "--yes", "--skip-preview"]);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  stack?.cleanup();
});

test("a changed trigger rotates the key with no moment in which the integration is refused", async () => {
  const before = JSON.parse((await ok(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, unknown>;
  const oldId = String(before.apiKeySysId);
  const oldToken = new URL(String(before.inboundEndpoint)).searchParams.get("x-sn-apikey")!;
  expect(await accepted(emu, oldToken)).toBe(true);

  await ok(["config", "set", "--path", "keywire:apiKey.rotation.trigger", "2026-12"]);

  // The scheduled drift check flags the rotation before anyone runs up.
  const preview = await ok(["preview", "--refresh", "--expect-no-changes", "--json"]);
  expect(preview.code).toBe(7);
  const report = buildDriftReport(LOCAL_STACK, JSON.parse(preview.stdout) as PreviewJson);
  const keyItem = report.items.find((i) => i.resource === "ApiKey keywire-key");
  expect(keyItem?.action).toBe("replace");
  expect(keyItem?.summary).toMatch(/rotation due/);

  // Watch the instance while up rotates: the integration holds the old token until the
  // new key exists and is proven; every sample must find a usable key.
  const watch = watchKeys(emu, "keywire-local", oldId, oldToken);
  let samples: KeySample[];
  try {
    await ok(["up", "--yes", "--skip-preview"]);
  } finally {
    samples = await watch.stop();
  }

  const after = JSON.parse((await ok(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, unknown>;
  const newToken = new URL(String(after.inboundEndpoint)).searchParams.get("x-sn-apikey")!;
  expect(after.apiKeySysId).not.toBe(oldId);
  expect(newToken).not.toBe(oldToken);
  expect(after.verified).toBe(true);
  expect(emu.store.get("api_key", oldId)).toBeUndefined();
  expect(await accepted(emu, newToken)).toBe(true);
  expect(await accepted(emu, oldToken)).toBe(false);

  expect(samples.length).toBeGreaterThan(3);
  // Never a moment without a working key...
  expect(samples.filter((s) => !s.old && !s.next)).toEqual([]);
  // ...and the old key was only removed after the new one existed.
  const firstGone = samples.findIndex((s) => !s.oldExists);
  const firstNew = samples.findIndex((s) => s.newExists);
  if (firstGone !== -1) expect(firstNew).toBeGreaterThanOrEqual(0);
  if (firstGone !== -1) expect(firstNew).toBeLessThan(firstGone);

  // Settled: nothing more to do.
  const settled = await ok(["preview", "--refresh", "--expect-no-changes"]);
  expect(settled.code).toBe(0);
});
