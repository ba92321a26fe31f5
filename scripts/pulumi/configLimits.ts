/**
 * Settings too long for a stack's configuration, found by `npm run pulumi` before the
 * CLI starts. The CLI hands the program and its providers the whole configuration
 * in one environment variable (PULUMI_CONFIG), and Linux refuses to start a process
 * whose single environment string is longer than 128 KiB: the run stops with
 * "could not start node: … argument list too long" and nothing of keywire's runs to
 * say which setting did it. The limits are core/textRules.ts's, which the program
 * applies to what it reads too. Messages name keys and files, never values.
 */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_TOTAL_MAX, configValueMax, configValueTooLong } from "../../resources/core/textRules";

// js-yaml is a devDependency (and a dependency of @pulumi/pulumi) that ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as { load(text: string): unknown };

/** Options of `pulumi` and its commands that take the next argument as their value. */
const VALUE_OPTIONS = new Set([
  "--stack",
  "-s",
  "--cwd",
  "-C",
  "--config-file",
  "--color",
  "--tracing",
  "--profiling",
  "--memprofilerate",
  "-v",
  "--verbose",
  "--type",
  "--message",
  "-m",
  "--target",
  "-t",
  "--parallel",
  "-p",
]);

/** The commands that start the program or its providers, which receive the configuration. */
const RUNS_PROGRAM = new Set(["up", "update", "preview", "pre", "refresh", "destroy", "down", "watch", "import"]);

/** The arguments that are not options or option values, in order; everything after `--` counts. */
function positionals(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") return [...out, ...args.slice(i + 1)];
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith("-")) out.push(a);
  }
  return out;
}

/** The value of `--stack`/`-s` (its last segment: `org/project/dev` keeps its settings in Pulumi.dev.yaml), if given. */
function stackOption(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") break;
    const v = (a === "--stack" || a === "-s") && i + 1 < args.length ? args[i + 1] : a.startsWith("--stack=") ? a.slice("--stack=".length) : undefined;
    if (v !== undefined) return v.split("/").pop();
  }
  return undefined;
}

/** The longest value `key` may hold: its own limit, else the whole configuration's. */
export function valueMax(key: string): number {
  return configValueMax(key) ?? CONFIG_TOTAL_MAX;
}

/** Why `value` is too long for `key`, or undefined; `fix` says what to do. */
export function valueProblem(key: string, value: string, fix = "Nothing was changed; give the intended value."): string | undefined {
  const max = valueMax(key);
  return value.length > max ? `${key} ${configValueTooLong(max, fix)}` : undefined;
}

/** Problems with values given on the command line of `config set` and `config set-all`. */
export function commandLineValueProblems(args: string[]): string[] {
  const pos = positionals(args);
  if (pos[0] !== "config") return [];
  if (pos[1] === "set" && pos.length >= 4) {
    const p = valueProblem(pos[2], pos[3]);
    return p ? [p] : [];
  }
  if (pos[1] !== "set-all") return [];
  // set-all takes each setting as `--plaintext key=value` or `--secret key=value`.
  const problems: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const pair =
      (a === "--plaintext" || a === "--secret") && i + 1 < args.length ? args[++i] : /^--(plaintext|secret)=/.test(a) ? a.slice(a.indexOf("=") + 1) : undefined;
    if (pair === undefined || !pair.includes("=")) continue;
    const p = valueProblem(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
    if (p) problems.push(p);
  }
  return problems;
}

/** The key of `config set <key>` given without a value, which the CLI then reads from standard input. */
export function keyReadFromStdin(args: string[]): string | undefined {
  const pos = positionals(args);
  return pos[0] === "config" && pos[1] === "set" && pos.length === 3 ? pos[2] : undefined;
}

interface ProjectFile {
  stackConfigDir?: unknown;
}

/** The directory a project keeps its stack files in (Pulumi.yaml's stackConfigDir), or undefined without a project file. */
function stackConfigDir(projectDir: string): string | undefined {
  for (const name of ["Pulumi.yaml", "Pulumi.yml"]) {
    const file = path.join(projectDir, name);
    if (!fs.existsSync(file)) continue;
    let doc: ProjectFile | undefined;
    try {
      doc = yaml.load(fs.readFileSync(file, "utf8")) as ProjectFile | undefined;
    } catch {
      return undefined; // the CLI says what is wrong with its own file
    }
    return path.resolve(projectDir, typeof doc?.stackConfigDir === "string" ? doc.stackConfigDir : ".");
  }
  return undefined;
}

/**
 * How many characters a setting takes in the configuration the program receives.
 * An encrypted value is measured by its ciphertext (base64, a little longer than
 * the value), so nothing is decrypted here; objects arrive as JSON.
 */
function sizeOf(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const secure = (value as { secure?: unknown }).secure;
    if (typeof secure === "string" && Object.keys(value).length === 1) return Math.ceil((secure.length * 3) / 4);
    return Object.entries(value).reduce((n, [k, v]) => n + JSON.stringify(k).length + 1 + sizeOf(v) + 1, 2);
  }
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + sizeOf(v) + 1, 2);
  return JSON.stringify(value ?? null).length;
}

function kib(n: number): string {
  return `${Math.round(n / 1024)} KiB`;
}

/** Problems of one stack file: each setting over its limit, and the whole over the budget. */
function fileProblems(file: string, shown: string, stack: string, named: boolean): string[] {
  let doc: { config?: unknown } | undefined;
  try {
    doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: unknown } | undefined;
  } catch {
    return []; // the CLI says what is wrong with its own file
  }
  const config = doc?.config;
  if (!config || typeof config !== "object") return [];
  const problems: string[] = [];
  const sizes: Array<[string, number]> = [];
  const elsewhere = named ? "" : " If this is not the stack you are running, name yours with --stack <name>.";
  for (const [key, value] of Object.entries(config)) {
    const size = sizeOf(value);
    sizes.push([key, size]);
    const max = configValueMax(key);
    if (max !== undefined && size > max) {
      problems.push(
        `${shown}: ${key} ${configValueTooLong(max, `Run \`pulumi config rm ${key} --stack ${stack}\`, then set the intended value.${elsewhere}`)}`,
      );
    }
  }
  // As JSON: each key and value quoted, a colon and a comma between them.
  const total = sizes.reduce((n, [key, size]) => n + key.length + size + 6, 2);
  if (total > CONFIG_TOTAL_MAX) {
    const largest = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 3);
    problems.push(
      `${shown}: the configuration holds about ${kib(total)}; Pulumi can hand a program at most ${kib(CONFIG_TOTAL_MAX)} ` +
        `(one environment variable, which Linux caps at 128 KiB; past it every run stops with "argument list too long"). ` +
        `Its largest settings: ${largest.map(([k, n]) => `${k} (${kib(n)})`).join(", ")}. ` +
        `Remove what the program does not need with \`pulumi config rm <key> --stack ${stack}\`.${elsewhere}`,
    );
  }
  return problems;
}

/**
 * For a command that starts the program or its providers: the problems of the stack
 * file it will read (the one `--stack` names, else every stack file of the project,
 * since the selected stack is the CLI's to know).
 */
export function stackFileProblems(projectDir: string, args: string[]): string[] {
  const command = positionals(args)[0];
  if (command === undefined || !RUNS_PROGRAM.has(command)) return [];
  const dir = stackConfigDir(projectDir);
  if (!dir || !fs.existsSync(dir)) return [];
  const named = stackOption(args);
  const files = fs
    .readdirSync(dir)
    .map((f) => ({ f, stack: /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1] }))
    .filter((e): e is { f: string; stack: string } => e.stack !== undefined && (named === undefined || e.stack === named))
    .sort((a, b) => a.f.localeCompare(b.f));
  return files.flatMap(({ f, stack }) => {
    const file = path.join(dir, f);
    return fileProblems(file, path.relative(projectDir, file), stack, named !== undefined);
  });
}
