/**
 * One stack, two instances: a record given its own connection lives on that
 * instance through up, refresh and destroy, beside a record on the stack's
 * `servicenow:*` instance; and the explicit credentials never reach the state in
 * clear.
 */
import * as fs from "fs";
import * as path from "path";
import { RunningEmulator } from "../../emulator/servicenow";
import { LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS } from "../support/pulumiCli";
import { startEmulator } from "../support/serviceNow";
import { setSecretConfigCommand } from "../../scripts/pulumi/secretConfig";

jest.setTimeout(10 * 60_000);

const SECOND_PASSWORD = "second-instance-Pw-7f3a9c";

let first: RunningEmulator;
let second: RunningEmulator;
let stack: LocalStack;

/** A program of a team's own: one profile on each instance. */
const PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
import { InboundProfile } from "./resources/servicenow/records/inboundProfile";

const cfg = new pulumi.Config("second");
new InboundProfile("on-the-stack-instance", { name: "stack instance profile", keyLocation: "header" });
const other = new InboundProfile("on-the-second-instance", {
  name: "second instance profile",
  keyLocation: "query",
  connection: { instance: cfg.require("instance"), username: "admin", password: cfg.requireSecret("password") },
});
export const secondSysId = other.sysId;
`;

async function ok(args: string[], input?: string) {
  const res = await stack.run(args, undefined, input);
  if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`);
  return res;
}

const profiles = (emu: RunningEmulator, name: string) => emu.store.query("http_key_auth", (r) => r.name === name);

beforeAll(async () => {
  first = await startEmulator();
  second = await startEmulator({ adminPassword: SECOND_PASSWORD });
  stack = await createLocalStack("connections", first.url);
  const index = path.join(stack.project, "index.ts");
  fs.rmSync(index);
  fs.writeFileSync(index, PROGRAM);
  await ok(["config", "set", "second:instance", second.url]);
  const secret = setSecretConfigCommand("second:password", SECOND_PASSWORD);
  await ok(secret.args, secret.input);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await first?.stop();
  await second?.stop();
  stack?.cleanup();
});

test("each record lives on its own instance through up, refresh and destroy; the explicit password stays secret", async () => {
  await ok(["up", "--yes", "--skip-preview"]);
  expect(profiles(first, "stack instance profile")).toHaveLength(1);
  expect(profiles(first, "second instance profile")).toHaveLength(0);
  expect(profiles(second, "second instance profile")).toHaveLength(1);
  expect(profiles(second, "stack instance profile")).toHaveLength(0);

  // A change made on the second instance is found by a refresh of that record.
  const id = profiles(second, "second instance profile")[0].sys_id;
  second.store.update("http_key_auth", id, { active: "false" });
  const drift = await stack.run(["preview", "--refresh", "--expect-no-changes"]);
  expect(drift.code).not.toBe(0);
  await ok(["up", "--refresh", "--yes", "--skip-preview"]);
  expect(second.store.get("http_key_auth", id)!.active).toBe("true");

  const state = (await ok(["stack", "export"])).stdout;
  expect(state).toContain(second.url);
  expect(state).not.toContain(SECOND_PASSWORD);
  expect(state).toContain("4dabf18193072939515e22adb298388d"); // the engine's secret signature: the connection is a secret

  await ok(["destroy", "--yes", "--skip-preview"]);
  expect(profiles(second, "second instance profile")).toHaveLength(0);
  expect(profiles(first, "stack instance profile")).toHaveLength(0);
});
