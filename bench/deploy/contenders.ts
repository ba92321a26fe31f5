/**
 * Each contender's program and stack for one N: a fresh copy of its program, keywire's
 * linked to the packed package as a team installs it, and a stack of its own (backend,
 * Pulumi home, timing file), plus the checkpoint a run leaves.
 */
import * as fs from "fs";
import * as path from "path";
import { installPacked, packKeywire } from "../../scripts/package/packed";
import { REPO_ROOT } from "../../scripts/shared/paths";
import type { Args } from "./args";
import { runPulumi } from "./measure";
import type { Contender } from "./operations";

export const ADMIN_PASSWORD = "bench-Adm1n-pw";
export const STACK = "bench";

/** Each contender's program in the checkout: its files, and where its dependencies come from. */
const PROGRAM_DIRS: Record<Contender, { dir: string; files: string[] }> = {
  keywire: { dir: "program", files: ["index.js", "Pulumi.yaml", "package.json"] },
  bare: { dir: "bare", files: ["index.js", "Pulumi.yaml"] },
  instant: { dir: "bare", files: ["index.js", "Pulumi.yaml"] },
};

/**
 * A fresh copy of a contender's program in `dir`. keywire's program gets the
 * node_modules the packed package was installed into (installKeywire), so its
 * program and provider process load what a team installs; the bare engine's needs
 * only the SDK, from the checkout.
 */
function prepareProgram(dir: string, contender: Contender, keywireModules: string | undefined): string {
  const { dir: name, files } = PROGRAM_DIRS[contender];
  const program = path.join(dir, "program");
  fs.mkdirSync(program, { recursive: true });
  for (const f of files) fs.copyFileSync(path.join(__dirname, name, f), path.join(program, f));
  const modules = contender === "keywire" ? keywireModules : path.join(REPO_ROOT, "node_modules");
  if (!modules) throw new Error("bench: keywire's program needs the installed package");
  fs.symlinkSync(modules, path.join(program, "node_modules"));
  return program;
}

/** Packs the checkout and installs the tarball beside a copy of keywire's program: the node_modules every keywire stage links. */
export async function installKeywire(root: string, env: NodeJS.ProcessEnv): Promise<string> {
  const install = path.join(root, "keywire-package");
  fs.mkdirSync(install);
  const { tarball } = await packKeywire(root, env);
  fs.copyFileSync(path.join(__dirname, PROGRAM_DIRS.keywire.dir, "package.json"), path.join(install, "package.json"));
  await installPacked(install, tarball, env);
  return path.join(install, "node_modules");
}

/** The stack's checkpoint file in a file backend, if there is exactly one. */
export function checkpointFile(stateDir: string): string | undefined {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name !== "history" && e.name !== "backups") walk(p);
      else if (e.isFile() && e.name === `${STACK}.json`) found.push(p);
    }
  };
  if (fs.existsSync(stateDir)) walk(stateDir);
  return found.length === 1 ? found[0] : undefined;
}

export function checkpointKb(stateDir: string): number | undefined {
  const file = checkpointFile(stateDir);
  return file === undefined ? undefined : Math.round(fs.statSync(file).size / 1024);
}

/** One contender's stack: its own directory, backend, Pulumi home and timing file. */
export interface Stage {
  contender: Contender;
  cwd: string;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  timingFile: string;
  /** Set when its `up` failed: the rest of its operations are skipped. */
  stopped?: boolean;
}

export async function prepareStage(
  contender: Contender,
  dir: string,
  n: number,
  args: Args,
  bin: string,
  baseEnv: NodeJS.ProcessEnv,
  instanceUrl: string | undefined,
  keywireModules: string | undefined,
): Promise<Stage> {
  const stateDir = path.join(dir, "state");
  fs.mkdirSync(stateDir);
  fs.mkdirSync(path.join(dir, "home"));
  const timingFile = path.join(dir, "timing.jsonl");
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_HOME: path.join(dir, "home"),
    PULUMI_CONFIG_PASSPHRASE: "keywire-bench-passphrase",
    KEYWIRE_BENCH_TIMING: timingFile,
    NODE_OPTIONS: [baseEnv.NODE_OPTIONS, `--require ${path.join(__dirname, "timingPreload.js")}`].filter(Boolean).join(" "),
    ...(args.skipCheckpoints ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {}),
  };
  const cwd = prepareProgram(dir, contender, keywireModules);
  const setup = async (a: string[]) => {
    const r = await runPulumi(bin, [...a, "--stack", STACK, "--non-interactive"], cwd, env, 2 * 60_000);
    if (r.code !== 0) throw new Error(`${contender}: pulumi ${a.join(" ")} exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
  };
  await setup(["stack", "init"]);
  if (contender === "keywire") {
    await setup(["config", "set", "servicenow:instanceUrl", instanceUrl!]);
    await setup(["config", "set", "servicenow:username", "admin"]);
    await setup(["config", "set", "--secret", "servicenow:password", ADMIN_PASSWORD]);
  } else {
    // The instant engine's providers wait for nothing: what is left is the engine's own work.
    await setup(["config", "set", "bench:latencyMs", String(contender === "instant" ? 0 : args.latencyMs)]);
  }
  await setup(["config", "set", "bench:n", String(n)]);
  return { contender, cwd, env, stateDir, timingFile };
}
