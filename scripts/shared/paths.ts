/**
 * Where keywire's scripts find things: keywire's own package, the tools cache, and the
 * directory the caller of an npm script stood in.
 */
import * as os from "os";
import * as path from "path";
import { packageRoot } from "../../config/keywireRoot";

/** keywire's package: its checkout, or node_modules/keywire where a team installed it. */
export const REPO_ROOT = packageRoot(__dirname);

/** Where keywire keeps what it builds or downloads on first use: the Pulumi CLI, tools/<name>, actionlint. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KEYWIRE_TOOLS_DIR || path.join(os.homedir(), ".cache", "keywire", "tools");
}

/** Where the caller of an npm script stood: npm runs scripts from the package root and
 * leaves the caller's directory in INIT_CWD. */
export function callerDir(env: NodeJS.ProcessEnv): string {
  return env.INIT_CWD || process.cwd();
}
