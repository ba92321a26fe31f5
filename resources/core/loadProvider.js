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

/** The module's path today, for a reference that may name where it used to be. */
function currentModule(module) {
  for (const [was, is] of Object.entries(MOVED)) {
    if (module === was || module.endsWith(`/${was}`)) return module.slice(0, module.length - was.length) + is;
  }
  return module;
}

/** @param {{ module: string, exportName: string, args?: string[] }} ref */
module.exports = function loadProvider(ref) {
  const file = path.resolve(process.cwd(), currentModule(ref.module));
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
