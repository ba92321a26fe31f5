/** Starts the emulator's CLI as a child process, as `npm run emulator` does. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(__dirname, "../../..");
const LINE = /^servicenow emulator listening on http:\/\/127\.0\.0\.1:(\d+)$/m;

/** The password the CLI tests give the emulator through its environment variable. */
const CLI_TEST_PASSWORD = "admin";

export interface CliProcess {
  child: ChildProcess;
  /** Resolves with the URL from the listening line; rejects if the process exits first or after 25 s. */
  ready: Promise<string>;
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/**
 * `env` replaces the default environment, which passes CLI_TEST_PASSWORD so that no test run
 * creates the checkout's `.demo/admin-password`.
 */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = { ...process.env, KEYWIRE_EMULATOR_ADMIN_PASSWORD: CLI_TEST_PASSWORD }): CliProcess {
  const child = spawn(
    process.execPath,
    [join(ROOT, "node_modules/ts-node/dist/bin.js"), "--transpile-only", join(ROOT, "emulator/servicenow/cli.ts"), ...args],
    {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line; output: ${out} ${err}`)), 25_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = LINE.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    });
    child.on("exit", () => {
      clearTimeout(timer);
      reject(new Error(`exited early; output: ${out} ${err}`));
    });
  });
  ready.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, ready, exited, stdout: () => out, stderr: () => err };
}
