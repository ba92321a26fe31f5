/**
 * Steady state costs nothing: a refresh of a stack nobody touched, through the real
 * engine against the in-process emulator, leaves the state as `up --refresh` wrote
 * it. Every resource keeps the inputs the program gave (no field it never declared,
 * numbers still numbers) and the outputs it had. And what the instance changes
 * still shows: in the refreshed outputs, and so in the drift report.
 */
import { RunningEmulator } from "../../emulator/servicenow";
import { DriftReport, PreviewJson, buildDriftReport } from "../../scripts/drift/driftReport";
import { DRIFT_EXIT, driftExitCode } from "../../scripts/drift/exitCodes";
import { LOCAL_STACK, LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS } from "../support/pulumiCli";
import { startEmulator } from "../support/serviceNow";

jest.setTimeout(10 * 60_000);

let emu: RunningEmulator;
let stack: LocalStack;

async function ok(args: string[]) {
  const res = await stack.run(args);
  if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`);
  return res;
}

interface ExportedResource {
  urn: string;
  type: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  propertyDependencies?: Record<string, string[]>;
  [field: string]: unknown;
}

interface Exported {
  version: number;
  deployment: { manifest: Record<string, unknown>; resources?: ExportedResource[]; [field: string]: unknown };
}

/**
 * The stack as exported, secrets shown: a secret's ciphertext may be drawn anew when
 * the engine writes the state again, its value may not.
 */
async function exported(): Promise<Exported> {
  return JSON.parse((await ok(["stack", "export", "--show-secrets"])).stdout) as Exported;
}

/**
 * The export without what the engine writes about the write itself, and nothing
 * else: the manifest's time, and a property's empty list of dependencies (the
 * engine drops `"prop": []` when it writes a refreshed resource; no dependency is
 * gained or lost). Inputs, outputs, ids, dependencies and each resource's own
 * timestamps are compared as they are.
 */
function normalised(state: Exported): Exported {
  const { time: _time, ...manifest } = state.deployment.manifest;
  const resources = (state.deployment.resources ?? []).map((r) => {
    if (r.propertyDependencies === undefined) return r;
    const deps = Object.fromEntries(Object.entries(r.propertyDependencies).filter(([, urns]) => urns.length > 0));
    const { propertyDependencies: _deps, ...rest } = r;
    return Object.keys(deps).length > 0 ? { ...rest, propertyDependencies: deps } : rest;
  });
  return { ...state, deployment: { ...state.deployment, manifest, resources } };
}

/** What differs, as "<type>::<name> <field>" (inputs and outputs per key), in the before order. */
function differences(before: Exported, after: Exported): string[] {
  const out: string[] = [];
  const label = (r: ExportedResource) => `${r.type.split(":").pop()}::${r.urn.split("::").pop()}`;
  const afterByUrn = new Map((after.deployment.resources ?? []).map((r) => [r.urn, r]));
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const b of before.deployment.resources ?? []) {
    const a = afterByUrn.get(b.urn);
    if (!a) {
      out.push(`${label(b)} gone`);
      continue;
    }
    for (const field of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (field === "inputs" || field === "outputs") {
        const bag = (r: ExportedResource) => r[field] ?? {};
        for (const k of new Set([...Object.keys(bag(b)), ...Object.keys(bag(a))])) {
          if (!same(bag(b)[k], bag(a)[k])) out.push(`${label(b)} ${field}.${k}`);
        }
      } else if (!same(b[field], a[field])) {
        out.push(`${label(b)} ${field}`);
      }
    }
  }
  for (const a of after.deployment.resources ?? []) if (!(before.deployment.resources ?? []).some((b) => b.urn === a.urn)) out.push(`${label(a)} new`);
  const { resources: _rb, ...restBefore } = before.deployment;
  const { resources: _ra, ...restAfter } = after.deployment;
  if (!same(restBefore, restAfter)) out.push("deployment");
  return out;
}

/** `npm run drift`'s check: the preview, its exit code, and the report built from its JSON. */
async function driftCheck(): Promise<{ code: number; report: DriftReport }> {
  const res = await stack.run(["preview", "--refresh", "--expect-no-changes", "--json"]);
  const code = driftExitCode(res.code ?? 1, true);
  if (code !== DRIFT_EXIT.clean && code !== DRIFT_EXIT.drift) throw new Error(`preview exited ${res.code}\n${res.stderr.slice(-3000)}`);
  return { code, report: buildDriftReport(LOCAL_STACK, JSON.parse(res.stdout) as PreviewJson) };
}

function resourceOf(state: Exported, type: string): ExportedResource {
  const found = (state.deployment.resources ?? []).filter((r) => r.type.endsWith(`:${type}`));
  expect(found).toHaveLength(1);
  return found[0];
}

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  stack = await createLocalStack("steady", emu.url);
  await ok(["up", "--yes", "--skip-preview", "--refresh"]);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  stack?.cleanup();
});

test("a refresh of an untouched stack leaves every resource's inputs and outputs as they were", async () => {
  const before = await exported();
  // The demo stack: the chain's records, its checks, and the engine's own resources.
  expect((before.deployment.resources ?? []).filter((r) => r.type.includes("keywire/servicenow:")).length).toBeGreaterThanOrEqual(10);
  await ok(["refresh", "--yes", "--skip-preview"]);
  const after = await exported();
  expect(differences(normalised(before), normalised(after))).toEqual([]);
  // The chain was proven again by this refresh (an event sent), and its report reads as before.
  const verification = resourceOf(after, "ApiKeyVerification");
  expect(verification.outputs?.verified).toBe(true);
  expect(String(verification.outputs?.eventProbeSaw)).toMatch(/^HTTP 200 with Event Management's JSON result/);
  expect(verification.inputs).toEqual(resourceOf(before, "ApiKeyVerification").inputs);
});

test("a second refresh leaves it so too, and the declared types stand: the rate limit is still a number", async () => {
  const before = await exported();
  await ok(["refresh", "--yes", "--skip-preview"]);
  const after = await exported();
  expect(differences(normalised(before), normalised(after))).toEqual([]);
  const rule = resourceOf(after, "RateLimitRule");
  expect(rule.inputs?.requestsPerHour).toBe(3600);
  // The user's program gives no e-mail, and the key leaves its expiry to expiresInDays.
  expect(resourceOf(after, "ServiceNowUser").inputs).not.toHaveProperty("email");
  expect(resourceOf(after, "ApiKey").inputs).not.toHaveProperty("expires");
});

test("an expiry changed on the instance shows in the refreshed outputs, not the inputs, and is drift the instance made; up --refresh puts it back", async () => {
  const before = await exported();
  const key = resourceOf(before, "ApiKey");
  const keyId = String(key.id);
  const expiry = String(key.outputs?.expiresAt);
  expect(emu.store.get("api_key", keyId)?.expires).toBe(expiry);
  emu.store.update("api_key", keyId, { expires: "2031-01-01 00:00:00" });

  const drifted = await driftCheck();
  expect(drifted.code).toBe(DRIFT_EXIT.drift);
  expect(drifted.report.items.map((i) => ({ resource: i.resource, action: i.action, properties: i.properties }))).toEqual([
    {
      resource: "ApiKey keywire-key",
      action: "update",
      properties: [{ property: "expires", expected: expiry, actual: "2031-01-01 00:00:00", source: "instance" }],
    },
  ]);

  await ok(["refresh", "--yes", "--skip-preview"]);
  const refreshed = await exported();
  const changed = differences(normalised(before), normalised(refreshed));
  // The instance's value is in the outputs (the field and its column); the program's inputs stand.
  expect([...changed].sort()).toEqual(["ApiKey::keywire-key modified", "ApiKey::keywire-key outputs.columns", "ApiKey::keywire-key outputs.expires"]);
  expect(resourceOf(refreshed, "ApiKey").inputs).toEqual(key.inputs);

  await ok(["up", "--refresh", "--yes", "--skip-preview"]);
  expect(emu.store.get("api_key", keyId)?.expires).toBe(expiry);
  const repaired = await driftCheck();
  expect(repaired.code).toBe(DRIFT_EXIT.clean);
  expect(repaired.report.items).toEqual([]);
});
