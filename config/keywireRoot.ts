/**
 * Where keywire's own files are at run time. The same modules run as TypeScript in
 * keywire's checkout (config/, scripts/…), compiled in its dist/cli/, and compiled in a team's
 * node_modules/keywire/dist/cli/: a path counted up from `__dirname` would be right in
 * only one of them, so the root is the directory of keywire's package.json, found by
 * walking up.
 */
import * as fs from "fs";
import * as path from "path";

const PACKAGE_NAME = "keywire";
/** Deeper than any layout above (dist/cli/scripts/cli is four levels): a bound, not a guess. */
const MAX_DEPTH = 16;

function isKeywirePackage(dir: string): boolean {
  try {
    const pkg: unknown = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    return (pkg as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** The directory holding keywire's package.json, at or above `from` (this module's directory by default). */
export function packageRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (let i = 0; i < MAX_DEPTH; i++) {
    if (isKeywirePackage(dir)) return dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`cannot find keywire's package.json at or above ${from}; reinstall keywire (npm install keywire)`);
}

/**
 * Whether `root` is keywire's checkout, with its TypeScript sources, rather than an
 * installed package, which holds only what package.json `files` lists.
 */
export function isCheckout(root: string): boolean {
  return fs.existsSync(path.join(root, "resources", "index.ts"));
}
