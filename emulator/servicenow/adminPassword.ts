/**
 * Where the CLI's `admin` password comes from. A fixed default would let anything on this
 * machine that finds the port act as the instance's administrator, and a password given on
 * the command line is visible to every local user in the process list; so the password comes
 * from a file or the environment, and by default is a random one kept in a 0600 file in
 * `.demo/`, the folder where the demo keeps its own state (and its own password, the same file).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const ADMIN_PASSWORD_ENV = "KEYWIRE_EMULATOR_ADMIN_PASSWORD";

/** `<checkout>/.demo/admin-password`, the file `npm run demo` reads and writes too. */
export const DEFAULT_ADMIN_PASSWORD_FILE = join(__dirname, "..", "..", ".demo", "admin-password");

/** 18 crypto-random bytes as 24 base64url characters. */
export function newAdminPassword(): string {
  return randomBytes(18).toString("base64url");
}

export interface FilePassword {
  password: string;
  /** true when the file did not exist and was created with a new random password */
  created: boolean;
  /** set when an existing file can be read by other users */
  warning?: string;
}

function readPasswordFile(file: string): FilePassword {
  const password = readFileSync(file, "utf8").split(/\r?\n/)[0].trim();
  if (!password) throw new Error(`the admin password file ${file} is empty`);
  const loose = (statSync(file).mode & 0o077) !== 0;
  return { password, created: false, ...(loose ? { warning: `${file} can be read by other users; chmod 600 it` } : {}) };
}

/** Reads the password from the file's first line; creates the file (mode 0600) with a random one if it does not exist. */
export function readOrCreatePasswordFile(file: string): FilePassword {
  try {
    return readPasswordFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const password = newAdminPassword();
  try {
    // "wx": never overwrite a file another process created in the meantime.
    writeFileSync(file, `${password}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return readPasswordFile(file);
    throw e;
  }
  return { password, created: true };
}

export interface ResolvedAdminPassword {
  password: string;
  /** Where it came from, for a log line; never the password itself. */
  source: string;
  warning?: string;
}

/**
 * First of: `--admin-password`, `--admin-password-file`, the environment variable, the default
 * file. Giving both flags is a mistake the caller reports.
 */
export function resolveAdminPassword(o: { flag?: string; file?: string; env: NodeJS.ProcessEnv; defaultFile?: string }): ResolvedAdminPassword {
  if (o.flag !== undefined && o.file !== undefined) throw new Error("give --admin-password or --admin-password-file, not both");
  if (o.flag !== undefined) return { password: o.flag, source: "--admin-password" };
  if (o.file === undefined) {
    const fromEnv = o.env[ADMIN_PASSWORD_ENV];
    if (fromEnv !== undefined && fromEnv !== "") return { password: fromEnv, source: ADMIN_PASSWORD_ENV };
  }
  const file = o.file ?? o.defaultFile ?? DEFAULT_ADMIN_PASSWORD_FILE;
  const r = readOrCreatePasswordFile(file);
  return { password: r.password, source: `${r.created ? "new random password written to" : "read from"} ${file}`, warning: r.warning };
}
