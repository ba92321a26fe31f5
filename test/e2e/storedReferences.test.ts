/**
 * How the state stores providers, through the real engine: keywire's own program
 * stores each one as a reference of a few hundred bytes to its public module; and a
 * state whose resources carry the references keywire 0.1 stored (a module path
 * relative to the checkout, ~2.6 KB each) is refreshed and destroyed by this code.
 *
 * The 0.1 state is this stack's own, with every `__provider` replaced by what 0.1
 * stored for that type (test/core/fixtures), and imported back, so the records it
 * names exist on the instance.
 */
import * as fs from "fs";
import * as path from "path";
import { RunningEmulator } from "../../emulator/servicenow";
import { LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS } from "../support/pulumiCli";
import { startEmulator } from "../support/serviceNow";

jest.setTimeout(10 * 60_000);

/** The `__provider` texts keywire 0.1 stored, by type (`keywire/servicenow:ApiKey`). */
const STORED_BY_0_1 = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "core", "fixtures", "provider-references-0.1.0.json"), "utf8")) as Record<
  string,
  string
>;
const DYNAMIC = "pulumi-nodejs:dynamic/";
/** The resources of the stack that keywire 0.1 did not have. */
const ADDED_SINCE_0_1 = ["KeyLeftovers", "PolicyHandover"];

interface StateResource {
  urn: string;
  type: string;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}
interface Deployment {
  version: number;
  deployment: { resources: StateResource[] };
}

let emu: RunningEmulator;
let stack: LocalStack;
let shippedBefore: Record<string, string>[] = [];

async function ok(args: string[]) {
  const res = await stack.run(args);
  if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`);
  return res;
}

async function exported(): Promise<Deployment> {
  return JSON.parse((await ok(["stack", "export"])).stdout) as Deployment;
}

const dynamicResources = (d: Deployment): StateResource[] => d.deployment.resources.filter((r) => r.type.startsWith(DYNAMIC));

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  shippedBefore = emu.store.query("sys_api_access_policy", (r) => r.name.startsWith("Table ")).map((r) => ({ ...r }));
  stack = await createLocalStack("stored-references", emu.url);
  await ok(["up", "--yes", "--skip-preview"]);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  stack?.cleanup();
});

test("every resource stores its provider, in its inputs and its outputs, as a reference of at most 300 bytes", async () => {
  const resources = dynamicResources(await exported());
  expect(resources.length).toBeGreaterThan(10);
  let now = 0;
  let then = 0;
  for (const r of resources) {
    for (const stored of [r.inputs?.__provider, r.outputs?.__provider]) {
      expect(typeof stored).toBe("string");
      expect(stored).toContain('"keywire/loadProvider"');
      expect(stored).toContain('"m":"keywire/servicenow"');
      expect(Buffer.byteLength(String(stored))).toBeLessThanOrEqual(300);
      now += Buffer.byteLength(String(stored));
      // Resources added since 0.1 (KeyLeftovers, PolicyHandover) had no 0.1 reference to compare with.
      then += Buffer.byteLength(STORED_BY_0_1[r.type.slice(DYNAMIC.length)] ?? "");
    }
  }
  process.stderr.write(`__provider in this state: ${now} bytes for ${resources.length} resources (0.1 stored ${then})\n`);
});

test("a state written by keywire 0.1 (checkout-relative references) is refreshed and destroyed", async () => {
  const state = await exported();
  // The resources 0.1 had; a resource added since (KeyLeftovers, PolicyHandover) keeps the reference a later up wrote.
  const resources = dynamicResources(state).filter((r) => !ADDED_SINCE_0_1.some((kind) => r.type.endsWith(`:${kind}`)));
  for (const r of resources) {
    const old = STORED_BY_0_1[r.type.slice(DYNAMIC.length)];
    expect(old).toBeDefined();
    r.inputs!.__provider = old;
    r.outputs!.__provider = old;
  }
  const file = path.join(stack.backend.dir, "state-0.1.json");
  fs.writeFileSync(file, JSON.stringify(state));
  await ok(["stack", "import", "--file", file]);
  expect(
    dynamicResources(await exported())
      .filter((r) => !ADDED_SINCE_0_1.some((kind) => r.type.endsWith(`:${kind}`)))
      .every((r) => String(r.outputs?.__provider).includes('"resources/core/loadProvider.js"')),
  ).toBe(true);

  // Refresh reads every record through the 0.1 references: a change made on the instance shows.
  const key = resources.find((r) => r.type.endsWith(":ApiKey"))!;
  emu.store.update("api_key", key.id!, { active: "false" });
  await ok(["refresh", "--yes", "--skip-preview"]);
  const refreshed = dynamicResources(await exported()).find((r) => r.urn === key.urn)!;
  expect(refreshed.outputs!.active).toBe(false);
  // Refresh keeps the reference the outputs had: it was the 0.1 one that ran.
  expect(refreshed.outputs!.__provider).toBe(STORED_BY_0_1["keywire/servicenow:ApiKey"]);

  await ok(["destroy", "--yes", "--skip-preview"]);
  for (const table of ["api_key", "http_key_auth", "sys_auth_profile_mapping", "sys_rate_limit_rules", "sys_user_has_role"]) {
    expect(emu.store.query(table, (r) => r.sys_created_by === "admin")).toEqual([]);
  }
  expect(emu.store.query("sys_user", (r) => r.user_name === "svc.keywire.events")).toEqual([]);
  // The shipped policies keywire adopted are as they were.
  const shippedAfter = emu.store.query("sys_api_access_policy", (r) => r.name.startsWith("Table "));
  for (const before of shippedBefore) {
    const now = shippedAfter.find((r) => r.sys_id === before.sys_id);
    expect(now?.active).toBe(before.active);
  }
});
