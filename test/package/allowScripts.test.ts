/**
 * npm is making dependency install scripts opt-in (the `allowScripts` field of
 * package.json: advisory in npm 11, blocking in npm 12). The `node` dev dependency puts
 * Node 22 in place with its preinstall script, so a clean `npm ci` under an npm that
 * blocks unreviewed scripts would leave the suite and the demo on the machine's Node.
 * Every locked package with an install script is therefore decided in package.json.
 */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
const read = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8")) as Record<string, unknown>;

test("every locked package with an install script is allowed or denied by name, and node's is allowed", () => {
  const lock = read("package-lock.json") as { packages: Record<string, { hasInstallScript?: boolean }> };
  const allow = (read("package.json").allowScripts ?? {}) as Record<string, boolean>;
  const withScripts = Object.entries(lock.packages)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([where]) => where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length));
  expect(withScripts).toContain("node");
  expect(withScripts.filter((name) => typeof allow[name] !== "boolean")).toEqual([]);
  expect(allow.node).toBe(true);
});
