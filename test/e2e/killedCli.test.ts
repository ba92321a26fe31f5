/**
 * A `pulumi up` whose CLI is killed with SIGKILL mid-run, as a CI timeout or a
 * cancelled job does: the CLI alone is killed, not its process group (the engine
 * starts each plugin in a group of its own, so killing the CLI's group would not
 * reach them either). Every other process of that run — the language host, the
 * Node program, the dynamic-provider process — must stop on its own within a
 * bounded time, and the ServiceNow instance (the in-process emulator, answering
 * slowly so that the run is mid-flight) must receive no request after the kill.
 *
 * Two routes, as teams run keywire: keywire's own CLI with its language host and
 * provider plugin; and a provider plugin shaped like an official CLI's, where only
 * keywire's JavaScript in the provider process can notice (see officialShapedPlugin).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { RunningEmulator } from "../../emulator/servicenow";
import { LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS, PulumiToolchain, ensurePulumi } from "../support/pulumiCli";
import { startEmulator } from "../support/serviceNow";
import { LATENCY_MS, explain, upKilledAtKeyCreate } from "../support/killedRun";

jest.setTimeout(10 * 60_000);

let tc: PulumiToolchain;
let emu: RunningEmulator;
const stacks: LocalStack[] = [];
let work: string;

beforeAll(async () => {
  tc = await ensurePulumi();
  emu = await startEmulator();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-e2e-killed-"));
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  for (const s of stacks) s.cleanup();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function freshStack(name: string): Promise<LocalStack> {
  emu.setFaults({});
  const stack = await createLocalStack(name, emu.url);
  stacks.push(stack);
  emu.setFaults({ latencyMs: LATENCY_MS });
  return stack;
}

test("keywire's CLI: after a SIGKILL of the CLI alone, the host, the program and the provider stop, and no request reaches the instance", async () => {
  const stack = await freshStack("killed-own");
  const run = await upKilledAtKeyCreate(tc, emu, stack, {});
  // The run had its processes when it was killed: the language host, the program, the provider.
  expect(run.before.some((p) => /pulumi-language-nodejs/.test(p.cmdline))).toBe(true);
  expect(run.before.some((p) => /cmd\/run/.test(p.cmdline))).toBe(true);
  expect(run.before.some((p) => /cmd\/dynamic-provider/.test(p.cmdline))).toBe(true);
  expect({ leftAlive: run.leftAlive, lateRequests: run.lateRequests, detail: explain(run) }).toEqual({
    leftAlive: [],
    lateRequests: {},
    detail: expect.any(String),
  });
});

/**
 * A directory holding a dynamic-provider plugin shaped like the one an official CLI
 * ships: a shell script that runs node as its child (no exec), so the provider's parent
 * is that shell, which outlives the CLI. Put first on PATH, the engine prefers it to the
 * plugin beside its binary.
 */
function officialShapedPlugin(): string {
  const dir = path.join(work, "official-shaped-bin");
  fs.mkdirSync(dir, { recursive: true });
  const plugin = path.join(dir, "pulumi-resource-pulumi-nodejs");
  fs.writeFileSync(
    plugin,
    `#!/bin/sh
provider=$(node -e 'process.stdout.write(require.resolve("@pulumi/pulumi/cmd/dynamic-provider"))')
node "$provider" "$@"
`,
  );
  fs.chmodSync(plugin, 0o755);
  return dir;
}

test("an official CLI's plugin shape: the provider under sh stops too, and no request reaches the instance", async () => {
  const stack = await freshStack("killed-official");
  const bin = officialShapedPlugin();
  const run = await upKilledAtKeyCreate(tc, emu, stack, { PATH: `${bin}${path.delimiter}${tc.env.PATH ?? ""}` });
  // The provider ran as the child of the shaped script, not of the CLI.
  const provider = run.before.find((p) => /cmd\/dynamic-provider/.test(p.cmdline));
  const parent = run.before.find((p) => p.pid === provider?.ppid);
  expect(parent?.cmdline).toContain(path.join(bin, "pulumi-resource-pulumi-nodejs"));
  expect({ leftAlive: run.leftAlive, lateRequests: run.lateRequests, detail: explain(run) }).toEqual({
    leftAlive: [],
    lateRequests: {},
    detail: expect.any(String),
  });
});
