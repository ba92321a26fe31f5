/**
 * A working copy of the keywire program for a stack that must not write into the
 * checkout: links to the program and its modules, and a copy of the stack file
 * made once (`pulumi config set` writes addresses, secrets and the encryption
 * salt there, never into the tracked stacks/ file).
 */
import * as fs from "fs";
import * as path from "path";

export interface ProjectCopyOptions {
  stack: string;
  /**
   * Copy the program's sources (index.ts, config/, resources/) instead of linking
   * them, for tests that change provider code: a linked index.ts would import
   * the checkout's resources, since Node resolves imports from a link's target.
   */
  copySources?: boolean;
}

const SOURCES = ["index.ts", "config", "resources"];

export function prepareProject(root: string, into: string, opts: ProjectCopyOptions): string {
  fs.mkdirSync(path.join(into, "stacks"), { recursive: true });
  // dist/ is linked even beside copied sources: its provider modules load only while
  // its recorded digest is still the sources' (resources/core/providerLoading/loadProvider.js).
  for (const entry of ["index.ts", "package.json", "tsconfig.json", "tsconfig.build.json", "node_modules", "config", "resources", "dist"]) {
    const target = path.join(into, entry);
    if (fs.existsSync(target) || !fs.existsSync(path.join(root, entry))) continue;
    if (opts.copySources && SOURCES.includes(entry)) fs.cpSync(path.join(root, entry), target, { recursive: true });
    else fs.symlinkSync(path.join(root, entry), target);
  }
  fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(into, "Pulumi.yaml"));
  const stackFile = path.join(into, "stacks", `Pulumi.${opts.stack}.yaml`);
  if (!fs.existsSync(stackFile)) fs.copyFileSync(path.join(root, "stacks", `Pulumi.${opts.stack}.yaml`), stackFile);
  return into;
}
