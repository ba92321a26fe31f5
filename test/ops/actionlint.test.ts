/**
 * actionlint (github.com/rhysd/actionlint) on the CI workflows in .github/workflows: it
 * finds nothing in them, and finds the mistakes in a broken one. It is built once from
 * the Go module proxy (scripts/go/actionlint.ts). Where Go is missing, these tests
 * check keywire's structural rules (workflowPolicy.ts) instead; a failed build with Go
 * present fails them.
 */
import * as fs from "fs";
import * as path from "path";
import { Actionlint, ensureActionlint } from "../../scripts/go/actionlint";
import { readYaml, workflowFiles } from "../support/workflowModel";
import { checkWorkflow } from "../support/workflowPolicy";
import { BROKEN, ROOT, run, scratchDir } from "./workspace";

/** A cold Go module and build cache builds actionlint in a minute or two; a busy machine takes longer. */
const BUILD_TIMEOUT_MS = 16 * 60_000;

/** Deterministic on every machine: shellcheck and pyflakes run only where installed, so they are left out. */
const ACTIONLINT_FLAGS = ["-no-color", "-shellcheck=", "-pyflakes="];

const tmp = scratchDir("keywire-actionlint-");
let actionlint: Actionlint;

beforeAll(async () => {
  actionlint = await ensureActionlint({ log: (line) => process.stderr.write(`[actionlint] ${line}\n`) });
}, BUILD_TIMEOUT_MS);

describe("actionlint", () => {
  test("is there, or Go is not (a failed build with Go present is a failure)", () => {
    if (!actionlint.ok) expect(actionlint).toEqual({ ok: false, kind: "missing", reason: expect.stringContaining("no `go`") });
    else expect(fs.existsSync(actionlint.path)).toBe(true);
  });

  test("finds nothing in any workflow (without Go: the structural rules hold)", async () => {
    const files = workflowFiles(ROOT);
    expect(files.map((f) => path.basename(f))).toEqual(["deploy-stack.yml", "deploy.yml", "drift.yml", "preview.yml", "recover.yml", "stacks.yml"]);
    if (!actionlint.ok) {
      expect(files.flatMap((f) => checkWorkflow(readYaml(f), ROOT))).toEqual([]);
      return;
    }
    const r = await run(actionlint.path, [...ACTIONLINT_FLAGS, ...files.map((f) => path.relative(ROOT, f))], { cwd: ROOT });
    expect({ code: r.code, findings: r.stdout + r.stderr }).toEqual({ code: 0, findings: "" });
  });

  test("finds the mistakes in a broken workflow (without Go: the structural rules do)", async () => {
    const root = path.join(tmp(), "broken");
    fs.mkdirSync(path.join(root, ".github", "workflows"), { recursive: true });
    const file = path.join(root, ".github", "workflows", "broken.yml");
    fs.writeFileSync(file, BROKEN);
    if (!actionlint.ok) {
      expect(checkWorkflow(readYaml(file), root).length).toBeGreaterThan(0);
      return;
    }
    const r = await run(actionlint.path, [...ACTIONLINT_FLAGS, ".github/workflows/broken.yml"], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('property "stak" is not defined');
    expect(r.stdout).toContain('input "comment-on-pull-request" is not defined in action "pulumi/actions@v6"');
  });
});
