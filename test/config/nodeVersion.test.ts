/**
 * The old-Node message fits where keywire runs: keywire's checkout gets Node 22 from its
 * `node` dev dependency (`npm ci`), a team's program, where keywire is a dependency and
 * its dev dependencies are not installed, from a Node of its own. Checked on the
 * function, on where a keywire is found to run, and on the compiled Node gate as
 * installed in a program's node_modules, on a Node whose reported version is faked.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { keywirePlace, MIN_NODE_MAJOR, nodeVersionProblem } from "../../config/nodeVersion";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";

const RUN_TIMEOUT_MS = 60_000;
const CHECKOUT = (found: string): string =>
  `keywire needs Node 22 or newer (found v${found}); run npm ci (or npm install) without --ignore-scripts, which puts Node 22 into node_modules/.bin, or install Node 22`;
const INSTALLED = (found: string): string =>
  `keywire needs Node 22 or newer (found v${found}); run your Pulumi program and keywire on Node 22 or newer: install it (for example nvm install 22) and put it first on PATH, or in CI set node-version: "22" in actions/setup-node`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-node-version-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("nodeVersionProblem", () => {
  test("in keywire's checkout: npm ci, which installs the node dev dependency", () => {
    expect(MIN_NODE_MAJOR).toBe(22);
    expect(nodeVersionProblem("20.20.2", "checkout")).toBe(CHECKOUT("20.20.2"));
    expect(nodeVersionProblem("v18.19.0", "checkout")).toBe(CHECKOUT("18.19.0"));
  });

  test("installed in a team's program: a Node 22 of its own, and no npm ci, which would not bring one", () => {
    expect(nodeVersionProblem("20.20.2", "installed")).toBe(INSTALLED("20.20.2"));
    expect(nodeVersionProblem("nonsense", "installed")).toBe(INSTALLED("nonsense"));
    expect(nodeVersionProblem("21.99.99", "installed")).not.toMatch(/npm ci|npm install|ignore-scripts/);
  });

  test("Node 22 and newer pass in both places", () => {
    for (const place of ["checkout", "installed"] as const) {
      for (const v of ["22.0.0", "v22.1.0", "24.3.1"]) expect(nodeVersionProblem(v, place)).toBeUndefined();
    }
  });

  test("without a place, the place of this keywire: its checkout here", () => {
    expect(nodeVersionProblem("20.11.1")).toBe(CHECKOUT("20.11.1"));
  });
});

describe("keywirePlace", () => {
  test("the checkout: keywire's package.json with its TypeScript sources beside it", () => {
    expect(keywirePlace()).toBe("checkout");
    expect(keywirePlace(path.join(REPO_ROOT, "dist", "cli", "config"))).toBe("checkout");
  });

  test("an installed package: keywire's package.json without the sources; anything without keywire's package.json counts as installed", () => {
    const pkg = path.join(dir, "place", "node_modules", "keywire");
    fs.mkdirSync(path.join(pkg, "dist", "cli", "config"), { recursive: true });
    fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "keywire", version: "0.3.0" }));
    expect(keywirePlace(path.join(pkg, "dist", "cli", "config"))).toBe("installed");
    expect(keywirePlace(os.tmpdir())).toBe("installed");
  });
});

describe("the command's Node gate, installed in a team's program, on an old Node", () => {
  /** The modules the gate loads, compiled as the package's build compiles them (dist/cli keeps the checkout's layout). */
  const MODULES = ["config/nodeVersion.ts", "config/keywireRoot.ts", "config/requireNode22.ts"];

  test(
    "says to run on Node 22, not npm ci, and exits 1",
    async () => {
      const program = path.join(dir, "program");
      const pkg = path.join(program, "node_modules", "keywire");
      fs.mkdirSync(pkg, { recursive: true });
      fs.writeFileSync(path.join(program, "package.json"), JSON.stringify({ name: "team-infra", dependencies: { keywire: "0.3.0" } }));
      fs.writeFileSync(
        path.join(pkg, "package.json"),
        JSON.stringify({ name: "keywire", version: "0.3.0", bin: { keywire: "dist/cli/scripts/cli/keywire.js" } }),
      );
      for (const m of MODULES) {
        const source = fs.readFileSync(path.join(REPO_ROOT, m), "utf8");
        const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
        const out = path.join(pkg, "dist", "cli", m.replace(/\.ts$/, ".js"));
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, js);
      }
      // Loaded with --require before anything else: this Node reports itself as 20.11.1.
      const fakeOld = path.join(dir, "node20.js");
      fs.writeFileSync(fakeOld, 'Object.defineProperty(process.versions, "node", { value: "20.11.1" });\n');
      const gate = path.join(pkg, "dist", "cli", "config", "requireNode22.js");

      const old = await runCommand(process.execPath, ["--require", fakeOld, gate], { cwd: program, env: process.env, timeoutMs: RUN_TIMEOUT_MS });
      expect({ code: old.code, stderr: old.stderr.trim() }).toEqual({ code: 1, stderr: INSTALLED("20.11.1") });
      const current = await runCommand(process.execPath, [gate], { cwd: program, env: process.env, timeoutMs: RUN_TIMEOUT_MS });
      expect({ code: current.code, stderr: current.stderr }).toEqual({ code: 0, stderr: "" });
    },
    2 * RUN_TIMEOUT_MS,
  );
});
