/**
 * Which files a dynamic-provider process compiles, for the end-to-end suites that
 * prove where provider code comes from (the installed package's JavaScript, or the
 * checkout's build). A preload, given to every Node process the engine starts
 * through NODE_OPTIONS, records in the provider process each file under the given
 * roots that Node compiles, and whether a TypeScript hook was registered by then.
 */
import * as fs from "fs";
import * as path from "path";

const PRELOAD = `"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");
const out = process.env.KEYWIRE_E2E_LOADS;
const roots = String(process.env.KEYWIRE_E2E_LOADS_ROOTS || "").split(path.delimiter).filter(Boolean);
if (out && roots.length > 0 && /dynamic-provider/.test(String(process.argv[1] || ""))) {
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    const file = String(filename);
    const root = roots.find((r) => file.startsWith(r + path.sep));
    if (root && !file.slice(root.length).includes(path.sep + "node_modules" + path.sep)) {
      fs.appendFileSync(out, JSON.stringify({ file, tsHook: ".ts" in require.extensions }) + "\\n");
    }
    return compile.apply(this, arguments);
  };
}
`;

interface ProviderLoad {
  /** The compiled file's real path. */
  file: string;
  /** Whether a TypeScript hook (ts-node) was registered when it was compiled. */
  tsHook: boolean;
}

export interface ProviderLoads {
  /** The variables that turn the recording on, for the engine's environment. */
  env: NodeJS.ProcessEnv;
  /** What provider processes compiled since the last clear(). */
  read(): ProviderLoad[];
  /** The same, as paths relative to `root` with forward slashes. */
  relativeTo(root: string): Array<ProviderLoad & { path: string }>;
  clear(): void;
}

/**
 * Records provider-process loads under `roots` (outside their node_modules; real
 * paths, as Node names modules) into files in `work`.
 */
export function recordProviderLoads(work: string, roots: string[]): ProviderLoads {
  const out = path.join(work, "provider-loads.jsonl");
  const preload = path.join(work, "record-provider-loads.js");
  fs.writeFileSync(preload, PRELOAD);
  const read = (): ProviderLoad[] =>
    fs.existsSync(out)
      ? fs
          .readFileSync(out, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as ProviderLoad)
      : [];
  return {
    env: { NODE_OPTIONS: `--require ${preload}`, KEYWIRE_E2E_LOADS: out, KEYWIRE_E2E_LOADS_ROOTS: roots.map((r) => fs.realpathSync(r)).join(path.delimiter) },
    read,
    relativeTo: (root) => {
      const real = fs.realpathSync(root);
      return read().map((l) => ({ ...l, path: path.relative(real, l.file).split(path.sep).join("/") }));
    },
    clear: () => fs.rmSync(out, { force: true }),
  };
}
