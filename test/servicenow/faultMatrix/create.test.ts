/** The fault matrix for create: see cases.ts. One file per operation, so they run in parallel. */
import { RunningEmulator } from "../../../emulator/servicenow";
import { startEmulator } from "../../support/serviceNow";
import { CASES, FAULTS, Outcome, formatMatrix, runScenario } from "./cases";

jest.setTimeout(60_000);

let emu: RunningEmulator;
const results: Array<{ resource: string; fault: string; outcome: Outcome }> = [];

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.stop();
  process.stdout.write(`\n${formatMatrix("create", results)}\n`);
});

const scenarios = CASES.flatMap((c) => Object.keys(FAULTS).map((fault) => [c.name, fault, c] as const));

test.each(scenarios)("%s create survives %s", async (resource, fault, c) => {
  const outcome = await runScenario(emu, c, "create", fault);
  results.push({ resource, fault, outcome });
  expect(outcome).toEqual({ survived: true });
});
