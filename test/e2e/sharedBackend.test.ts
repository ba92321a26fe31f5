/**
 * State a whole team shares: keywire's `local` stack kept in an S3-compatible bucket
 * (Pulumi's DIY backend, `pulumi login s3://…`) and run from two checkouts at
 * different paths, as two CI runners or two laptops run it. The bucket is an
 * in-memory S3 server on loopback (tools/s3-test-server), the instance the emulator.
 *
 * What must hold: either checkout previews, refreshes and updates what the other
 * deployed (the state names no checkout path, and the providers it refers to load
 * from whichever checkout runs); both must share the stack file and passphrase; and
 * Pulumi's lock refuses an `up` while another holds the stack, so nothing on the
 * instance is lost or made twice.
 *
 * The steps build on each other, so they run in order in one file.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RunningEmulator } from "../../emulator/servicenow";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand, which } from "../../scripts/shared/process";
import { LOCAL_STACK, LocalStack, createLocalStack } from "../support/localStack";
import { PULUMI_SETUP_TIMEOUT_MS, RunPulumiResult, runPulumi } from "../support/pulumiCli";
import { DUMMY_AWS_ENV, S3TestServer, startS3TestServer } from "../support/s3Server";
import { startEmulator } from "../support/serviceNow";

jest.setTimeout(4 * 60_000);

const BUCKET = "keywire-team-state";
/** Where the DIY backend keeps this stack's checkpoint and its locks. */
const STATE_KEY = `.pulumi/stacks/keywire/${LOCAL_STACK}.json`;
const LOCKS = ".pulumi/locks/";
const LOCK_WAIT_MS = 90_000;

let emu: RunningEmulator;
let s3: S3TestServer;
/** The checkout that creates the stack, and a second one at another, deeper path. */
let a: LocalStack;
let b: LocalStack;
let runnerB: string;

function expectOk(res: RunPulumiResult, what: string): RunPulumiResult {
  if (res.code !== 0) {
    throw new Error(
      `${what} exited ${res.timedOut ? "(timed out)" : res.code}\n--- stdout\n${res.stdout.slice(-3000)}\n--- stderr\n${res.stderr.slice(-3000)}`,
    );
  }
  return res;
}

async function ok(stack: LocalStack, args: string[]): Promise<RunPulumiResult> {
  return expectOk(await stack.run(args), `pulumi ${args.join(" ")} in ${stack.project}`);
}

async function outputs(stack: LocalStack): Promise<Record<string, unknown>> {
  return JSON.parse((await ok(stack, ["stack", "output", "--json"])).stdout) as Record<string, unknown>;
}

/** A checkout's stack file, which a team keeps in git with the program. */
const stackFile = (stack: LocalStack): string => path.join(stack.project, "stacks", `Pulumi.${LOCAL_STACK}.yaml`);

/** `from`'s committed stack file reaches `to` (a pull). */
function pullStackFile(from: LocalStack, to: LocalStack): void {
  fs.copyFileSync(stackFile(from), stackFile(to));
}

/**
 * What keywire made on the instance, by table: the records the deploying user created
 * (the emulator's seed has none of those). The local stack declares one integration
 * user with two roles (evt_mgmt_integration, itil), one API-key profile, one Event
 * Management policy of its own (the Table GET/POST policies are adopted, not
 * created), three links from the profile to the event, Table GET and Table POST
 * policies, one API key and one rate-limit rule.
 */
const DECLARED: Record<string, number> = {
  sys_user: 1,
  sys_user_has_role: 2,
  http_key_auth: 1,
  sys_api_access_policy: 1,
  sys_auth_profile_mapping: 3,
  api_key: 1,
  sys_rate_limit_rules: 1,
};

function instanceRecords(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const table of Object.keys(DECLARED)) {
    counts[table] = emu.store.query(table, (r) => r.sys_created_by === "admin").length;
  }
  return counts;
}

function rateLimit(): string[] {
  return emu.store.query("sys_rate_limit_rules", (r) => r.sys_created_by === "admin").map((r) => r.max_requests_per_hour);
}

/** Moves `dir` away while `fn` runs: what the other checkout does must not need it. */
async function without<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const away = `${dir}.away`;
  fs.renameSync(dir, away);
  try {
    return await fn();
  } finally {
    fs.renameSync(away, dir);
  }
}

async function waitForLock(): Promise<string> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (Date.now() < deadline) {
    const locks = await s3.listKeys(LOCKS);
    if (locks.length > 0) return locks[0];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no lock appeared under ${LOCKS} within ${LOCK_WAIT_MS} ms`);
}

beforeAll(async () => {
  // The emulator answers the token on read-back, as some instances do: the key's token
  // reaches the state without an operator copying it from the form.
  emu = await startEmulator({ tokenReadback: "input_display_value" });
  s3 = await startS3TestServer(BUCKET);
  // Sources copied: each checkout holds its own program, as a runner's clone does, so
  // the providers the state refers to load from the checkout that runs.
  a = await createLocalStack("shared-a", emu.url, { copySources: true, backendUrl: s3.backendUrl, env: DUMMY_AWS_ENV });
  runnerB = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-e2e-shared-b-runner-"));
  b = await createLocalStack("shared-b", emu.url, {
    copySources: true,
    projectDir: path.join(runnerB, "builds", "platform", "keywire"),
    sharedWith: a,
  });
}, PULUMI_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await emu?.stop();
  await s3?.stop();
  a?.cleanup();
  b?.cleanup();
  if (runnerB) fs.rmSync(runnerB, { recursive: true, force: true });
});

test("the first checkout's up keeps the state in the bucket, names no checkout path, and leaves no lock", async () => {
  expect(path.dirname(a.project)).not.toBe(path.dirname(b.project));
  await ok(a, ["up", "--yes", "--skip-preview"]);
  expect((await outputs(a)).verified).toBe(true);
  expect(instanceRecords()).toEqual(DECLARED);

  const keys = await s3.listKeys(".pulumi/");
  expect(keys).toContain(STATE_KEY);
  expect(await s3.listKeys(LOCKS)).toEqual([]);

  // Each provider is stored as a reference to keywire's public module and export, which
  // each checkout resolves from its own program directory, and no path of any checkout
  // is in what keywire stores. (The engine's own sourcePosition/stackTrace debugging
  // records where the SDK ran, here a linked node_modules: they are the engine's, not
  // keywire's, and left out.)
  type StoredResource = { inputs?: { __provider?: unknown }; sourcePosition?: unknown; stackTrace?: unknown };
  const resources = (JSON.parse(await s3.getObject(STATE_KEY)) as { checkpoint: { latest: { resources: StoredResource[] } } }).checkpoint.latest.resources;
  const state = JSON.stringify(resources.map(({ sourcePosition: _p, stackTrace: _t, ...kept }) => kept));
  const providers = resources.map((r) => r.inputs?.__provider).filter((p): p is string => typeof p === "string");
  expect(providers.length).toBeGreaterThan(5);
  for (const text of providers) {
    expect(text).toContain('"keywire/loadProvider"');
    expect(text).toMatch(/\{"m":"keywire\/servicenow","e":"[A-Za-z]+Provider"/);
    expect(text).not.toContain("resources/");
  }
  for (const checkout of [a.project, b.project, REPO_ROOT]) expect(state).not.toContain(checkout);
});

test("the second checkout, at another path and without the first one's files, previews, refreshes and updates the stack", async () => {
  await without(a.project, async () => {
    // The same state, code and configuration: nothing to do.
    await ok(b, ["preview", "--expect-no-changes"]);
    // Refresh reads every record through the providers the state refers to, loaded
    // from this checkout.
    const refresh = await ok(b, ["refresh", "--yes", "--skip-preview"]);
    expect(refresh.stdout).not.toMatch(/no provider code/);
    expect(instanceRecords()).toEqual(DECLARED);

    await ok(b, ["config", "set", "--path", "keywire:rateLimit.requestsPerHour", "1800"]);
    await ok(b, ["up", "--yes", "--skip-preview"]);
  });
  expect(rateLimit()).toEqual(["1800"]);
  expect(instanceRecords()).toEqual(DECLARED);
  expect((await outputs(b)).verified).toBe(true);

  // The first checkout, with the stack file it pulls, sees what the second did.
  pullStackFile(b, a);
  await ok(a, ["preview", "--expect-no-changes"]);
});

test("a checkout with another passphrase cannot read the stack's secrets", async () => {
  const res = await runPulumi(["stack", "output", "--show-secrets", "--json", "--stack", LOCAL_STACK, "--non-interactive"], {
    cwd: b.project,
    env: { ...b.env, PULUMI_CONFIG_PASSPHRASE: "not-the-team-passphrase" },
    timeoutMs: 60_000,
  });
  expect(res.code).not.toBe(0);
  expect(res.stderr).toMatch(/incorrect passphrase/i);
});

test("two ups at once: the lock refuses the second while the first holds the stack; nothing is lost or made twice", async () => {
  // Both checkouts carry the same change, so the first up has work to do.
  await ok(a, ["config", "set", "--path", "keywire:rateLimit.requestsPerHour", "900"]);
  pullStackFile(a, b);

  const first = a.run(["up", "--yes"]);
  // Pulumi's DIY lock is a file written and then checked for rivals: two processes
  // that write theirs in the same instant can both see a rival and both give up, so
  // which of two exactly simultaneous starts wins is not defined. The second up
  // starts once the first one's lock is in the bucket, while the first one runs.
  const lock = await waitForLock();
  expect(lock).toMatch(new RegExp(`^\\.pulumi/locks/organization/keywire/${LOCAL_STACK}/[0-9a-f-]+\\.json$`));
  const second = await b.run(["up", "--yes"]);
  const winner = await first;

  expectOk(winner, "the first up");
  expect(second.code).not.toBe(0);
  expect(second.stderr).toContain("the stack is currently locked by 1 lock(s)");
  expect(second.stderr).toContain(lock);

  expect(await s3.listKeys(LOCKS)).toEqual([]);
  expect(rateLimit()).toEqual(["900"]);
  expect(instanceRecords()).toEqual(DECLARED);
  // The refused up changed nothing: the state is the winner's, whole.
  await ok(b, ["preview", "--expect-no-changes"]);
  expect((await outputs(b)).verified).toBe(true);
});

test("npm run pulumi uses the backend a `pulumi login` chose", async () => {
  const npm = which("npm");
  expect(npm).toBeDefined();
  // A Pulumi home of its own: the login is this runner's, as ~/.pulumi is a person's.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-e2e-shared-login-"));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, ...b.env, PULUMI_HOME: home };
    // The backend is the login's to choose.
    delete env.PULUMI_BACKEND_URL;
    // Run from the second checkout's working copy, which holds the program but not
    // keywire's scripts: --prefix names the package whose `pulumi` script runs, and
    // npm hands the wrapper the caller's directory (INIT_CWD).
    const npmRun = (args: string[]) =>
      runCommand(npm as string, ["--prefix", REPO_ROOT, "run", "-s", "pulumi", "--", ...args], { cwd: b.project, env, timeoutMs: 2 * 60_000 });
    const login = await npmRun(["login", s3.backendUrl]);
    expect(login.stderr).not.toMatch(/conflicts with the login URL/);
    expect(login.code).toBe(0);
    const who = await npmRun(["whoami", "--verbose"]);
    expect(who.code).toBe(0);
    expect(who.stdout).toContain(`Backend URL: s3://${BUCKET}?`);
    const ls = await npmRun(["stack", "ls", "--json", "--non-interactive"]);
    expect(ls.code).toBe(0);
    expect((JSON.parse(ls.stdout) as { name: string }[]).map((s) => s.name)).toContain(LOCAL_STACK);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
