/**
 * Loads a referenced provider inside the dynamic-provider process (see
 * providerReference.ts): resolves the module the state names against the working
 * directory (the Pulumi program's), registers ts-node for a TypeScript module, and
 * returns the provider that module registered.
 *
 * Plain JavaScript because it runs before any TypeScript hook exists; kept here, not
 * in the state, so that what every resource stores stays a few lines.
 */
"use strict";
const fs = require("fs");
const path = require("path");

/** @param {{ module: string, exportName: string, args?: string[] }} ref */
module.exports = function loadProvider(ref) {
  const file = path.resolve(process.cwd(), ref.module);
  if (!fs.existsSync(file)) {
    throw new Error(`keywire: no provider code at ${file}; run pulumi from the keywire program's directory (the state refers to ${ref.module})`);
  }
  if (/\.ts$/.test(file) && !require.extensions[".ts"]) {
    // Transpile only: type checking is the program's job (and `npm test`'s).
    const tsNode = require(require.resolve("ts-node", { paths: [file, process.cwd()] }));
    tsNode.register({ transpileOnly: true, cwd: path.dirname(file) });
  }
  const exported = require(file)[ref.exportName];
  const there = typeof exported === "function" ? exported(...(ref.args || [])) : exported;
  const live = globalThis[Symbol.for("keywire.liveProviders")];
  const provider = live && there ? live.get(there) : undefined;
  if (!provider) throw new Error(`keywire: ${ref.module} exports no keywire provider named ${ref.exportName}`);
  return provider;
};
