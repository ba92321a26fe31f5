/**
 * The Node.js keywire runs on. @pulumi/pulumi declares `node >=22`; on an older Node
 * it loads and then fails in ways that do not name the cause. The project installs
 * Node 22 into node_modules/.bin as the `node` dev dependency, through that package's
 * install script, so `npm install --ignore-scripts` silently leaves the machine's Node
 * in charge: this check says so instead.
 */

export const MIN_NODE_MAJOR = 22;

/** The message for a Node older than MIN_NODE_MAJOR, or undefined when `version`
 * (process.versions.node, with or without a leading "v") is new enough. */
export function nodeVersionProblem(version: string): string | undefined {
  const bare = version.trim().replace(/^v/, "");
  const major = Number(/^(\d+)\./.exec(bare)?.[1]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  return (
    `keywire needs Node ${MIN_NODE_MAJOR} or newer (found v${bare}); run npm ci (or npm install) without ` +
    `--ignore-scripts, which puts Node ${MIN_NODE_MAJOR} into node_modules/.bin, or install Node ${MIN_NODE_MAJOR}`
  );
}

/** Throws the nodeVersionProblem message; the Pulumi program calls it first. */
export function assertNodeVersion(version: string = process.versions.node): void {
  const problem = nodeVersionProblem(version);
  if (problem) throw new Error(problem);
}
