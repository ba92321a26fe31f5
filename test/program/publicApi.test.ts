/**
 * keywire's own program is the library's first consumer: index.ts and config/ reach
 * the library only through its public modules, the ones the package exports
 * (`keywire`, `keywire/servicenow`, …), so everything the program needs is there for
 * any other program too.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..", "..");

interface PackageJson {
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
  files: string[];
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;

/** The package's code modules: subpath (`.`, `./servicenow`) → what it names in dist/. */
const CODE_EXPORTS = Object.entries(PKG.exports).flatMap(([subpath, target]) => (typeof target === "string" ? [] : [{ subpath, target }]));

/** The build compiles resources/ into dist/ (tsconfig.build.json): the source of a compiled module. */
function sourceOf(compiled: string): string {
  const m = /^\.\/dist\/(.*)\.js$/.exec(compiled);
  if (!m) throw new Error(`${compiled} is not a module of dist/`);
  return `resources/${m[1]}.ts`;
}

/** The public modules, as paths from the checkout's root: what the package exports, as sources. */
const PUBLIC = CODE_EXPORTS.map(({ target }) => sourceOf(target.default).replace(/\/index\.ts$/, ""));

function programFiles(): string[] {
  const config = fs
    .readdirSync(path.join(ROOT, "config"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => path.join(ROOT, "config", f));
  return [path.join(ROOT, "index.ts"), ...config];
}

/** Every module `file` imports, requires or imports dynamically. */
function importsOf(file: string): string[] {
  return ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true).importedFiles.map((f) => f.fileName);
}

test("the program imports the library only through its public modules", () => {
  const files = programFiles();
  expect(files.length).toBeGreaterThan(3);
  const intoLibrary: string[] = [];
  const deep: string[] = [];
  for (const file of files) {
    for (const spec of importsOf(file)) {
      if (!spec.startsWith(".")) continue;
      const target = path
        .relative(ROOT, path.resolve(path.dirname(file), spec))
        .split(path.sep)
        .join("/");
      if (target !== "resources" && !target.startsWith("resources/")) continue;
      intoLibrary.push(target);
      if (!PUBLIC.includes(target)) deep.push(`${path.relative(ROOT, file)} imports ${spec}`);
    }
  }
  expect(deep).toEqual([]);
  // The check sees the program's imports at all: it uses the root and a platform module.
  expect(intoLibrary).toEqual(expect.arrayContaining(["resources", "resources/servicenow"]));
});

test("the package exports the root and one module per platform, each an index module with its types", () => {
  expect(CODE_EXPORTS.map((e) => e.subpath).sort()).toEqual([".", "./aws", "./freshservice", "./ivanti", "./servicenow"]);
  for (const { target } of CODE_EXPORTS) {
    expect(target.default).toMatch(/\/index\.js$/);
    expect(fs.existsSync(path.join(ROOT, sourceOf(target.default)))).toBe(true);
    expect(target.types).toBe(target.default.replace(/\.js$/, ".d.ts"));
  }
  expect(PKG.files).toContain("dist");
});

test("programs whose TypeScript resolves modules the older way (moduleResolution node) find each module's types", () => {
  // That resolution ignores `exports`; typesVersions maps the subpaths for it.
  const mapped = PKG.typesVersions["*"];
  for (const { subpath, target } of CODE_EXPORTS) {
    if (subpath === ".") continue;
    expect(mapped[subpath.slice(2)]).toEqual([target.types.slice(2)]);
  }
});

/** The packages a library module reaches, through every module of the library it imports (type-only imports too: their declarations need them). */
function packagesReached(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const resolve = (from: string, spec: string): string | undefined => {
    const base = path.resolve(path.dirname(from), spec);
    return [`${base}.ts`, `${base}.js`, path.join(base, "index.ts"), base].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
  };
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith(".")) {
        const target = resolve(file, spec);
        if (target) visit(target);
      } else {
        packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
      }
    }
  };
  visit(path.join(ROOT, entry));
  return packages;
}

test("only keywire/aws reaches @pulumi/aws, an optional peer dependency: the root and the other platforms' modules do not", () => {
  const optionalPeers = Object.entries(PKG.peerDependenciesMeta ?? {})
    .filter(([, meta]) => meta.optional)
    .map(([name]) => name);
  expect(optionalPeers).toEqual(["@pulumi/aws"]);
  for (const { subpath, target } of CODE_EXPORTS) {
    const reached = [...packagesReached(sourceOf(target.default))];
    if (subpath === "./aws") expect(reached).toContain("@pulumi/aws");
    else expect({ subpath, aws: reached.filter((p) => p === "@pulumi/aws" || p.startsWith("@aws-sdk/")) }).toEqual({ subpath, aws: [] });
  }
});
