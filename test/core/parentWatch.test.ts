/**
 * The dynamic-provider process stops once the engine that started it is gone
 * (resources/core/parentWatch.ts): when its parent dies, and when nothing listens at
 * the engine's address although its parent lives (the shape of an official CLI's
 * plugin script, which runs node as a child of sh). Shown with real processes on
 * loopback; the provider-process start goes through the loader, as in a run.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ChildProcess, spawn } from "child_process";
import { engineAddressIn, isProviderProcess, startProviderWatch, watchEngine, STOPPED_EXIT_CODE } from "../../resources/core/parentWatch";
import { GONE_WITHIN_MS } from "../support/killedRun";

const ROOT = path.resolve(__dirname, "..", "..");
const LOADER = path.join(ROOT, "resources", "core", "providerLoading", "loadProvider.js");
/** The stand-in provider process may compile the watch through ts-node first. */
const READY_WITHIN_MS = 30_000;
const POLL_MS = 50;

jest.setTimeout(60_000);

let work: string;
const started: number[] = [];

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-parent-watch-"));
});
afterEach(() => {
  // Whatever a test left running is stopped by pid.
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(ready: () => boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (ready()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/** Whether `pid` runs (a zombie, dead but not yet reaped, does not). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * A stand-in dynamic-provider process: a script at `<work>/…/cmd/dynamic-provider/index.js`
 * (the path the Node SDK's server has) that loads a provider through the real loader, in
 * a program directory, and then idles. Its arguments are the engine's address, as the
 * engine passes it. It prints `ready <pid>` once the provider is loaded.
 */
function providerScript(): string {
  const program = path.join(work, "program");
  fs.mkdirSync(program, { recursive: true });
  fs.writeFileSync(
    path.join(program, "provider.js"),
    `exports.standIn = { typeName: "StandIn", reference: { m: "keywire", e: "standIn" }, create: async () => ({ id: "x" }) };\n`,
  );
  const script = path.join(work, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");
  fs.mkdirSync(path.dirname(script), { recursive: true });
  fs.writeFileSync(
    script,
    `process.chdir(${JSON.stringify(program)});
require(${JSON.stringify(LOADER)})({ module: "provider.js", exportName: "standIn" });
console.log("ready " + process.pid);
// Idles like a provider between calls; this timer does not outlast the test.
setTimeout(() => undefined, 60000);
`,
  );
  return script;
}

interface Watched {
  child: ChildProcess;
  /** The stand-in provider's pid, once it said it is ready. */
  pid: () => number | undefined;
  stderr: () => string;
  exitCode: () => number | null | undefined;
}

function watchOutput(child: ChildProcess): Watched {
  let out = "";
  let err = "";
  let code: number | null | undefined;
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  child.on("exit", (c) => (code = c));
  if (child.pid) started.push(child.pid);
  return {
    child,
    pid: () => {
      const m = /ready (\d+)/.exec(out);
      if (!m) return undefined;
      const pid = Number(m[1]);
      if (!started.includes(pid)) started.push(pid);
      return pid;
    },
    stderr: () => err,
    exitCode: () => code,
  };
}

function listen(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

test("a provider process whose parent dies stops, and says why", async () => {
  const engine = await listen();
  try {
    // sh runs node as its child and waits; killing sh alone orphans the provider, as a SIGKILLed CLI does.
    const sh = watchOutput(
      spawn("sh", ["-c", `"${process.execPath}" "$0" "$1" & wait`, providerScript(), `127.0.0.1:${portOf(engine)}`], {
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    expect(await waitFor(() => sh.pid() !== undefined, READY_WITHIN_MS)).toBe(true);
    const provider = sh.pid()!;
    sh.child.kill("SIGKILL");
    expect(await waitFor(() => !running(provider), GONE_WITHIN_MS)).toBe(true);
    // The engine still listens here: the parent's death alone was enough.
    expect(sh.stderr()).toMatch(/keywire: the Pulumi engine is gone \(its parent process \d+ ended\); the provider stops/);
  } finally {
    engine.close();
  }
});

test("a provider process whose parent lives stops once nothing listens at the engine's address, and not before", async () => {
  const engine = await listen();
  const port = portOf(engine);
  const provider = watchOutput(spawn(process.execPath, [providerScript(), `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] }));
  expect(await waitFor(() => provider.pid() !== undefined, READY_WITHIN_MS)).toBe(true);
  // While the engine answers, the provider stays, through several probes.
  await sleep(2_500);
  expect(provider.exitCode()).toBeUndefined();
  await new Promise((resolve) => engine.close(resolve));
  expect(await waitFor(() => provider.exitCode() !== undefined, GONE_WITHIN_MS)).toBe(true);
  expect(provider.exitCode()).toBe(STOPPED_EXIT_CODE);
  expect(provider.stderr()).toContain(`nothing listens at the engine's address 127.0.0.1:${port}`);
});

test("the watch reports a changed parent once, and nothing after stop()", async () => {
  let parent = 100;
  const reasons: string[] = [];
  watchEngine({ parentPid: 100, currentParent: () => parent, onGone: (r) => reasons.push(r), checkEveryMs: 10 });
  await sleep(50);
  expect(reasons).toEqual([]);
  parent = 1;
  expect(await waitFor(() => reasons.length > 0, 1_000)).toBe(true);
  await sleep(50);
  expect(reasons).toEqual(["its parent process 100 ended"]);

  const stopped: string[] = [];
  const watch = watchEngine({ parentPid: 100, currentParent: () => 1, onGone: (r) => stopped.push(r), checkEveryMs: 10 });
  watch.stop();
  await sleep(50);
  expect(stopped).toEqual([]);
});

test("only a loopback engine address is taken from the arguments", () => {
  expect(engineAddressIn(["127.0.0.1:4321"])).toEqual({ host: "127.0.0.1", port: 4321 });
  expect(engineAddressIn(["--logtostderr", "-v=9", "127.0.0.1:4321"])).toEqual({ host: "127.0.0.1", port: 4321 });
  expect(engineAddressIn(["localhost:80"])).toEqual({ host: "localhost", port: 80 });
  expect(engineAddressIn(["[::1]:80"])).toEqual({ host: "::1", port: 80 });
  expect(engineAddressIn(["10.0.0.5:4321"])).toBeUndefined();
  expect(engineAddressIn(["engine.example:4321"])).toBeUndefined();
  expect(engineAddressIn(["127.0.0.1:99999"])).toBeUndefined();
  expect(engineAddressIn([])).toBeUndefined();
});

test("the watch starts only in a dynamic-provider process: both plugin shapes run the SDK's server by its path", () => {
  expect(isProviderProcess(["node", "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js", "127.0.0.1:1"])).toBe(true);
  expect(isProviderProcess(["node", "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider", "127.0.0.1:1"])).toBe(true);
  expect(isProviderProcess(["node", "/p/node_modules/@pulumi/pulumi/cmd/run/index.js", "--monitor=127.0.0.1:1", "."])).toBe(false);
  // This jest worker is no provider process: nothing starts, nothing will stop it.
  expect(startProviderWatch()).toBeUndefined();
  expect(startProviderWatch(["node", "/p/jest-worker/processChild.js", "127.0.0.1:1"])).toBeUndefined();
});
