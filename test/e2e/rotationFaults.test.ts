/**
 * Key rotation through the real engine under every fault of the catalogue, each
 * aimed at the replacement key's POST: after each `up` the instance holds exactly
 * one key of the stack (the new one, proven, in the stack's outputs), the old one
 * is gone, and at no moment was the integration without a working key.
 */
import { RunningEmulator } from "../../emulator/servicenow";
import { LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS } from "../support/pulumiCli";
import { startEmulator } from "../support/serviceNow";
import { FAULTS } from "../support/faultCatalog";
import { lateWritesLanded } from "../support/useServiceNowEmulator";
import { accepted, watchKeys } from "../support/keyWatch";

jest.setTimeout(10 * 60_000);

let emu: RunningEmulator;
let stack: LocalStack;
const tried: Array<{ fault: string; survived: boolean }> = [];

async function ok(args: string[]) {
  const res = await stack.run(args);
  if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`);
  return res;
}

async function outputs(): Promise<Record<string, unknown>> {
  return JSON.parse((await ok(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  stack = await createLocalStack("rotation-faults", emu.url);
  // A deadline shorter than the late commit, so that fault is an unknown outcome.
  await ok(["config", "set", "servicenow:requestTimeoutSeconds", "1"]);
  await ok(["config", "set", "--path", "keywire:apiKey.rotation.trigger", "start"]);
  await ok(["up", "--yes", "--skip-preview"]);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  stack?.cleanup();
  const survived = tried.filter((t) => t.survived).length;
  process.stdout.write(`\nrotation under faults: ${tried.length} tried, ${survived} survived\n`);
});

test.each(Object.keys(FAULTS))("a rotation whose new key's POST meets %s leaves exactly the new, working key", async (fault) => {
  tried.push({ fault, survived: false });
  const before = await outputs();
  const oldId = String(before.apiKeySysId);
  const oldToken = new URL(String(before.inboundEndpoint)).searchParams.get("x-sn-apikey")!;
  await ok(["config", "set", "--path", "keywire:apiKey.rotation.trigger", fault]);

  emu.setFaults(FAULTS[fault]({ methods: ["POST"], table: "api_key" }));
  const watch = watchKeys(emu, "keywire-local", oldId, oldToken);
  try {
    await ok(["up", "--yes", "--skip-preview"]);
  } finally {
    emu.setFaults({});
    const samples = await watch.stop();
    // Never a moment without a working key.
    expect(samples.filter((s) => !s.old && !s.next)).toEqual([]);
  }
  // A write still in flight lands before the instance is judged.
  await lateWritesLanded(emu);

  const after = await outputs();
  const newId = String(after.apiKeySysId);
  const newToken = new URL(String(after.inboundEndpoint)).searchParams.get("x-sn-apikey")!;
  expect(newId).not.toBe(oldId);
  expect(after.verified).toBe(true);
  expect(emu.tokenOf(newId)).toBe(newToken);
  expect(await accepted(emu, newToken)).toBe(true);
  // Exactly the declared key: no duplicate, no orphan, the old one gone.
  expect(emu.store.query("api_key", () => true).map((k) => k.sys_id)).toEqual([newId]);
  expect(emu.store.get("api_key", newId)!.active).toBe("true");
  tried[tried.length - 1].survived = true;
});
