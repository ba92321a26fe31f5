/**
 * `keywire emulator --port <p> [--data <file>] [--admin-password-file <file>] [switches]`, and
 * `keywire emulator token <api_key sys_id> --url <emulator URL>` (tokenCommand.ts); in keywire's
 * checkout `npm run emulator -- …`, which runs the same command.
 */
import "../../config/requireNode22";
import { ADMIN_PASSWORD_ENV, DEFAULT_ADMIN_PASSWORD_FILE, resolveAdminPassword } from "./adminPassword";
import { startServiceNowEmulator } from "./index";
import { fetchToken, parseTokenArgs, TOKEN_HELP, TokenUsageError } from "./tokenCommand";
import type { EmulatorOptions, FaultSettings } from "./types";

/**
 * How a person types a command where it runs (`npm run emulator --` in keywire's checkout,
 * `keywire emulator` where keywire is installed): scripts/cli/invocation.ts makes these
 * and hands one in; the emulator takes it as a plain function so that it imports nothing
 * from scripts/, which sits above it.
 */
type Invocation = (command: string) => string;

/** keywire's checkout, where the npm script runs this command. */
const checkoutInvocation: Invocation = (command) => `npm run ${command} --`;

/** The emulator's options plus what only the CLI needs to resolve them. */
export type CliOptions = EmulatorOptions & { adminPasswordFile?: string };

/** How the CLI is run: the command's name in its texts, and the admin password's default file. */
export interface EmulatorCliContext {
  invoke: Invocation;
  /** Where the password is kept when no flag or environment variable gives one. */
  defaultPasswordFile: string;
  /** How the help text names that file. */
  defaultPasswordNote: string;
}

/** keywire's checkout: the file `npm run demo` shares. */
const CHECKOUT_CONTEXT: EmulatorCliContext = {
  invoke: checkoutInvocation,
  defaultPasswordFile: DEFAULT_ADMIN_PASSWORD_FILE,
  defaultPasswordNote: ".demo/admin-password (created on first use, shared with npm run demo)",
};

export function emulatorHelp(c: Pick<EmulatorCliContext, "invoke" | "defaultPasswordNote"> = CHECKOUT_CONTEXT): string {
  const cmd = c.invoke("emulator");
  return `Usage: ${cmd} [options]
       ${cmd} token <api_key sys_id> (--url <emulator URL> | --port <n>)

Serves a ServiceNow instance emulator on 127.0.0.1.

  --port <n>                     port to listen on; 0 picks a free one (default 0)
  --data <file>                  persist records to this JSON file (default: memory only)
  --admin-password-file <file>   read the seeded admin user's password from the file's first line;
                                 a missing file is created (mode 0600) with a random password
  --admin-password <pw>          the password itself (visible to other local users: prefer the
                                 file or the environment)
  --plugin <state>               com.glide.tokenbased_auth: active | inactive | absent (default active)
  --event-management <state>     Event Management Connectors (sn_em_connector) plugin and its
                                 inbound_event REST API: active | inactive (default active)
  --shipped-policies <state>     Table GET/POST API Access Policies: active | inactive (default active)
  --rest-api-key-profile <state> "Rest api key policy" profile: active | inactive | absent (default absent)
  --basic-auth-restriction       refuse basic auth without snc_basic_auth_api_access or web-service-only
  --token-readback <variant>     none | display_value | input_display_value | both (default none)
  --query-parameter-type <type>  type of the query-parameter auth parameter row (default query_parameter)
  --rate-limit-column <name>     per-hour limit column of sys_rate_limit_rules (default max_requests_per_hour)
  --auth-scope-column <name>     auth-scope column of api_key (default auth_scope)
  --max-body-bytes <n>           largest accepted request body (default 1048576)
  --max-attachment-bytes <n>     largest file the Attachment API accepts (default 26214400)
  --duplicate-sys-id-status <n>  answer to an insert whose sys_id exists: 403 | 400 | 409 (default 403)
  --client-sys-ids <mode>        honoured | ignored: whether an insert keeps the sys_id the client sent (default honoured)
  --latency-ms <n>               added latency per request
  --jitter-ms <n>                extra random latency, 0..n ms
  --error-rate <share>           share (0..1) of requests answered 500/502/503
  --help                         this text

Without either flag the password is $${ADMIN_PASSWORD_ENV} if set, otherwise the
random one in ${c.defaultPasswordNote}.

Admin API (loopback, no auth): GET /__emulator/metrics, POST /__emulator/metrics/reset,
POST /__emulator/reset, GET|PUT /__emulator/faults, GET|PATCH /__emulator/options,
GET /__emulator/token/<api_key sys_id>.

The token subcommand prints an API key's token from a running emulator, for a person to copy
(the key's form, /nav_to.do?uri=api_key.do%3Fsys_id%3D<sys_id>, shows it too).
`;
}

export const HELP = emulatorHelp();

class UsageError extends Error {}

function number(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${flag} needs a number, got "${v}"`);
  return n;
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${allowed.join(", ")}; got "${v}"`);
  return v as T;
}

export function parseArgs(argv: string[]): CliOptions | "help" {
  const o: CliOptions = {};
  const faults: FaultSettings = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--port":
        o.port = number(flag, value());
        break;
      case "--data":
        o.dataFile = value();
        break;
      case "--admin-password":
        o.adminPassword = value();
        break;
      case "--admin-password-file":
        o.adminPasswordFile = value();
        break;
      case "--plugin":
        o.plugin = oneOf(flag, value(), ["active", "inactive", "absent"] as const);
        break;
      case "--event-management":
        o.eventManagement = oneOf(flag, value(), ["active", "inactive"] as const);
        break;
      case "--shipped-policies":
        o.shippedPolicies = oneOf(flag, value(), ["active", "inactive"] as const);
        break;
      case "--rest-api-key-profile":
        o.restApiKeyProfile = oneOf(flag, value(), ["active", "inactive", "absent"] as const);
        break;
      case "--basic-auth-restriction":
        o.basicAuthRestriction = inline === undefined ? true : oneOf(flag, inline, ["true", "false"] as const) === "true";
        break;
      case "--token-readback":
        o.tokenReadback = oneOf(flag, value(), ["none", "display_value", "input_display_value", "both"] as const);
        break;
      case "--query-parameter-type":
        o.queryParameterType = value();
        break;
      case "--rate-limit-column":
        o.rateLimitColumn = value();
        break;
      case "--auth-scope-column":
        o.authScopeColumn = value();
        break;
      case "--max-body-bytes":
        o.maxBodyBytes = number(flag, value());
        break;
      case "--max-attachment-bytes":
        o.maxAttachmentBytes = number(flag, value());
        break;
      case "--duplicate-sys-id-status":
        o.duplicateSysIdStatus = Number(oneOf(flag, value(), ["403", "400", "409"] as const)) as 403 | 400 | 409;
        break;
      case "--client-sys-ids":
        o.clientSysIds = oneOf(flag, value(), ["honoured", "ignored"] as const);
        break;
      case "--latency-ms":
        faults.latencyMs = number(flag, value());
        break;
      case "--jitter-ms":
        faults.jitterMs = number(flag, value());
        break;
      case "--error-rate":
        faults.errorRate = number(flag, value());
        break;
      default:
        throw new UsageError(`unknown option ${arg} (see --help)`);
    }
  }
  if (Object.keys(faults).length) o.faults = faults;
  return o;
}

/** The token subcommand: prints the token and exits 0, or says why not and exits 1 (2 for usage). */
async function token(argv: string[], invoke: Invocation): Promise<void> {
  let cmd: ReturnType<typeof parseTokenArgs>;
  try {
    cmd = parseTokenArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(e instanceof TokenUsageError ? 2 : 1);
  }
  if (cmd === "help") {
    // TOKEN_HELP names the checkout's npm script; the command is the same wherever it runs.
    process.stdout.write(TOKEN_HELP.split(checkoutInvocation("emulator")).join(invoke("emulator")));
    return;
  }
  try {
    process.stdout.write(`${await fetchToken(cmd)}\n`);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
}

async function main(argv: string[], c: EmulatorCliContext): Promise<void> {
  if (argv[0] === "token") return token(argv.slice(1), c.invoke);
  let parsed: CliOptions | "help";
  let options: EmulatorOptions;
  try {
    parsed = parseArgs(argv);
    if (parsed === "help") {
      process.stdout.write(emulatorHelp(c));
      return;
    }
    const { adminPasswordFile, ...rest } = parsed;
    const admin = resolveAdminPassword({ flag: rest.adminPassword, file: adminPasswordFile, env: process.env, defaultFile: c.defaultPasswordFile });
    // stderr, so that stdout stays the one "listening" line scripts wait for.
    process.stderr.write(`admin password: ${admin.source}\n`);
    if (admin.warning) process.stderr.write(`warning: ${admin.warning}\n`);
    options = { ...rest, adminPassword: admin.password };
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  const emulator = await startServiceNowEmulator(options);
  process.stdout.write(`servicenow emulator listening on ${emulator.url}\n`);
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    emulator.stop().then(
      () => process.exit(0),
      (e: Error) => {
        process.stderr.write(`error while stopping: ${e.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

/** Starts the emulator (or runs `token`) as the CLI does; it serves until SIGINT or SIGTERM. */
export function runEmulatorCli(argv: string[], c: EmulatorCliContext = CHECKOUT_CONTEXT): void {
  main(argv, c).catch((e: Error) => {
    process.stderr.write(`servicenow emulator failed to start: ${e.message}\n`);
    process.exit(1);
  });
}

if (require.main === module) runEmulatorCli(process.argv.slice(2));
