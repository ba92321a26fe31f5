#!/usr/bin/env node
/**
 * `keywire <command> [options]`: the command line the package installs (package.json
 * `bin`), run as `npx keywire …` in a team's own Pulumi program. keywire's npm scripts
 * (`npm run drift -- …` and the others) run this same entry, so both give the same
 * options, exit codes and reports.
 *
 * Each command lives with its code (scripts/drift, scripts/audit, scripts/canary,
 * emulator/servicenow) and is loaded only when asked for, so `keywire --help` needs
 * none of their dependencies. The commands find everything at run time from where
 * keywire is installed (config/keywireRoot.ts): nothing here needs keywire's checkout.
 */
import "../../config/requireNode22";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isCheckout, packageRoot } from "../../config/keywireRoot";
import { type Invocation, invocationFor } from "./invocation";

/** What a command line that cannot run exits with, as drift, audit and canary do. */
export const USAGE_EXIT = 2;

interface Command {
  summary: string;
  run(argv: string[], invoke: Invocation): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  drift: {
    summary: "compare a stack with what its resources really are (pulumi preview --refresh); exit 7 on drift",
    run: async (argv, invoke) => (await import("../drift/cli")).runDriftCli(argv, invoke),
  },
  audit: {
    summary: "list every API key on the ServiceNow instance with its findings",
    run: async (argv, invoke) => (await import("../audit/cli")).runAuditCli(argv, invoke),
  },
  canary: {
    summary: "publish one synthetic alarm to a stack's SNS topic and wait until ServiceNow records it",
    run: async (argv, invoke) => (await import("../canary/cli")).runCanaryCli(argv, invoke),
  },
  emulator: {
    summary: "serve the bundled ServiceNow emulator on 127.0.0.1 (and `emulator token <sys_id>`)",
    run: async (argv, invoke) => (await import("../../emulator/servicenow/cli")).runEmulatorCli(argv, emulatorContext(invoke)),
  },
};

export function keywireHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}   ${c.summary}`);
  return `Usage: keywire <command> [options]

Commands:
${lines.join("\n")}

Run keywire <command> --help for a command's options and exit codes.

Run the commands in your Pulumi program's directory: they use the pulumi on PATH, your
PULUMI_HOME, login and backend, and the stack configuration of that program.

  -h, --help      this text
  -v, --version   keywire's version
`;
}

/** keywire's version, from its own package.json. */
export function keywireVersion(): string {
  const pkg: unknown = JSON.parse(fs.readFileSync(path.join(packageRoot(__dirname), "package.json"), "utf8"));
  return String((pkg as { version?: unknown }).version);
}

/**
 * The emulator's admin password file when none is given: in keywire's checkout the
 * demo's `.demo/admin-password`; elsewhere the user's own cache, since an installed
 * package is replaced by the next npm install and a program's directory is committed.
 */
function emulatorContext(invoke: Invocation): { invoke: Invocation; defaultPasswordFile: string; defaultPasswordNote: string } {
  const root = packageRoot(__dirname);
  if (isCheckout(root)) {
    return {
      invoke,
      defaultPasswordFile: path.join(root, ".demo", "admin-password"),
      defaultPasswordNote: ".demo/admin-password (created on first use, shared with npm run demo)",
    };
  }
  const file = path.join(os.homedir(), ".cache", "keywire", "emulator-admin-password");
  return { invoke, defaultPasswordFile: file, defaultPasswordNote: `${file} (created on first use, mode 0600)` };
}

/**
 * The one-line message for a package a command needs that is not installed: Node's own
 * message names it and, on its next lines, the files that asked for it.
 */
export function missingPackageMessage(command: string, err: unknown): string | undefined {
  if ((err as NodeJS.ErrnoException | undefined)?.code !== "MODULE_NOT_FOUND") return undefined;
  const name = /Cannot find module '([^']+)'/.exec(err instanceof Error ? err.message : "")?.[1];
  // A relative path would be keywire's own file missing: a broken install, not a dependency.
  if (name === undefined || name.startsWith(".") || path.isAbsolute(name)) return undefined;
  const pkg = name.startsWith("@") ? name.split("/").slice(0, 2).join("/") : name.split("/")[0];
  return `keywire ${command} needs ${pkg}, which is not installed where keywire is; run npm install ${pkg} in your program's directory`;
}

function fail(line: string): void {
  process.stderr.write(`keywire: ${line}\n`);
  process.exitCode = USAGE_EXIT;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(keywireHelp());
    return;
  }
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${keywireVersion()}\n`);
    return;
  }
  if (first === undefined) return fail(`give a command (${Object.keys(COMMANDS).join(", ")}); run keywire --help for what each does`);
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!command) return fail(`unknown command ${JSON.stringify(first.slice(0, 80))}; run keywire --help for the commands`);
  try {
    await command.run(rest, invocationFor(first, env));
  } catch (err) {
    const missing = missingPackageMessage(first, err);
    if (missing === undefined) throw err;
    fail(missing);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    // The commands report their own failures; what reaches here is keywire failing to load one.
    fail(`${err instanceof Error ? err.message.split("\n")[0] : String(err)}; reinstall keywire (see docs/install.md)`);
  });
}
