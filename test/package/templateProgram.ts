/**
 * A program as a team starts one: Pulumi's `typescript` template (its tsconfig.json,
 * @pulumi/pulumi, @types/node), plus TypeScript to check it, with the packed keywire
 * installed. The package suites and the docs' code blocks are checked in such
 * programs, so keywire's declarations are held to the settings its users have.
 */
import * as fs from "fs";
import * as path from "path";
import { runCommand } from "../../scripts/shared/process";
import { NPM_TIMEOUT_MS, installPacked } from "../../scripts/package/packed";

/**
 * The compiler options of pulumi/templates typescript/tsconfig.json: strict, CommonJS
 * with the older `node` resolution, and neither `esModuleInterop` nor `skipLibCheck`.
 */
export const TEMPLATE_COMPILER_OPTIONS = {
  strict: true,
  outDir: "bin",
  target: "es2020",
  module: "commonjs",
  moduleResolution: "node",
  sourceMap: true,
  experimentalDecorators: true,
  pretty: true,
  noFallthroughCasesInSwitch: true,
  noImplicitReturns: true,
  forceConsistentCasingInFileNames: true,
} as const;

/** The template's tsconfig.json, as it ships: the program is `index.ts`. */
export const TEMPLATE_TSCONFIG = { compilerOptions: TEMPLATE_COMPILER_OPTIONS, files: ["index.ts"] };

/** The version keywire's own checkout develops and tests the AWS side with (its devDependency). */
export function checkoutAwsVersion(root: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
  return pkg.devDependencies["@pulumi/aws"];
}

export interface TemplateProgramOptions {
  /** Install @pulumi/aws beside keywire (keywire's optional peer dependency), at this version. */
  aws?: string;
}

/** Makes the program in `dir` and installs the tarball there. */
export async function installTemplateProgram(dir: string, tarball: string, env: NodeJS.ProcessEnv, opts: TemplateProgramOptions = {}): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const pkg = {
    name: path.basename(dir),
    private: true,
    main: "index.ts",
    devDependencies: { "@types/node": "^22.19.1", typescript: "~5.9.3" },
    dependencies: { "@pulumi/pulumi": "^3.276.0", ...(opts.aws ? { "@pulumi/aws": opts.aws } : {}) },
  };
  fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, "tsconfig.json"), `${JSON.stringify(TEMPLATE_TSCONFIG, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${pkg.name}\nruntime: nodejs\n`);
  await installPacked(dir, tarball, env);
}

export interface TypeCheck {
  code: number | null;
  /** The compiler's diagnostics, one a line (`file(line,col): error TS…: …`). */
  output: string;
}

/** `tsc --noEmit -p <tsconfig>` in the program, with the TypeScript it installed. */
export async function typeCheck(dir: string, env: NodeJS.ProcessEnv, tsconfig = "tsconfig.json", extraArgs: string[] = []): Promise<TypeCheck> {
  const tsc = path.join(dir, "node_modules", "typescript", "bin", "tsc");
  const res = await runCommand(process.execPath, [tsc, "--noEmit", "-p", tsconfig, "--pretty", "false", ...extraArgs], {
    cwd: dir,
    env,
    timeoutMs: NPM_TIMEOUT_MS,
  });
  return { code: res.timedOut ? null : res.code, output: `${res.stdout}${res.stderr}`.trim() };
}
