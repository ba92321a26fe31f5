/**
 * Where `npm run drift` and `npm run audit` append their Markdown summary: the file
 * given with `--summary <path>`, otherwise GitHub Actions' job summary
 * ($GITHUB_STEP_SUMMARY) when the process runs in a job. Appended, never
 * overwritten: other steps of the job write to the same file.
 */
import * as fs from "fs";
import * as path from "path";

export function summaryTarget(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit !== undefined && explicit !== "") return explicit;
  const fromActions = env.GITHUB_STEP_SUMMARY;
  return fromActions !== undefined && fromActions !== "" ? fromActions : undefined;
}

export function appendSummary(file: string, markdown: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // A blank line after each part, so the next step's Markdown starts a new block.
  fs.appendFileSync(file, markdown.endsWith("\n\n") ? markdown : markdown.endsWith("\n") ? `${markdown}\n` : `${markdown}\n\n`);
}
