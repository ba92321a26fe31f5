/**
 * Two stacks of keywire's program on one ServiceNow instance, through the real engine:
 * one emulator, one backend, one working copy of the program, two stacks in it. Each
 * case deploys stack A, then stack B, destroys A while B stays, and destroys B. Each stack
 * reaches the instance through a gate of its own (support/instanceGate.ts), which asks,
 * after every write the run makes and before the run learns of it, whether the instance
 * still admits the deploying user's Basic auth and the other stack's token: the Table API
 * as the key's probe calls it, and the Event Management endpoint as SNS calls it. After
 * each step the other stack's records are compared, field by field. When both are gone,
 * the instance holds what it held before them: no record more or less, the shipped
 * policies active as they were.
 *
 * - Different prefixes, in `attach` and in `dedicated` mode: both deploy, and neither
 *   stack's runs refuse the other's key at any moment or touch its records.
 * - The same prefix (a stack file copied without changing `keywire:namePrefix`): the
 *   second stack is refused by the records whose names must be unique, each refusal
 *   saying whose record it is, and its destroy leaves the first stack as it was.
 * - Different prefixes and the same key name on the manual token route: each stack is
 *   told to copy the token of its own parked key, never the other stack's, and takes
 *   that key over although the other's key of the same name is already in service.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { GlideRecord, RunningEmulator } from "../../emulator/servicenow";
import { prepareProject } from "../../scripts/demo/project";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { setSecretConfigCommand } from "../../scripts/pulumi/secretConfig";
import { INBOUND_EVENT_PATH } from "../../resources/servicenow/components/eventEndpoint";
import { clearAlarm, newMarker, snsHeaders, snsNotification } from "../../resources/servicenow/checks/syntheticAlarm";
import { SHIPPED_TABLE_POLICIES } from "../../resources/servicenow/records/accessPolicy";
import { PULUMI_SETUP_TIMEOUT_MS, RunPulumiResult, TempBackend, createTempBackend, ensurePulumi, runPulumi } from "../support/pulumiCli";
import { ADMIN_PASSWORD, startEmulator } from "../support/serviceNow";
import { InstanceGate, startInstanceGate } from "../support/instanceGate";

jest.setTimeout(12 * 60_000);

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
const TYPE_PREFIX = "pulumi-nodejs:dynamic/keywire/servicenow:";
const PUSH_CONNECTOR = "AWS SNS push connector";

let emu: RunningEmulator;
let backend: TempBackend;
let project: string;
let env: NodeJS.ProcessEnv;
/** The gates the stacks of the running case reach the instance through. */
let gates: InstanceGate[] = [];

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  await ensurePulumi();
  backend = createTempBackend("keywire-e2e-two-stacks-");
  // Both stacks run the one program, as two stack files of one repository do.
  project = prepareProject(REPO_ROOT, fs.mkdtempSync(path.join(os.tmpdir(), "keywire-e2e-two-stacks-project-")), { stack: "local" });
  env = { ...backend.env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  backend?.cleanup();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

beforeEach(() => {
  emu.reset();
  emu.setOptions({ tokenReadback: "input_display_value" });
});

afterEach(async () => {
  await Promise.all(gates.map((g) => g.close()));
  gates = [];
});

interface Settings {
  prefix: string;
  user: string;
  mode: "attach" | "dedicated";
  /** The API key's record name; `<prefix> event management` when not given. */
  keyName?: string;
}

interface Stack {
  name: string;
  /** What the stack's servicenow:instanceUrl names: the emulator, behind this stack's gate. */
  gate: InstanceGate;
  run(args: string[], input?: string): Promise<RunPulumiResult & { output: string }>;
  ok(args: string[], input?: string): Promise<RunPulumiResult & { output: string }>;
  outputs(): Promise<Record<string, unknown>>;
  /** The sys_ids of the records this stack made (not the shipped ones it adopted), from its state. */
  ownRecords(): Promise<string[]>;
  /** The names of the resources the named one depends on, from its state. */
  dependenciesOf(name: string): Promise<string[]>;
}

interface ExportedResource {
  urn: string;
  type: string;
  id?: string;
  dependencies?: string[];
  outputs?: { adoption?: unknown; onDestroy?: string };
}

const nameOf = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

/** A new stack of the program with these settings, on the emulator (through a gate of its own). */
async function newStack(name: string, s: Settings): Promise<Stack> {
  const gate = await startInstanceGate(emu.url);
  gates.push(gate);
  // The local stack's settings (stacks/Pulumi.local.yaml), with this stack's own; JSON is YAML.
  const config = {
    "servicenow:username": "admin",
    "keywire:namePrefix": s.prefix,
    "keywire:integrationUser": { userName: s.user, create: true, roles: ["evt_mgmt_integration", "itil"] },
    "keywire:policyMode": s.mode,
    "keywire:apiKey": { expiresInDays: 90, authScopes: ["useraccount"], ...(s.keyName !== undefined ? { name: s.keyName } : {}) },
    "keywire:pushConnector": { name: PUSH_CONNECTOR, create: false },
    "keywire:sns": { enabled: false },
  };
  fs.writeFileSync(path.join(project, "stacks", `Pulumi.${name}.yaml`), JSON.stringify({ config }, null, 2));
  const run = async (args: string[], input?: string) => {
    const res = await runPulumi([...args, "--stack", name, "--non-interactive"], {
      cwd: project,
      env,
      timeoutMs: 4 * 60_000,
      ...(input !== undefined ? { input } : {}),
    });
    return { ...res, output: `${res.stdout}\n${res.stderr}` };
  };
  const ok = async (args: string[], input?: string) => {
    const res = await run(args, input);
    if (res.code !== 0)
      throw new Error(`pulumi ${args.join(" ")} --stack ${name} exited ${res.code}${res.timedOut ? " (timed out)" : ""}\n${res.output.slice(-5000)}`);
    return res;
  };
  await ok(["stack", "init"]);
  await ok(["config", "set", "servicenow:instanceUrl", gate.url]);
  const password = setSecretConfigCommand("servicenow:password", ADMIN_PASSWORD);
  await ok(password.args, password.input);
  const exported = async () =>
    (JSON.parse((await ok(["stack", "export"])).stdout) as { deployment: { resources?: ExportedResource[] } }).deployment.resources ?? [];
  return {
    name,
    gate,
    run,
    ok,
    outputs: async () => JSON.parse((await ok(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, unknown>,
    ownRecords: async () => {
      return (await exported())
        .filter((r) => r.type.startsWith(TYPE_PREFIX) && r.id && r.outputs?.adoption === undefined && r.outputs?.onDestroy !== "retain")
        .map((r) => r.id!)
        .filter((id) => rowOf(id) !== undefined)
        .sort();
    },
    dependenciesOf: async (resource) => ((await exported()).find((r) => nameOf(r.urn) === resource)?.dependencies ?? []).map(nameOf),
  };
}

function rowOf(sysId: string): GlideRecord | undefined {
  for (const table of TABLES) {
    const row = emu.store.get(table, sysId);
    if (row) return row;
  }
  return undefined;
}

/** The records, as the instance holds them now: any write to one changes its sys_updated_on. */
function snapshot(ids: string[]): Record<string, GlideRecord | undefined> {
  return Object.fromEntries(ids.map((id) => [id, rowOf(id)]));
}

/** Every record of the chain's tables: its sys_id and whether it is active. */
function instanceRecords(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const table of TABLES) for (const r of emu.store.query(table)) out[`${table}/${r.sys_id}`] = r.active ?? "";
  return out;
}

function shippedActive(): string[] {
  return SHIPPED_TABLE_POLICIES.map((name) =>
    emu.store
      .query("sys_api_access_policy", (r) => r.name === name)
      .map((r) => r.active)
      .join(),
  );
}

/**
 * What the instance answers a stack's token: the Table API as the key's probe calls it, and
 * the Event Management endpoint as SNS calls it (a synthetic Clear alarm to the stack's own
 * endpoint, asked of the emulator itself rather than through a gate).
 */
async function answers(outputs: Record<string, unknown>): Promise<{ table: number; events: number }> {
  const endpoint = new URL(String(outputs.inboundEndpoint));
  const token = endpoint.searchParams.get("x-sn-apikey") ?? "";
  const table = await fetch(`${emu.url}/api/now/table/incident?sysparm_limit=1&x-sn-apikey=${encodeURIComponent(token)}`);
  await table.arrayBuffer();
  const now = new Date();
  const alarm = clearAlarm(newMarker("verify"), now);
  const body = snsNotification(JSON.stringify(alarm), "arn:aws:sns:keywire:000000000000:two-stacks", now, "OK");
  const events = await fetch(`${emu.url}${INBOUND_EVENT_PATH}${endpoint.search}`, { method: "POST", headers: snsHeaders(body), body: JSON.stringify(body) });
  await events.arrayBuffer();
  return { table: table.status, events: events.status };
}

const AUTHENTICATED = { table: 200, events: 200 };

/** The deploying user's Basic auth on the Table API: a table the shipped policies list, and one only a Table API policy of keywire's governs. */
async function deployerAnswers(): Promise<number[]> {
  const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`;
  const statuses: number[] = [];
  for (const table of ["sys_user", "sys_user_has_role"]) {
    const res = await fetch(`${emu.url}/api/now/table/${table}?sysparm_limit=1`, { headers: { authorization: basic } });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

/**
 * Runs `step` (a run of `stack`) and, after every write the run makes, asks the instance
 * whether it still admits the deploying user's Basic auth and the key in `other`'s outputs
 * (another stack's, when there is one); returns each write after which one was refused.
 */
async function watching(stack: Stack, other: Record<string, unknown> | undefined, step: () => Promise<unknown>): Promise<string[]> {
  if (other) expect(await answers(other)).toEqual(AUTHENTICATED);
  const refused: string[] = [];
  stack.gate.inspect(async (x) => {
    if (x.method === "GET") return;
    const after = `after ${x.method} ${x.table ?? x.path} (${x.status})`;
    const deployer = await deployerAnswers();
    if (deployer.some((status) => status !== 200)) refused.push(`${after}: the deploying user's Basic auth got ${deployer.join(", ")}`);
    if (!other) return;
    const seen = await answers(other);
    if (seen.table !== 200 || seen.events !== 200) refused.push(`${after}: the other stack's key got table ${seen.table}, events ${seen.events}`);
  });
  try {
    await step();
  } finally {
    stack.gate.inspect(undefined);
  }
  return refused;
}

test.each(["attach", "dedicated"] as const)(
  "%s mode, different prefixes: both stacks deploy; neither stack's run refuses the other's key at any write, or changes its records; after both, the instance is as before",
  async (mode) => {
    const before = instanceRecords();
    const shippedBefore = shippedActive();
    const a = await newStack(`${mode}-a`, { prefix: `two-${mode}-a`, user: `svc.two.${mode}.a`, mode });
    const b = await newStack(`${mode}-b`, { prefix: `two-${mode}-b`, user: `svc.two.${mode}.b`, mode });

    expect(await watching(a, undefined, () => a.ok(["up", "--yes", "--skip-preview"]))).toEqual([]);
    const aOut = await a.outputs();
    expect(aOut.verified).toBe(true);
    const aRecords = snapshot(await a.ownRecords());
    // The API-key link on keywire's own Table API policy comes after the Basic one (and goes before it):
    // with the API-key link alone, that policy would refuse the deploying user's Basic auth.
    if (mode === "dedicated") expect(await a.dependenciesOf("keywire-link-table-api")).toContain("keywire-link-table-api-basic");

    expect(await watching(b, aOut, () => b.ok(["up", "--yes", "--skip-preview"]))).toEqual([]);
    const bOut = await b.outputs();
    expect(bOut.verified).toBe(true);
    expect(snapshot(Object.keys(aRecords))).toEqual(aRecords);
    expect(await answers(bOut)).toEqual(AUTHENTICATED);
    const bRecords = snapshot(await b.ownRecords());

    expect(await watching(a, bOut, () => a.ok(["destroy", "--yes", "--skip-preview"]))).toEqual([]);
    for (const id of Object.keys(aRecords)) expect(rowOf(id)).toBeUndefined();
    expect(snapshot(Object.keys(bRecords))).toEqual(bRecords);
    // In dedicated mode the shipped policies stay off while B's policy holds them.
    expect(shippedActive()).toEqual(mode === "dedicated" ? ["false", "false"] : shippedBefore);
    // B sees no drift: nothing of its chain changed.
    await b.ok(["preview", "--refresh", "--expect-no-changes"]);

    expect(await watching(b, undefined, () => b.ok(["destroy", "--yes", "--skip-preview"]))).toEqual([]);
    expect(instanceRecords()).toEqual(before);
    expect(shippedActive()).toEqual(shippedBefore);
  },
);

/** The Diagnostics section of a run's output: the errors as Pulumi shows them. */
function diagnostics(res: { output: string }): string {
  const at = res.output.indexOf("Diagnostics:");
  return at === -1 ? res.output : res.output.slice(at);
}

test.each(["attach", "dedicated"] as const)(
  "%s mode, the same prefix: B is refused by the names that must be unique, each refusal saying whose record it is; B's runs never refuse A's key or change its records",
  async (mode) => {
    const before = instanceRecords();
    const shippedBefore = shippedActive();
    // A stack file copied without changing the prefix (or the user).
    const settings: Settings = { prefix: `two-${mode}-same`, user: `svc.two.${mode}.same`, mode };
    const a = await newStack(`${mode}-same-a`, settings);
    const b = await newStack(`${mode}-same-b`, settings);

    expect(await watching(a, undefined, () => a.ok(["up", "--yes", "--skip-preview"]))).toEqual([]);
    const aOut = await a.outputs();
    const aRecords = snapshot(await a.ownRecords());

    let refused: { code: number | null; output: string } = { code: 0, output: "" };
    expect(await watching(b, aOut, async () => (refused = await b.run(["up", "--yes", "--skip-preview"])))).toEqual([]);
    expect(refused.code).not.toBe(0);
    const said = diagnostics(refused);
    expect(said).not.toMatch(/lacks the roles/);
    // Each refusal names the record of A's it collided with, and says keywire made it for another stack.
    const refusals = said.match(/create \S+ failed \(HTTP 403\)[^\n]*/g) ?? [];
    expect(refusals.length).toBeGreaterThan(0);
    for (const r of refusals) {
      expect(r).toMatch(/which keywire made for another stack, not this one/);
      expect(Object.keys(aRecords).filter((id) => r.includes(` ${id} `))).toHaveLength(1);
    }
    expect(snapshot(Object.keys(aRecords))).toEqual(aRecords);

    // B's destroy removes what B made before it was refused, and nothing of A's.
    expect(await watching(b, aOut, () => b.ok(["destroy", "--yes", "--skip-preview"]))).toEqual([]);
    expect(snapshot(Object.keys(aRecords))).toEqual(aRecords);
    await a.ok(["preview", "--refresh", "--expect-no-changes"]);

    expect(await watching(a, undefined, () => a.ok(["destroy", "--yes", "--skip-preview"]))).toEqual([]);
    expect(instanceRecords()).toEqual(before);
    expect(shippedActive()).toEqual(shippedBefore);
  },
);

const KEY_LINK = /nav_to\.do\?uri=api_key\.do%3Fsys_id%3D([0-9a-f]{32})/g;

/** The api_key sys_ids a run's output links to. */
function linkedKeys(res: { output: string }): string[] {
  return [...new Set([...res.output.matchAll(KEY_LINK)].map((m) => m[1]))];
}

test("manual token route, different prefixes, the same key name: each stack is pointed at its own parked key and takes that one over", async () => {
  emu.setOptions({ tokenReadback: "none" });
  const before = instanceRecords();
  const keyName = "two stacks event management";
  const a = await newStack("manual-a", { prefix: "two-manual-a", user: "svc.two.manual.a", mode: "attach", keyName });
  const b = await newStack("manual-b", { prefix: "two-manual-b", user: "svc.two.manual.b", mode: "attach", keyName });

  // Each first up stops for the token of a key it parked, and links to that key alone.
  const aFirst = await a.run(["up", "--yes", "--skip-preview"]);
  expect(aFirst.code).not.toBe(0);
  const aKeys = linkedKeys(aFirst);
  expect(aKeys).toHaveLength(1);
  const bFirst = await b.run(["up", "--yes", "--skip-preview"]);
  expect(bFirst.code).not.toBe(0);
  const bKeys = linkedKeys(bFirst);
  expect(bKeys).toHaveLength(1);
  expect(bKeys[0]).not.toBe(aKeys[0]);
  const userOf = (keySysId: string) => emu.store.get("sys_user", emu.store.get("api_key", keySysId)?.user ?? "")?.user_name;
  expect([userOf(aKeys[0]), userOf(bKeys[0])]).toEqual(["svc.two.manual.a", "svc.two.manual.b"]);

  // The operator copies each stack's token from the key its own message linked to.
  // B finishes first: A's parked key then shares its name with B's active one.
  for (const [stack, key] of [
    [b, bKeys[0]],
    [a, aKeys[0]],
  ] as const) {
    const cmd = setSecretConfigCommand("keywire:apiKeyToken", emu.tokenOf(key) ?? "");
    await stack.ok(cmd.args, cmd.input);
    await stack.ok(["up", "--yes", "--skip-preview"]);
  }
  const aOut = await a.outputs();
  const bOut = await b.outputs();
  expect([aOut.apiKeySysId, bOut.apiKeySysId]).toEqual([aKeys[0], bKeys[0]]);
  expect(
    emu.store
      .query("api_key", (r) => r.name.startsWith(keyName))
      .map((r) => `${r.name} ${r.active}`)
      .sort(),
  ).toEqual([`${keyName} true`, `${keyName} true`]);
  expect(await answers(aOut)).toEqual(AUTHENTICATED);
  expect(await answers(bOut)).toEqual(AUTHENTICATED);

  const bRecords = snapshot(await b.ownRecords());
  expect(await watching(a, bOut, () => a.ok(["destroy", "--yes", "--skip-preview"]))).toEqual([]);
  expect(snapshot(Object.keys(bRecords))).toEqual(bRecords);
  await b.ok(["destroy", "--yes", "--skip-preview"]);
  expect(instanceRecords()).toEqual(before);
});
