/**
 * keywire's `local` stack through the real engine, for the end-to-end suites: a
 * temporary file backend (or a given one, such as a bucket several checkouts
 * share), a working copy of the program, the stack configured for an emulator,
 * and one cleanup for all of it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { prepareProject } from "../../scripts/demo/project";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { setSecretConfigCommand } from "../../scripts/pulumi/secretConfig";
import { RunPulumiResult, TempBackend, createTempBackend, ensurePulumi, runPulumi } from "./pulumiCli";
import { ADMIN_PASSWORD } from "./serviceNow";

export const LOCAL_STACK = "local";

export interface LocalStack {
  /** The program's working copy. */
  project: string;
  backend: TempBackend;
  /** The environment every `pulumi` call of the suite runs with. */
  env: NodeJS.ProcessEnv;
  /** `pulumi <args> --stack local --non-interactive` in the project, at most `timeoutMs`; `input` goes to its stdin. */
  run(args: string[], timeoutMs?: number, input?: string): Promise<RunPulumiResult>;
  cleanup(): void;
}

export interface LocalStackOptions {
  /** Copy the program's sources instead of linking them (suites that change code, or
   * that need the program to live at the checkout's own path). */
  copySources?: boolean;
  /** Where the working copy goes; a fresh temporary directory when not given. It is
   * removed by cleanup() either way. */
  projectDir?: string;
  /** The backend for a new stack (e.g. an s3:// bucket) instead of a temporary file backend. */
  backendUrl?: string;
  /** Added to every `pulumi` call's environment (e.g. the bucket's credentials). */
  env?: NodeJS.ProcessEnv;
  /**
   * Another checkout of a stack that exists already, as a second CI runner has one:
   * same backend, same environment and passphrase, and that checkout's stack file
   * (what a team commits: configuration, secrets encrypted with the stack's salt);
   * no `stack init` and no configuration of its own. Its Pulumi home is its own.
   */
  sharedWith?: LocalStack;
}

/**
 * A configured `local` stack against the emulator at `emulatorUrl`, or (`sharedWith`)
 * another checkout of one.
 */
export async function createLocalStack(name: string, emulatorUrl: string, opts: LocalStackOptions = {}): Promise<LocalStack> {
  await ensurePulumi();
  const shared = opts.sharedWith;
  const backendUrl = shared ? shared.backend.env.PULUMI_BACKEND_URL : opts.backendUrl;
  const backend = createTempBackend(`keywire-e2e-${name}-`, backendUrl !== undefined ? { url: backendUrl } : {});
  const into = opts.projectDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `keywire-e2e-${name}-project-`));
  const project = prepareProject(REPO_ROOT, into, {
    stack: LOCAL_STACK,
    ...(opts.copySources ? { copySources: true } : {}),
  });
  const stackFile = (dir: string): string => path.join(dir, "stacks", `Pulumi.${LOCAL_STACK}.yaml`);
  if (shared) fs.copyFileSync(stackFile(shared.project), stackFile(project));
  // tsc already checks every file; the engine need not type-check the program again.
  const env = {
    ...(shared ? shared.env : {}),
    ...opts.env,
    ...backend.env,
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
  };
  const stack: LocalStack = {
    project,
    backend,
    env,
    run: (args, timeoutMs = 5 * 60_000, input?: string) =>
      runPulumi([...args, "--stack", LOCAL_STACK, "--non-interactive"], { cwd: project, env, timeoutMs, ...(input !== undefined ? { input } : {}) }),
    cleanup: () => {
      backend.cleanup();
      fs.rmSync(project, { recursive: true, force: true });
    },
  };
  const steps: { args: string[]; input?: string }[] = shared
    ? []
    : [
        { args: ["stack", "init"] },
        { args: ["config", "set", "servicenow:instanceUrl", emulatorUrl] },
        setSecretConfigCommand("servicenow:password", ADMIN_PASSWORD),
      ];
  for (const { args, input } of steps) {
    const res = await stack.run(args, undefined, input);
    if (res.code !== 0) {
      stack.cleanup();
      throw new Error(`pulumi ${args.join(" ")} exited ${res.code}: ${res.stderr.slice(-3000)}`);
    }
  }
  return stack;
}
