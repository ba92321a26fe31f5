/**
 * The emulators sit below everything that uses them (the tests, scripts/, the bench):
 * their modules import each other, packages and Node's own modules, and from outside
 * emulator/ only the Node gate in config/, which every entry point runs first. An
 * import from above would load the code that uses the emulators into each emulator.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..", "..");
const EMULATOR = path.join(ROOT, "emulator");
const NODE_GATE = path.join(ROOT, "config", "requireNode22");

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(ts|js)$/.test(e.name) ? [p] : [];
  });
}

test("the emulators import nothing from outside emulator/ but the Node gate", () => {
  const files = sources(EMULATOR);
  const outside: string[] = [];
  let relative = 0;
  for (const file of files) {
    for (const { fileName: spec } of ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true).importedFiles) {
      if (!spec.startsWith(".")) continue;
      relative++;
      const target = path.resolve(path.dirname(file), spec);
      if (target !== NODE_GATE && !target.startsWith(EMULATOR + path.sep)) outside.push(`${path.relative(ROOT, file)} imports ${spec}`);
    }
  }
  expect(outside).toEqual([]);
  // The check sees the emulators' imports at all: the ServiceNow CLI imports the gate and its own modules.
  expect(files).toContain(path.join(EMULATOR, "servicenow", "cli.ts"));
  expect(relative).toBeGreaterThan(files.length);
});
