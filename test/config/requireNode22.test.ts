/**
 * On a Node older than 22 keywire stops with a message saying how to get Node 22:
 * the check itself, the gate every npm script runs first and an entry that imports it, run on a
 * Node whose reported version is faked to an old one.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { assertNodeVersion, MIN_NODE_MAJOR, nodeVersionProblem } from "../../config/nodeVersion";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";
import globalSetup from "../support/globalSetup";

const TS_NODE = path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js");
const RUN_TIMEOUT_MS = 60_000;
const MESSAGE = (found: string): string =>
  `keywire needs Node 22 or newer (found v${found}); run npm ci (or npm install) without --ignore-scripts, which puts Node 22 into node_modules/.bin, or install Node 22`;

describe("nodeVersionProblem", () => {
  test("Node 22 and newer pass", () => {
    expect(MIN_NODE_MAJOR).toBe(22);
    for (const v of ["22.0.0", "22.23.3", "v22.1.0", "24.3.1", "100.0.0"]) expect(nodeVersionProblem(v)).toBeUndefined();
  });

  test("older or unreadable versions get the message naming the found version and the fix", () => {
    expect(nodeVersionProblem("20.20.2")).toBe(MESSAGE("20.20.2"));
    expect(nodeVersionProblem("v18.19.0")).toBe(MESSAGE("18.19.0"));
    expect(nodeVersionProblem("21.99.99")).toBe(MESSAGE("21.99.99"));
    expect(nodeVersionProblem("nonsense")).toBe(MESSAGE("nonsense"));
  });

  test("assertNodeVersion throws the message; jest's global setup passes on this Node", () => {
    expect(() => assertNodeVersion("20.11.1")).toThrow(MESSAGE("20.11.1"));
    expect(() => assertNodeVersion("22.0.0")).not.toThrow();
    expect(() => globalSetup()).not.toThrow();
  });
});

describe("on an old Node", () => {
  let dir: string;
  let fakeOld: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-require-node22-"));
    // Loaded with --require before anything else: this Node reports itself as 20.11.1.
    fakeOld = path.join(dir, "node20.js");
    fs.writeFileSync(fakeOld, 'Object.defineProperty(process.versions, "node", { value: "20.11.1" });\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (script: string, args: string[], old: boolean) =>
    runCommand(process.execPath, [...(old ? ["--require", fakeOld] : []), TS_NODE, "--transpile-only", script, ...args], {
      cwd: REPO_ROOT,
      env: process.env,
      timeoutMs: RUN_TIMEOUT_MS,
    });

  test(
    "the gate `npm test` runs first exits 1 with the message, and 0 on this Node",
    async () => {
      const old = await run("config/requireNode22.ts", [], true);
      expect(old.stderr.trim()).toBe(MESSAGE("20.11.1"));
      expect(old.code).toBe(1);
      const current = await run("config/requireNode22.ts", [], false);
      expect(current.stderr).toBe("");
      expect(current.code).toBe(0);
    },
    2 * RUN_TIMEOUT_MS,
  );

  test(
    "`npm run pulumi` stops before looking for a CLI",
    async () => {
      const r = await run("scripts/pulumi/run.ts", ["version"], true);
      expect(r.stderr.trim()).toBe(MESSAGE("20.11.1"));
      expect(r.stdout).toBe("");
      expect(r.code).toBe(1);
    },
    RUN_TIMEOUT_MS,
  );

  test("the npm scripts that start Node code run the gate first", () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test.startsWith("ts-node --transpile-only config/requireNode22.ts && ")).toBe(true);
    for (const [name, cmd] of Object.entries(scripts)) {
      const entry = /^ts-node --transpile-only (\S+\.ts)$/.exec(cmd)?.[1];
      if (!entry || name === "test:go") continue;
      const firstImport = /^import [^\n]*$/m.exec(fs.readFileSync(path.join(REPO_ROOT, entry), "utf8"))?.[0];
      expect({ name, firstImport }).toEqual({ name, firstImport: expect.stringMatching(/^import "(\.\.\/)+config\/requireNode22";$/) });
    }
  });
});
