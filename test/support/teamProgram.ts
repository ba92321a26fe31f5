/**
 * A team's own Pulumi program, fresh, for the install tests: keywire installed into it
 * through one of the routes docs/install.md documents, and `npx keywire …` run in it as a
 * person would. Nothing of the checkout is on the command's PATH but Node 22 and npm.
 *
 * The program's other dependencies resolve through the checkout's lockfile, so npm takes
 * every tarball from the cache the checkout's own install filled (offline where it can).
 */
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand, which, type CommandResult } from "../../scripts/shared/process";

/** One npx call: the command answers in seconds; the bound is for a machine under load. */
const NPX_TIMEOUT_MS = 2 * 60_000;
const LISTENING = /^servicenow emulator listening on (http:\/\/127\.0\.0\.1:\d+)$/m;
const EMULATOR_START_MS = 60_000;
const EMULATOR_STOP_MS = 20_000;

/** A Pulumi program of the team's own in `dir`: package.json, Pulumi.yaml, an empty program, the lockfile. */
export function createTeamProgram(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name: "team-program", private: true, main: "index.js", dependencies: { "@pulumi/pulumi": "^3.276.0" } }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: team-program\nruntime: nodejs\n");
  fs.writeFileSync(path.join(dir, "index.js"), '"use strict";\n');
  fs.copyFileSync(path.join(REPO_ROOT, "package-lock.json"), path.join(dir, "package-lock.json"));
  return dir;
}

/**
 * The environment `npx keywire` runs with: Node 22 and npm on PATH (before `extraPath`,
 * the test's stand-ins), a HOME of its own (keywire keeps its caches and the emulator's
 * password there) and npm's cache where the checkout's install filled it.
 */
export function teamEnv(home: string, extraPath: string[] = [], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const npx = which("npx", process.env);
  if (!npx) throw new Error("no npx on PATH");
  const env: NodeJS.ProcessEnv = {
    PATH: [...extraPath, path.dirname(process.execPath), path.dirname(npx), "/usr/bin", "/bin"].join(path.delimiter),
    HOME: home,
    npm_config_cache: process.env.npm_config_cache || path.join(os.homedir(), ".npm"),
    npm_config_update_notifier: "false",
    KEYWIRE_TOOLS_DIR: path.join(home, "tools"),
    // Nothing is downloaded: a route that would fetch a CLI fails at once instead.
    KEYWIRE_PULUMI_INSTALLER_URL: "http://127.0.0.1:9/",
    ...extra,
  };
  fs.mkdirSync(home, { recursive: true });
  return env;
}

/** `npx <args>` in the program's directory. */
export async function npx(project: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = NPX_TIMEOUT_MS): Promise<CommandResult> {
  const res = await runCommand("npx", args, { cwd: project, env, timeoutMs });
  if (res.timedOut) throw new Error(`npx ${args.join(" ")} did not finish within ${timeoutMs} ms\n${res.stderr.slice(-2000)}`);
  return res;
}

/** A GET on loopback: its status, or the error's code (ECONNREFUSED once nothing listens). */
export function loopbackGet(url: string, auth?: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(
      url,
      {
        agent: false,
        timeout: 10_000,
        headers: { Accept: "application/json", ...(auth ? { Authorization: `Basic ${Buffer.from(auth).toString("base64")}` } : {}) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

export interface StartedEmulator {
  url: string;
  stderr: () => string;
  /** Sends SIGTERM to the command's process group and resolves once all of it has exited. */
  stop: () => Promise<void>;
}

/** `npx keywire emulator --port 0`, started in its own process group; resolves with its URL once it listens. */
export async function startNpxEmulator(project: string, env: NodeJS.ProcessEnv): Promise<StartedEmulator> {
  const child: ChildProcess = spawn("npx", ["keywire", "emulator", "--port", "0"], { cwd: project, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const group = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // the group has ended already
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      group("SIGKILL");
      reject(new Error(`no listening line within ${EMULATOR_START_MS} ms; stdout: ${out} stderr: ${err}`));
    }, EMULATOR_START_MS);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = LISTENING.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npx keywire emulator exited ${code} before listening; stdout: ${out} stderr: ${err}`));
    });
  });
  const stop = async (): Promise<void> => {
    group("SIGTERM");
    const killer = setTimeout(() => group("SIGKILL"), EMULATOR_STOP_MS);
    await exited;
    clearTimeout(killer);
  };
  return { url, stderr: () => err, stop };
}
