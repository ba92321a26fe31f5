/**
 * What the operator commands (`npm run audit`, `npm run canary`) read from a stack:
 * its configuration and its outputs, through the Pulumi CLI wrapper (run.ts, the
 * script behind `npm run pulumi`), and the ServiceNow connection built from that
 * configuration or from the SERVICENOW_* environment variables.
 *
 * Every secret value read or resolved here is pushed onto the caller's `secrets`
 * list, so everything the caller prints afterwards can be redacted with it.
 */
import * as fs from "fs";
import * as path from "path";
import { callerDir } from "../shared/paths";
import { runCommand } from "../shared/process";
import { packageRoot } from "../../config/keywireRoot";
import { ConfigSource, ENV_KEYS, TableClient, resolveConnection } from "../../resources/servicenow/client";
import { redact, redactAndTrim } from "../../resources/core/redact";

/**
 * The wrapper beside this module, in the form this module runs in: run.ts through
 * ts-node in keywire's checkout, the compiled run.js in a built or installed keywire
 * (which has no ts-node).
 */
const WRAPPER = path.join(__dirname, `run${path.extname(__filename)}`);
/** A cold machine builds the Pulumi CLI first (about 7 minutes, docs/toolchain.md). */
const WRAPPER_TIMEOUT_MS = 20 * 60_000;
const KILL_GRACE_MS = 5_000;
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/** Pulumi stack names, optionally `org/project/stack`; never a leading dash (it would read as a flag). */
export const STACK_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.\-/]{0,199}$/;

/** A stack could not be read; the message is redacted and safe to print. */
export class StackAccessError extends Error {}

/**
 * Runs `npm run -s pulumi -- <args>` (the same script, started directly so no npm
 * header lines mix into stdout). Its stderr (setup progress, pulumi errors) is passed
 * on, redacted; stdout is returned.
 */
export async function runPulumiWrapper(args: string[], secrets: string[]): Promise<string> {
  if (!fs.existsSync(WRAPPER))
    throw new StackAccessError(`the Pulumi CLI wrapper (${path.basename(WRAPPER)}, \`npm run pulumi\`) is missing; reinstall keywire`);
  const start = WRAPPER.endsWith(".ts")
    ? [require.resolve("ts-node/dist/bin.js", { paths: [packageRoot(__dirname)] }), "--transpile-only", WRAPPER]
    : [WRAPPER];
  let tail = "";
  // The wrapper runs the CLI where the caller stood, whose project and backend count.
  const res = await runCommand(process.execPath, [...start, ...args], {
    cwd: callerDir(process.env),
    timeoutMs: WRAPPER_TIMEOUT_MS,
    killGraceMs: KILL_GRACE_MS,
    maxStdoutBytes: MAX_OUTPUT_BYTES,
    onStderr: (chunk) => {
      const text = redact(chunk, secrets);
      tail = (tail + text).slice(-2000);
      // The wrapper prefixes its own lines already; the CLI's lines get the prefix here.
      process.stderr.write(text.replace(/^(?!\[pulumi\] )(?=.)/gm, "[pulumi] "));
    },
  });
  const shown = `pulumi ${args.slice(0, 2).join(" ")}`;
  if (res.timedOut) throw new StackAccessError(`${shown} did not finish within ${WRAPPER_TIMEOUT_MS / 60_000} minutes`);
  if (res.code !== 0) {
    const last = tail.trim().split("\n").pop() ?? "";
    throw new StackAccessError(`${shown} failed (exit ${res.code ?? "?"})${last ? `: ${redactAndTrim(last.replace(/^\[pulumi\]\s*/, ""), secrets)}` : ""}`);
  }
  if (res.stdoutTruncated) throw new StackAccessError(`${shown} printed more than ${MAX_OUTPUT_BYTES} bytes`);
  return res.stdout;
}

/** The stack's configuration as a ConfigSource; its secret values are added to `secrets`. */
export async function readStackConfig(stack: string, secrets: string[]): Promise<ConfigSource> {
  const text = await runPulumiWrapper(["config", "--json", "--show-secrets", "--stack", stack], secrets);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Never echo the text: it holds the stack's secrets.
    throw new StackAccessError("pulumi config --json did not print JSON");
  }
  const values = new Map<string, string>();
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
    for (const [key, entry] of Object.entries(parsed as Record<string, unknown>)) {
      const e = entry as { value?: unknown; secret?: unknown } | null;
      if (typeof e?.value !== "string") continue;
      values.set(key, e.value);
      if (e.secret === true) secrets.push(e.value);
    }
  }
  return { get: (key) => values.get(key) };
}

/**
 * The stack's outputs (`pulumi stack output --json`). Secret outputs stay `[secret]`:
 * without --show-secrets the CLI never prints them.
 */
export async function readStackOutputs(stack: string, secrets: string[]): Promise<Record<string, unknown>> {
  const text = await runPulumiWrapper(["stack", "output", "--json", "--stack", stack], secrets);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StackAccessError(`pulumi stack output --json --stack ${stack} did not print JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new StackAccessError(`pulumi stack output --json --stack ${stack} did not print an object`);
  }
  return parsed as Record<string, unknown>;
}

export interface ServiceNowClientOptions {
  /** The stack whose `servicenow:*` configuration is read, unless an instance URL is given. */
  stack?: string;
  /** An explicit instance (`--instance-url`): the environment is used and Pulumi is not asked. */
  instanceUrl?: string;
  /** The User-Agent the client sends, naming the command. */
  userAgent: string;
  /** The command's name, in front of the line that says the environment is used instead. */
  tool: string;
  /** Every secret resolved here is added to this list. */
  secrets: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * The Table API client for a command. An instance URL given explicitly (the option or
 * SERVICENOW_INSTANCE_URL) means "use the environment", and Pulumi is not asked.
 * Otherwise the stack's configuration is read through the wrapper, with the
 * environment filling in what it lacks (or everything, when the wrapper fails).
 */
export async function serviceNowClient(o: ServiceNowClientOptions): Promise<TableClient> {
  const env: NodeJS.ProcessEnv = { ...(o.env ?? process.env), ...(o.instanceUrl !== undefined ? { [ENV_KEYS.instanceUrl]: o.instanceUrl } : {}) };
  for (const k of [ENV_KEYS.password, ENV_KEYS.clientSecret]) {
    const v = env[k];
    if (v) o.secrets.push(v);
  }
  let config: ConfigSource = { get: () => undefined };
  if (o.stack !== undefined && !env[ENV_KEYS.instanceUrl]) {
    try {
      config = await readStackConfig(o.stack, o.secrets);
    } catch (e) {
      const why = e instanceof StackAccessError ? e.message : "unexpected failure";
      process.stderr.write(
        `${o.tool}: cannot read the configuration of stack ${o.stack} through the Pulumi CLI wrapper (${why}); using the SERVICENOW_* environment variables instead\n`,
      );
    }
  }
  const conn = resolveConnection(config, env);
  o.secrets.push(...conn.secrets());
  return new TableClient(conn, { userAgent: o.userAgent });
}
