/**
 * What the state holds of the deploying identity's credentials, through the real
 * engine (docs/security.md, "What the state holds").
 *
 * Pulumi gives the default `pulumi-nodejs` provider, which runs every dynamic
 * resource, the stack's whole configuration and records it as that provider
 * resource's inputs and outputs. With `servicenow:password` in the configuration,
 * the password is in the state there, encrypted as a secret. With the password in
 * SERVICENOW_PASSWORD instead, which the providers read from their environment,
 * the state holds no credential of the deploying identity at all.
 *
 * One stack goes from the first route to the second, so the tests run in order in
 * one file: one `up` and one export on each route.
 */
import * as fs from "fs";
import * as path from "path";
import { RunningEmulator } from "../../emulator/servicenow";
import { LOCAL_STACK, LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS, runPulumi } from "../support/pulumiCli";
import { ADMIN_PASSWORD, startEmulator } from "../support/serviceNow";

jest.setTimeout(10 * 60_000);

const DEFAULT_PROVIDER = `urn:pulumi:${LOCAL_STACK}::keywire::pulumi:providers:pulumi-nodejs::default`;
/** The password as it would travel: itself, and in a Basic header. */
const FORMS = [ADMIN_PASSWORD, Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")];

interface StateResource {
  urn: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}
interface Exported {
  deployment: { resources: StateResource[] };
}

let emu: RunningEmulator;
let stack: LocalStack;

beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  // The stack as the demo makes it: servicenow:username in the stack file, servicenow:password set with --secret.
  stack = await createLocalStack("state-credentials", emu.url);
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  stack?.cleanup();
});

async function ok(args: string[], env: NodeJS.ProcessEnv = stack.env): Promise<string> {
  const res = await runPulumi([...args, "--stack", LOCAL_STACK, "--non-interactive"], { cwd: stack.project, env, timeoutMs: 5 * 60_000 });
  if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n${res.stdout.slice(-3000)}\n${res.stderr.slice(-3000)}`);
  return res.stdout;
}

/** Every place in the decrypted state that holds the password, as `<urn> <inputs|outputs>.<key>`. */
function wherePassword(state: Exported): string[] {
  const found: string[] = [];
  for (const r of state.deployment.resources) {
    for (const part of ["inputs", "outputs"] as const) {
      for (const [key, value] of Object.entries(r[part] ?? {})) {
        const text = JSON.stringify(value);
        if (FORMS.some((f) => text.includes(f))) found.push(`${r.urn} ${part}.${key}`);
      }
    }
  }
  return found;
}

/** The backend's files (current checkpoint, its backup and the update history) as text. */
function backendFiles(): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ file: path.relative(stack.backend.dir, p), text: fs.readFileSync(p, "utf8") });
    }
  };
  walk(path.join(stack.backend.dir, "state"));
  return out;
}

test("config route: the password is in the default provider's inputs and outputs, encrypted, and nowhere else", async () => {
  await ok(["up", "--yes", "--skip-preview"]);
  const state = JSON.parse(await ok(["stack", "export", "--show-secrets"])) as Exported;
  expect(wherePassword(state)).toEqual([`${DEFAULT_PROVIDER} inputs.servicenow:password`, `${DEFAULT_PROVIDER} outputs.servicenow:password`]);
  // On disk it is a secret: ciphertext only, in no file of the backend in clear.
  for (const { file, text } of backendFiles()) {
    for (const form of FORMS) expect({ file, holds: text.includes(form) }).toEqual({ file, holds: false });
  }
});

test("environment route: with SERVICENOW_PASSWORD instead of servicenow:password, the state holds no credential", async () => {
  await ok(["config", "rm", "servicenow:password"]);
  await ok(["up", "--yes", "--skip-preview"], { ...stack.env, SERVICENOW_PASSWORD: ADMIN_PASSWORD });
  const exported = await ok(["stack", "export", "--show-secrets"]);
  for (const form of FORMS) expect(exported).not.toContain(form);
  const state = JSON.parse(exported) as Exported;
  expect(wherePassword(state)).toEqual([]);
  const provider = state.deployment.resources.find((r) => r.urn === DEFAULT_PROVIDER);
  // The provider still records the rest of the configuration, the user name included.
  expect(provider?.inputs).toMatchObject({ "servicenow:username": "admin", "servicenow:instanceUrl": emu.url });
  expect(Object.keys(provider?.inputs ?? {})).not.toContain("servicenow:password");

  // The chain was built and verified with the password from the environment.
  const outputs = JSON.parse(await ok(["stack", "output", "--json"])) as Record<string, unknown>;
  expect(outputs.verified).toBe(true);

  // Checkpoints written before the switch keep the password (encrypted) in the backend's history.
  const earlier = backendFiles().filter(({ file, text }) => file.includes(`${path.sep}history${path.sep}`) && text.includes('"servicenow:password"'));
  expect(earlier.length).toBeGreaterThan(0);
});

test("a credential set without --secret stops the run with the command that encrypts it", async () => {
  // The CLI itself asks for --secret or --plaintext for a key named like a token; with
  // --plaintext (or an edited stack file) it is stored in clear, and the CLI tells the
  // program which keys it stores encrypted: this one it does not.
  const token = "now_cleartext-test-token-0123";
  await ok(["config", "set", "--plaintext", "keywire:apiKeyToken", token]);
  const res = await runPulumi(["preview", "--stack", LOCAL_STACK, "--non-interactive"], {
    cwd: stack.project,
    env: { ...stack.env, SERVICENOW_PASSWORD: ADMIN_PASSWORD },
    timeoutMs: 5 * 60_000,
  });
  expect(res.code).not.toBe(0);
  expect(res.stdout).toContain("keywire:apiKeyToken: is stored in clear text");
  expect(res.stdout).toContain("pulumi config set --secret keywire:apiKeyToken");
  expect(res.stdout + res.stderr).not.toContain(token);
});
