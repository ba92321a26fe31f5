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
/** The public modules, as paths from the checkout's root (the package's `exports` map them). */
const PUBLIC = ["resources", "resources/servicenow", "resources/freshservice", "resources/ivanti", "resources/aws"];

function programFiles(): string[] {
  const config = fs.readdirSync(path.join(ROOT, "config")).filter((f) => f.endsWith(".ts")).map((f) => path.join(ROOT, "config", f));
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
      const target = path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep).join("/");
      if (target !== "resources" && !target.startsWith("resources/")) continue;
      intoLibrary.push(target);
      if (!PUBLIC.includes(target)) deep.push(`${path.relative(ROOT, file)} imports ${spec}`);
    }
  }
  expect(deep).toEqual([]);
  // The check sees the program's imports at all: it uses the root and a platform module.
  expect(intoLibrary).toEqual(expect.arrayContaining(["resources", "resources/servicenow"]));
});

test("each public module is an index file", () => {
  for (const m of PUBLIC) expect(fs.existsSync(path.join(ROOT, m, "index.ts"))).toBe(true);
});
