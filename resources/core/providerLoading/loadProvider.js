/**
 * Loads a referenced provider inside the dynamic-provider process (see
 * providerReference.ts). Exported as `keywire/loadProvider`: the text every resource
 * stores resolves it from the working directory, which Pulumi sets to the program's.
 *
 * Two reference formats reach it:
 * - `{ m, e, a? }` (keywire 0.2 on): a public module of the package (`keywire/servicenow`)
 *   and its export. A program that installed keywire gets the module the way it would
 *   import it, compiled JavaScript from the package. keywire's own program (its checkout:
 *   the program's package is keywire) gets the same compiled module where the build in
 *   dist/ is of the sources as they are now (its digest says so), and otherwise the
 *   TypeScript source, which is what the program itself runs there.
 * - `{ loader, module, exportName, args? }` (keywire 0.1): a file relative to the program's
 *   directory, written by keywire's own program; such a state still refreshes and
 *   destroys from the checkout.
 *
 * Plain JavaScript because it runs before any TypeScript hook exists, and so that a
 * checkout need not be built for its program's providers to load.
 */
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");
const { createHash } = require("crypto");

/**
 * Provider modules that moved, by the path states written before the move name
 * (relative to keywire's root): such a state still refreshes and destroys.
 */
const MOVED = {
  "resources/servicenow/accessPolicy.ts": "resources/servicenow/records/accessPolicy.ts",
  "resources/servicenow/accessPolicyProfileLink.ts": "resources/servicenow/records/accessPolicyProfileLink.ts",
  "resources/servicenow/apiKey.ts": "resources/servicenow/apiKey/apiKey.ts",
  "resources/servicenow/apiKeyVerification.ts": "resources/servicenow/checks/apiKeyVerification.ts",
  "resources/servicenow/basicAuthProfile.ts": "resources/servicenow/records/basicAuthProfile.ts",
  "resources/servicenow/inboundProfile.ts": "resources/servicenow/records/inboundProfile.ts",
  "resources/servicenow/preflight.ts": "resources/servicenow/checks/preflight.ts",
  "resources/servicenow/pushConnector.ts": "resources/servicenow/records/pushConnector.ts",
  "resources/servicenow/rateLimitRule.ts": "resources/servicenow/records/rateLimitRule.ts",
  "resources/servicenow/user.ts": "resources/servicenow/records/user.ts",
  "resources/servicenow/userRoleGrant.ts": "resources/servicenow/records/userRoleGrant.ts",
};

/** How far up from the working directory a program's package.json may be (a program in a subfolder). */
const MAX_PACKAGE_DEPTH = 32;

/**
 * The build's record of what it compiled, relative to keywire's root: the digest of
 * the sources (sourceDigest) as the build started. Written by scripts/package/build.ts,
 * not packed: an installed package has no sources to compare.
 */
const BUILD_DIGEST = "dist/sources.digest";
/** What the build reads besides resources/: its compiler settings. */
const BUILD_INPUTS = ["tsconfig.json", "tsconfig.build.json"];

/** A digest of the library's sources and compiler settings in the checkout at `root`. */
function sourceDigest(root) {
  const hash = createHash("sha256");
  const add = (rel) => {
    const file = path.join(root, rel);
    hash.update(`${rel}\0`);
    hash.update(fs.existsSync(file) ? fs.readFileSync(file) : "(none)");
    hash.update("\0");
  };
  const walk = (rel) => {
    const entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(child);
      else if (/\.(ts|js|json)$/.test(e.name)) add(child);
    }
  };
  BUILD_INPUTS.forEach(add);
  walk("resources");
  return hash.digest("hex");
}

/** Whether dist/ in the checkout at `root` was built from its sources as they are now. */
function buildMatchesSources(root) {
  const stamp = path.join(root, BUILD_DIGEST);
  return fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8").trim() === sourceDigest(root);
}

/** buildMatchesSources, asked once per process and root: every provider type of a run asks it. */
const builtFromSources = new Map();
function buildIsCurrent(root) {
  if (!builtFromSources.has(root)) builtFromSources.set(root, buildMatchesSources(root));
  return builtFromSources.get(root);
}

/** The module's path today, for a reference that may name where it used to be. */
function currentModule(module) {
  for (const [was, is] of Object.entries(MOVED)) {
    if (module === was || module.endsWith(`/${was}`)) return module.slice(0, module.length - was.length) + is;
  }
  return module;
}

/** The package a bare specifier names: `keywire` for `keywire/servicenow`. */
function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The package.json nearest at or above `dir` (Node's package scope), or undefined. */
function packageScope(dir) {
  let at = dir;
  for (let i = 0; i < MAX_PACKAGE_DEPTH; i++) {
    const file = path.join(at, "package.json");
    if (fs.existsSync(file)) return { dir: at, json: JSON.parse(fs.readFileSync(file, "utf8")) };
    const up = path.dirname(at);
    if (up === at) return undefined;
    at = up;
  }
  return undefined;
}

/**
 * The file of `specifier` in keywire's checkout at `root`: the file its `exports`
 * entry names, which for a compiled module (`./dist/<p>.js`, which
 * tsconfig.build.json builds from `resources/<p>.ts`) is used only where the build
 * is of the current sources; otherwise that module's source.
 */
function checkoutSource(root, exportsMap, specifier) {
  const subpath = `.${specifier.slice(packageName(specifier).length)}`;
  const entry = exportsMap && exportsMap[subpath];
  const target = typeof entry === "string" ? entry : entry && (entry.require || entry.default);
  if (typeof target !== "string") {
    throw new Error(`keywire: the state names ${specifier}, which keywire's package.json (${root}) does not export`);
  }
  const compiled = /^\.\/dist\/(.+)\.js$/.exec(target);
  if (!compiled || (buildIsCurrent(root) && fs.existsSync(path.join(root, target)))) return path.join(root, target);
  return path.join(root, `resources/${compiled[1]}.ts`);
}

/** The file that holds `specifier` for the program in the working directory. */
function moduleFile(specifier) {
  const program = process.cwd();
  const own = packageScope(program);
  if (own && own.json.name === packageName(specifier)) return checkoutSource(own.dir, own.json.exports, specifier);
  try {
    return createRequire(path.join(program, "noop.js")).resolve(specifier);
  } catch (err) {
    throw new Error(
      `keywire: the state names ${specifier}, which the program in ${program} cannot load (${err.message.split("\n")[0]}). ` +
        `Run pulumi from the program's directory, with keywire installed there (keywire's docs/install.md says how).`,
      { cause: err },
    );
  }
}

/** Requires `file`, registering ts-node first for TypeScript (keywire's checkout only). */
function requireModule(file) {
  if (!fs.existsSync(file)) {
    throw new Error(`keywire: no provider code at ${file}; run pulumi from the keywire program's directory`);
  }
  if (/\.ts$/.test(file) && !require.extensions[".ts"]) {
    // Transpile only: type checking is the program's job (and `npm test`'s).
    const tsNode = require(require.resolve("ts-node", { paths: [file, process.cwd()] }));
    tsNode.register({ transpileOnly: true, cwd: path.dirname(file) });
  }
  return require(file);
}

/** The provider an export holds (or, given `args`, the one the exported function returns for them), if it is a keywire provider. */
function providerIn(exported, args) {
  const there = args && typeof exported === "function" ? exported(...args) : exported;
  const isProvider = there && typeof there === "object" && there.reference && typeof there.create === "function";
  return isProvider ? there : undefined;
}

/**
 * parentWatch (the provider process stops when the engine is gone), from the same place
 * as the providers: dist/ where it is current or keywire is installed, else the source.
 */
function parentWatchFile() {
  const root = path.resolve(__dirname, "..", "..", "..");
  const source = path.join(root, "resources", "core", "parentWatch.ts");
  return fs.existsSync(source) && !buildIsCurrent(root) ? source : path.join(root, "dist", "core", "parentWatch.js");
}

/** @param {{ m: string, e: string, a?: string[] } | { module: string, exportName: string, args?: string[] }} ref */
function loadProvider(ref) {
  // The one place a provider process starts its watch (a no-op in any other process).
  const watch = parentWatchFile();
  if (fs.existsSync(watch)) requireModule(watch).startProviderWatch();
  if (typeof ref.m === "string") {
    const provider = providerIn(requireModule(moduleFile(ref.m))[ref.e], ref.a);
    if (!provider) throw new Error(`keywire: ${ref.m} exports no keywire provider named ${ref.e}`);
    return provider;
  }
  const file = path.resolve(process.cwd(), currentModule(ref.module));
  if (!fs.existsSync(file)) {
    throw new Error(`keywire: no provider code at ${file}; run pulumi from the keywire program's directory (the state refers to ${ref.module})`);
  }
  const provider = providerIn(requireModule(file)[ref.exportName], ref.args);
  if (!provider) throw new Error(`keywire: ${ref.module} exports no keywire provider named ${ref.exportName}`);
  return provider;
}

module.exports = loadProvider;
// The build records the digest it compiled (scripts/package/build.ts): one definition of it.
module.exports.sourceDigest = sourceDigest;
module.exports.buildMatchesSources = buildMatchesSources;
module.exports.BUILD_DIGEST = BUILD_DIGEST;
