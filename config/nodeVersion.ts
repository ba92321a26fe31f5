/**
 * The Node.js keywire runs on. @pulumi/pulumi declares `node >=22`; on an older Node
 * it loads and then fails in ways that do not name the cause. How to get Node 22
 * depends on where keywire runs:
 * - in keywire's checkout, the `node` dev dependency installs Node 22 into
 *   node_modules/.bin through its install script, so `npm install --ignore-scripts`
 *   silently leaves the machine's Node in charge: the message says to run `npm ci`;
 * - in a team's program, keywire is a dependency and its dev dependencies are not
 *   installed: the team runs the program and the `keywire` command on a Node of its own,
 *   and the message says how to get one.
 */
import { isCheckout, packageRoot } from "./keywireRoot";

export const MIN_NODE_MAJOR = 22;

/** Where keywire runs: its own checkout, or installed as a package in a team's program. */
export type KeywirePlace = "checkout" | "installed";

/** Where the keywire holding `from` (this module's directory by default) runs. */
export function keywirePlace(from: string = __dirname): KeywirePlace {
  try {
    return isCheckout(packageRoot(from)) ? "checkout" : "installed";
  } catch {
    // No keywire package.json above: not the checkout, whose root has one; the advice
    // that fits any installation is the safer one.
    return "installed";
  }
}

/** The message for a Node older than MIN_NODE_MAJOR, or undefined when `version`
 * (process.versions.node, with or without a leading "v") is new enough. */
export function nodeVersionProblem(version: string, place: KeywirePlace = keywirePlace()): string | undefined {
  const bare = version.trim().replace(/^v/, "");
  const major = Number(/^(\d+)\./.exec(bare)?.[1]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  const found = `keywire needs Node ${MIN_NODE_MAJOR} or newer (found v${bare})`;
  if (place === "checkout") {
    return (
      `${found}; run npm ci (or npm install) without --ignore-scripts, which puts Node ${MIN_NODE_MAJOR} ` +
      `into node_modules/.bin, or install Node ${MIN_NODE_MAJOR}`
    );
  }
  return (
    `${found}; run your Pulumi program and keywire on Node ${MIN_NODE_MAJOR} or newer: install it ` +
    `(for example nvm install ${MIN_NODE_MAJOR}) and put it first on PATH, or in CI set node-version: ` +
    `"${MIN_NODE_MAJOR}" in actions/setup-node`
  );
}

/** Throws the nodeVersionProblem message; the Pulumi program calls it first. */
export function assertNodeVersion(version: string = process.versions.node): void {
  const problem = nodeVersionProblem(version);
  if (problem) throw new Error(problem);
}
