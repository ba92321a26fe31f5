/**
 * Which code a provider process runs for a stored reference: the text resolves
 * `keywire/loadProvider` from the program's directory, and the loader then takes
 * the module the reference names
 * - from the package a program installed: its compiled JavaScript, as the program
 *   imports it (no TypeScript hook);
 * - in keywire's own checkout (the program's package is keywire): the compiled module
 *   where dist/ was built from the sources as they are now, otherwise the TypeScript
 *   source of that module, which is what keywire's own program runs.
 * Both are shown with small stand-in packages, each with a copy of the real loader,
 * under .e2e/ (where Node finds the checkout's ts-node above them).
 */
import * as fs from "fs";
import * as path from "path";
import { providerText } from "../../resources/core/providerLoading/providerReference";
import { revive } from "../support/providerText";

const ROOT = path.resolve(__dirname, "..", "..");
const LOADER = path.join(ROOT, "resources", "core", "providerLoading", "loadProvider.js");
let dir: string;
const cwd = process.cwd();

/** A stand-in provider module: its provider says which file it came from. */
const providerModule = (from: string, typed: boolean): string =>
  `exports.inboundProfileProvider = {
  typeName: "InboundProfile",
  reference: { m: "keywire/servicenow", e: "inboundProfileProvider" },
  from: ${JSON.stringify(from)}${typed ? " as string" : ""},
  create: async () => ({ id: "x" }),
};
`;

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** keywire's package.json as far as the loader reads it. */
const KEYWIRE_PACKAGE = JSON.stringify({
  name: "keywire",
  exports: {
    "./servicenow": { types: "./dist/servicenow/index.d.ts", default: "./dist/servicenow/index.js" },
    "./loadProvider": "./resources/core/providerLoading/loadProvider.js",
  },
});

/** keywire as `npm install` leaves it: package.json, dist/ and the loader; no TypeScript. */
function installedKeywire(at: string): void {
  write(path.join(at, "package.json"), KEYWIRE_PACKAGE);
  write(path.join(at, "dist", "servicenow", "index.js"), providerModule("compiled", false));
  write(path.join(at, "resources", "core", "providerLoading", "loadProvider.js"), fs.readFileSync(LOADER, "utf8"));
}

beforeEach(() => {
  fs.mkdirSync(path.join(ROOT, ".e2e"), { recursive: true });
  dir = fs.mkdtempSync(path.join(ROOT, ".e2e", "load-provider-"));
});
afterEach(() => {
  process.chdir(cwd);
  fs.rmSync(dir, { recursive: true, force: true });
});

const text = providerText({ m: "keywire/servicenow", e: "inboundProfileProvider" });

test("a program that installed keywire gets the package's compiled module, as its own import would", () => {
  const program = path.join(dir, "platform-infra");
  write(path.join(program, "package.json"), JSON.stringify({ name: "platform-infra", dependencies: { keywire: "^0.2.0" } }));
  installedKeywire(path.join(program, "node_modules", "keywire"));
  process.chdir(program);
  const provider = revive<{ from: string; reference: object }>(text);
  expect(provider.from).toBe("compiled");
  expect(provider.reference).toEqual({ m: "keywire/servicenow", e: "inboundProfileProvider" });
});

/** keywire's checkout as the loader sees it: the installed layout plus the module's TypeScript source. */
function checkout(name: string): string {
  const root = path.join(dir, name);
  installedKeywire(root);
  write(path.join(root, "resources", "servicenow", "index.ts"), providerModule("source", true));
  return root;
}

/** Records, as the build does, that dist/ was compiled from the checkout's sources as they are now. */
function recordBuild(root: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the loader is plain JavaScript, found by path as the build finds it
  const loader = require(LOADER) as { sourceDigest(root: string): string; BUILD_DIGEST: string };
  write(path.join(root, loader.BUILD_DIGEST), `${loader.sourceDigest(root)}\n`);
}

test("keywire's own program gets the compiled module where dist/ was built from its sources as they are now", () => {
  const root = checkout("keywire-built");
  recordBuild(root);
  process.chdir(root);
  expect(revive<{ from: string }>(text).from).toBe("compiled");
});

test("keywire's own program gets the module's TypeScript source where the sources changed since the build", () => {
  const root = checkout("keywire-edited");
  recordBuild(root);
  // An edit after the build: the stale dist/ must not be what runs, since the program runs the sources.
  write(path.join(root, "resources", "servicenow", "index.ts"), providerModule("source", true) + "// edited\n");
  process.chdir(root);
  expect(revive<{ from: string }>(text).from).toBe("source");
});

test("keywire's own program gets the module's TypeScript source where the build left no record", () => {
  process.chdir(checkout("keywire-unbuilt"));
  expect(revive<{ from: string }>(text).from).toBe("source");
});

test("a program without keywire installed is told to install it, from its directory", () => {
  const program = path.join(dir, "elsewhere");
  write(path.join(program, "package.json"), JSON.stringify({ name: "elsewhere" }));
  process.chdir(program);
  // The text cannot find the loader: Node names what it could not resolve.
  expect(() => revive(text)).toThrow(/Cannot find module 'keywire\/loadProvider'/);
});

test("a module the installed package does not export is named, with the fix", () => {
  const program = path.join(dir, "platform-infra");
  write(path.join(program, "package.json"), JSON.stringify({ name: "platform-infra" }));
  installedKeywire(path.join(program, "node_modules", "keywire"));
  process.chdir(program);
  const other = providerText({ m: "keywire/ivanti", e: "ivantiApiKeyProvider" });
  expect(() => revive(other)).toThrow(/the state names keywire\/ivanti, which the program in .* cannot load .*docs\/install.md/);
});
