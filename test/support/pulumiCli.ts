/**
 * The real Pulumi engine for end-to-end tests: the same toolchain `npm run pulumi`
 * uses (scripts/pulumi/toolchain/ensurePulumi.ts), provided once per jest worker, and a runner with
 * a hard time limit. Tests give each run its own backend through createTempBackend,
 * so no test touches the developer's state or ~/.pulumi.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensurePulumi as ensureToolchain, type Toolchain } from "../../scripts/pulumi/toolchain/ensurePulumi";
import type { Route } from "../../scripts/pulumi/toolchain/route";
import { runCommand } from "../../scripts/shared/process";

/** A cold cache builds the CLI from source: 8–9 minutes on 2 idle cores, 23 minutes
 * seen on a busy machine (docs/toolchain.md). Give beforeAll this much. */
export const PULUMI_SETUP_TIMEOUT_MS = 45 * 60_000;
const DEFAULT_RUN_TIMEOUT_MS = 3 * 60_000;
/** Time a stopped pulumi gets to end its plugins before the whole group is killed. */
const KILL_GRACE_MS = 5_000;

export interface PulumiToolchain {
  /** Absolute path of the pulumi executable. */
  bin: string;
  /** The environment `npm run pulumi` uses (toolchain/environment.ts pulumiEnv: the team's own for a
   * pulumi from PATH, keywire's offline-safe one for a CLI keywire provided). */
  env: NodeJS.ProcessEnv;
  /** e.g. "3.276.0", the installed @pulumi/pulumi version. */
  version: string;
  /** Where the CLI came from: "path" (the team's own), "installer" or "go". */
  route: Route;
}

let pending: Promise<Toolchain> | undefined;

/** Provides the toolchain (cached across calls and across runs). */
export async function ensurePulumi(): Promise<PulumiToolchain> {
  pending ??= ensureToolchain({ log: (l) => process.stderr.write(`[pulumi-setup] ${l}\n`) });
  try {
    const tc = await pending;
    return { bin: tc.pulumi, env: tc.env, version: tc.version, route: tc.route };
  } catch (err) {
    pending = undefined; // let a later call try again
    throw err;
  }
}

export interface RunPulumiOptions {
  cwd: string;
  /** Added to (and overriding) the toolchain's environment; keep its PATH. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Written to the command's stdin (a secret config value); without it stdin is closed. */
  input?: string;
}

export interface RunPulumiResult {
  /** Exit code; null when the run was killed (see timedOut). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `pulumi <args>` to completion or until the time limit, never prompting (runCommand, scripts/shared/process.ts). */
export async function runPulumi(args: string[], opts: RunPulumiOptions): Promise<RunPulumiResult> {
  const tc = await ensurePulumi();
  const res = await runCommand(tc.bin, args, {
    cwd: opts.cwd,
    env: { ...tc.env, ...opts.env },
    timeoutMs: opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
    killGraceMs: KILL_GRACE_MS,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  return { code: res.code, stdout: res.stdout, stderr: res.stderr, timedOut: res.timedOut };
}

export interface TempBackend {
  /** Root of the temporary directory (state/ for a file backend, home/, and room for the test's own files). */
  dir: string;
  /** PULUMI_BACKEND_URL, PULUMI_HOME and PULUMI_CONFIG_PASSPHRASE for runPulumi. */
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** The passphrase of every test stack: checkouts that share a stack must share it. */
const TEST_PASSPHRASE = "keywire-e2e-passphrase";

/**
 * A Pulumi home in a fresh temporary directory, and the state in a local file backend
 * there, or at `opts.url` (e.g. an s3:// bucket several checkouts share). Each
 * backend has a home of its own, as each CI runner or laptop has its own ~/.pulumi.
 */
export function createTempBackend(prefix = "keywire-pulumi-", opts: { url?: string } = {}): TempBackend {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const home = path.join(dir, "home");
  fs.mkdirSync(home);
  let url = opts.url;
  if (url === undefined) {
    const state = path.join(dir, "state");
    fs.mkdirSync(state);
    url = `file://${state}`;
  }
  return {
    dir,
    env: {
      PULUMI_BACKEND_URL: url,
      PULUMI_HOME: home,
      PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
