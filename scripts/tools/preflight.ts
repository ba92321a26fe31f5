/**
 * Stops an npm script on a Node older than keywire needs, with a message saying how
 * to get the right one, instead of running on it. Every npm-script entry imports this
 * module first; `npm test` runs it on its own before the type check.
 */
import { nodeVersionProblem } from "../../config/nodeVersion";

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
