/**
 * keywire's `local` stack through the real engine, for the end-to-end suites: a
 * temporary file backend, a working copy of the program, the stack configured
 * for an emulator, and one cleanup for all of it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { prepareProject } from "../../scripts/demo/project";
import { REPO_ROOT } from "../../scripts/pulumi/toolchain";
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

/**
 * A configured `local` stack against the emulator at `emulatorUrl`. `copySources`
 * copies the program's sources instead of linking them (suites that change code).
 */
export async function createLocalStack(name: string, emulatorUrl: string, opts: { copySources?: boolean } = {}): Promise<LocalStack> {
  await ensurePulumi();
  const backend = createTempBackend(`keywire-e2e-${name}-`);
  const project = prepareProject(REPO_ROOT, fs.mkdtempSync(path.join(os.tmpdir(), `keywire-e2e-${name}-project-`)), {
    stack: LOCAL_STACK,
    ...(opts.copySources ? { copySources: true } : {}),
  });
  // tsc already checks every file; the engine need not type-check the program again.
  const env = { ...backend.env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
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
  const steps: { args: string[]; input?: string }[] = [
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
