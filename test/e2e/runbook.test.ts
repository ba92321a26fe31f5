/**
 * docs/runbook.md, step by step, through the real engine against an emulator that
 * never reveals a key's token (`tokenReadback: "none"`, as real instances): the
 * first deployment on the manual route, a rotation on the manual route, and taking
 * the chain over again after the state was lost. The test plays the operator: it
 * copies a token "from the key's form" (the emulator's record) and sets it with
 * `pulumi config set --secret` on standard input, as the runbook says.
 *
 * The steps build on each other, so they run in order in one file.
 */
import { RunningEmulator } from "../../emulator/servicenow";
import { PreviewJson, buildDriftReport } from "../../scripts/drift/driftReport";
import { setSecretConfigCommand } from "../../scripts/pulumi/secretConfig";
import { LOCAL_STACK, LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS, RunPulumiResult } from "../support/pulumiCli";
import { startEmulator } from "../support/serviceNow";
import { KeySample, accepted, watchKeys } from "../support/keyWatch";

jest.setTimeout(4 * 60_000);

const KEY_NAME = "keywire-local event management";
/** Every table a record of the chain lives in. */
const TABLES = [
  "api_key",
  "http_key_auth",
  "sys_api_access_policy",
  "sys_auth_profile_mapping",
  "sys_user",
  "sys_user_has_role",
  "sys_rate_limit_rules",
  "sn_em_connector_push_instance",
];

let emu: RunningEmulator;
let stack: LocalStack;

async function run(args: string[], input?: string): Promise<RunPulumiResult & { output: string }> {
  const res = await stack.run(args, 3 * 60_000, input);
  return { ...res, output: `${res.stdout}\n${res.stderr}` };
}

async function ok(args: string[], input?: string): Promise<RunPulumiResult & { output: string }> {
  const res = await run(args, input);
  if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.output.slice(-4000)}`);
  return res;
}

async function outputs(): Promise<Record<string, unknown>> {
  return JSON.parse((await ok(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, unknown>;
}

/** The operator's step: the token copied from the key's form, set on standard input. */
async function setToken(sysId: string): Promise<string> {
  const token = emu.tokenOf(sysId);
  if (!token) throw new Error(`the emulator has no token for api_key ${sysId}`);
  const cmd = setSecretConfigCommand("keywire:apiKeyToken", token);
  expect(cmd.args).not.toContain(token);
  await ok(cmd.args, cmd.input);
  return token;
}

function keys(): Array<Record<string, string>> {
  return emu.store.query("api_key", (r) => r.name.startsWith(KEY_NAME));
}

function recordUrlOf(sysId: string): string {
  return `${emu.url}/nav_to.do?uri=${encodeURIComponent(`api_key.do?sys_id=${sysId}`)}`;
}

function counts(): Record<string, number> {
  return Object.fromEntries(TABLES.map((t) => [t, emu.store.query(t, () => true).length]));
}

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "none" });
  stack = await createLocalStack("runbook", emu.url);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  stack?.cleanup();
});

test("first deployment: up stops for the token and parks the key; with the operator's token, up takes it over and proves it", async () => {
  const first = await run(["up", "--yes", "--skip-preview"]);
  expect(first.code).not.toBe(0);
  const [parked] = keys();
  expect(keys()).toHaveLength(1);
  expect(parked.name).toBe(KEY_NAME);
  expect(parked.active).toBe("false");
  expect(first.output).toContain(`obtain the token of api_key "${KEY_NAME}" failed: the instance did not reveal a token that authenticates`);
  expect(first.output).toContain(`keywire deactivated the key (sys_id ${parked.sys_id}) until its token is proven`);
  expect(first.output).toContain(`Open ${recordUrlOf(parked.sys_id)}, unlock the Token field and copy it`);
  expect(first.output).toContain("`pulumi config set --secret keywire:apiKeyToken` (it reads the token from standard input");
  expect(first.output).toContain("(docs/runbook.md)");

  const token = await setToken(parked.sys_id);
  await ok(["up", "--yes", "--skip-preview"]);
  const out = await outputs();
  expect(out.apiKeySysId).toBe(parked.sys_id);
  expect(out.tokenSource).toBe("operator");
  expect(out.verified).toBe(true);
  expect(emu.store.get("api_key", parked.sys_id)?.active).toBe("true");
  expect(await accepted(emu, token)).toBe(true);
  expect(keys()).toHaveLength(1);
});

test("rotation: up stops for the new key #2 while the old one serves; the old token is refused for it; with the new token the old key goes", async () => {
  const before = await outputs();
  const oldId = String(before.apiKeySysId);
  const oldToken = new URL(String(before.inboundEndpoint)).searchParams.get("x-sn-apikey")!;
  await ok(["config", "set", "--path", "keywire:apiKey.rotation.trigger", "2026-12-ticket-4711"]);

  const watch = watchKeys(emu, KEY_NAME, oldId, oldToken);
  let samples: KeySample[];
  try {
    const stopped = await run(["up", "--yes", "--skip-preview"]);
    expect(stopped.code).not.toBe(0);
    const next = keys().find((k) => k.sys_id !== oldId)!;
    expect(next.name).toBe(`${KEY_NAME} #2`);
    expect(next.active).toBe("false");
    expect(stopped.output).toContain(`obtain the token of api_key "${KEY_NAME} #2" failed`);
    expect(stopped.output).toContain(`Open ${recordUrlOf(next.sys_id)}, unlock the Token field`);
    expect(emu.store.get("api_key", oldId)?.active).toBe("true");
    expect(await accepted(emu, oldToken)).toBe(true);

    // The drift check: a parked key of its own, the old one still serving.
    const preview = await run(["preview", "--refresh", "--expect-no-changes", "--json"]);
    const [item, ...rest] = buildDriftReport(LOCAL_STACK, JSON.parse(preview.stdout) as PreviewJson).items;
    expect(rest).toEqual([]);
    expect(item.parkedKey).toMatchObject({ sysId: next.sys_id, name: `${KEY_NAME} #2`, recordUrl: recordUrlOf(next.sys_id) });
    expect(item.summary).toContain("the key it replaces still serves");

    // Running up again before the new token is set: the configuration still holds the
    // old key's token, which must not take over the new key.
    const again = await run(["up", "--yes", "--skip-preview"]);
    expect(again.code).not.toBe(0);
    expect(again.output).toContain(`take over the parked api_key "${KEY_NAME} #2" failed`);
    expect(again.output).toContain("the instance accepts the token from keywire:apiKeyToken while this key is still inactive");
    expect(emu.store.get("api_key", next.sys_id)?.active).toBe("false");
    expect(keys()).toHaveLength(2);

    const newToken = await setToken(next.sys_id);
    await ok(["up", "--yes", "--skip-preview"]);
    const after = await outputs();
    expect(after.apiKeySysId).toBe(next.sys_id);
    expect(new URL(String(after.inboundEndpoint)).searchParams.get("x-sn-apikey")).toBe(newToken);
    expect(after.verified).toBe(true);
  } finally {
    samples = await watch.stop();
  }
  expect(emu.store.get("api_key", oldId)).toBeUndefined();
  expect(keys().map((k) => [k.name, k.active])).toEqual([[`${KEY_NAME} #2`, "true"]]);
  // Never a moment without a working key.
  expect(samples.length).toBeGreaterThan(3);
  expect(samples.filter((s) => !s.old && !s.next)).toEqual([]);
});

test("emergency revocation: the key deactivated at once stays revoked; a rotation stops for the new key #3; its token finishes it", async () => {
  const before = await outputs();
  const revokedId = String(before.apiKeySysId);
  const leaked = new URL(String(before.inboundEndpoint)).searchParams.get("x-sn-apikey")!;
  // The first step, in the instance's UI: the leaked token stops working now.
  emu.store.update("api_key", revokedId, { active: "false" });
  expect(await accepted(emu, leaked)).toBe(false);

  await ok(["config", "set", "--path", "keywire:apiKey.rotation.trigger", "revoke-incident-0815"]);
  const stopped = await run(["up", "--refresh", "--yes", "--skip-preview"]);
  expect(stopped.code).not.toBe(0);
  const next = keys().find((k) => k.sys_id !== revokedId)!;
  expect(next.name).toBe(`${KEY_NAME} #3`);
  expect(stopped.output).toContain(`obtain the token of api_key "${KEY_NAME} #3" failed`);
  // Nothing brought the leaked key back.
  expect(emu.store.get("api_key", revokedId)?.active).toBe("false");
  expect(await accepted(emu, leaked)).toBe(false);

  const newToken = await setToken(next.sys_id);
  await ok(["up", "--refresh", "--yes", "--skip-preview"]);
  const after = await outputs();
  expect(after.apiKeySysId).toBe(next.sys_id);
  expect(new URL(String(after.inboundEndpoint)).searchParams.get("x-sn-apikey")).toBe(newToken);
  expect(after.verified).toBe(true);
  expect(emu.store.get("api_key", revokedId)).toBeUndefined();
  expect(await accepted(emu, leaked)).toBe(false);
  expect(keys().map((k) => [k.name, k.active])).toEqual([[`${KEY_NAME} #3`, "true"]]);
});

test("a lost state: a new stack with keywire:adopt and the operator's token takes the chain over, with no duplicate and nothing left to change", async () => {
  const deployed = await outputs();
  const keyId = String(deployed.apiKeySysId);
  const before = counts();

  // The state is gone; the stack's configuration (committed with the project) is not.
  await ok(["stack", "rm", "--force", "--yes", "--preserve-config"]);
  await ok(["stack", "init"]);
  await ok(["config", "set", "keywire:adopt", "true"]);
  const token = await setToken(keyId);

  const taken = await ok(["up", "--yes", "--skip-preview"]);
  expect(taken.output).toContain("keywire:adopt is set: this up takes the records an earlier deployment made over instead of creating them");
  expect(counts()).toEqual(before);
  const out = await outputs();
  expect(out.apiKeySysId).toBe(keyId);
  expect(out.tokenSource).toBe("operator");
  expect(out.verified).toBe(true);
  expect(new URL(String(out.inboundEndpoint)).searchParams.get("x-sn-apikey")).toBe(token);
  for (const [output, id] of [
    ["inboundProfileSysId", out.inboundProfileSysId],
    ["eventPolicySysId", out.eventPolicySysId],
  ] as const) {
    expect([output, id]).toEqual([output, String(deployed[output])]);
  }

  // Settled: with the setting removed, as the runbook says, nothing is left to change,
  // on the instance or in the program.
  await ok(["config", "rm", "keywire:adopt"]);
  expect((await run(["preview", "--refresh", "--expect-no-changes"])).code).toBe(0);
});
