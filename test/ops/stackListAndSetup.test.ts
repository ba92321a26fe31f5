/**
 * The scripts that place a run's stacks and program: the stacks workflow reads and checks
 * the stack list (.github/keywire-ci.json) into the jobs' matrix, and the setup action
 * finds the program's lockfile. Run as GitHub runs them (`shell: bash`).
 */
import * as fs from "fs";
import * as path from "path";
import { type Mapping, STACK_LIST, readYaml } from "../support/workflowModel";
import { ROOT, runStep, scratchDir, stepRun } from "./workspace";

const tmp = scratchDir("keywire-stack-list-");

describe("the stack list (stacks.yml)", () => {
  const script = (): string => {
    const wf = readYaml(path.join(ROOT, ".github", "workflows", "stacks.yml"));
    return stepRun((wf.doc.jobs as Mapping).read as Mapping, (s) => s.id === "read");
  };

  /** The step on `list` (written as given, so not-JSON can be tried too), for `only` one stack of it: its exit code, outputs and messages. */
  async function read(list: unknown, only?: string): Promise<{ code: number | null; output: string; said: string }> {
    const dir = fs.mkdtempSync(path.join(tmp(), "stacks-"));
    fs.mkdirSync(path.join(dir, ".github"));
    fs.writeFileSync(path.join(dir, ".github", "keywire-ci.json"), typeof list === "string" ? list : JSON.stringify(list));
    const output = path.join(dir, "github-output");
    fs.writeFileSync(output, "");
    const r = await runStep(script(), dir, path.join(dir, "bin"), {
      FILE: ".github/keywire-ci.json",
      GITHUB_OUTPUT: output,
      ...(only !== undefined ? { ONLY: only } : {}),
    });
    return { code: r.code, output: fs.readFileSync(output, "utf8"), said: (r.stdout + r.stderr).trim() };
  }

  test("the repository's own list: both stacks with SNS, in deployment order, the program at the root", async () => {
    const r = await read(fs.readFileSync(path.join(ROOT, STACK_LIST), "utf8"));
    expect(r).toEqual({
      code: 0,
      output: 'matrix={"include":[{"stack":"dev","sns":true,"key":"DEV"},{"stack":"prod","sns":true,"key":"PROD"}]}\nworking-directory=.\n',
      said: "program in .; stacks: dev (sns), prod (sns)",
    });
  });

  test("sns defaults to false, the program may live in a subdirectory, and each stack gets its role variables' suffix", async () => {
    const r = await read({ workingDirectory: "infra/pulumi", stacks: [{ stack: "eu-prod.2" }, { stack: "dev", sns: true }] });
    expect(r.code).toBe(0);
    expect(r.output).toBe(
      'matrix={"include":[{"stack":"eu-prod.2","sns":false,"key":"EU_PROD_2"},{"stack":"dev","sns":true,"key":"DEV"}]}\nworking-directory=infra/pulumi\n',
    );
  });

  test("one stack asked for (recover.yml): the matrix holds it alone; an empty ask is every stack", async () => {
    const list = { workingDirectory: "infra", stacks: [{ stack: "dev", sns: true }, { stack: "staging" }, { stack: "prod", sns: true }] };
    expect(await read(list, "staging")).toEqual({
      code: 0,
      output: 'matrix={"include":[{"stack":"staging","sns":false,"key":"STAGING"}]}\nworking-directory=infra\n',
      said: "program in infra; stacks: staging",
    });
    expect((await read(list, "")).output).toContain('"stack":"dev"');
  });

  test("a stack asked for that the list lacks, or that is no stack name, stops the run; a name that is not one is not repeated", async () => {
    const list = {
      stacks: [
        { stack: "dev", sns: true },
        { stack: "prod", sns: true },
      ],
    };
    expect(await read(list, "qa")).toEqual({
      code: 1,
      output: "",
      said: "::error file=.github/keywire-ci.json::stack qa is not listed in the file, which lists dev, prod",
    });
    for (const only of ["dev\n::warning::x", "../prod", "-dev"]) {
      expect(await read(list, only)).toEqual({
        code: 1,
        output: "",
        said: "::error file=.github/keywire-ci.json::the stack asked for is not a stack name of letters, digits, _, . and -",
      });
    }
  });

  test("each mistake stops the run with one line naming it", async () => {
    const error = async (list: unknown): Promise<string> => {
      const r = await read(list);
      expect({ code: r.code, output: r.output }).toEqual({ code: 1, output: "" });
      return r.said;
    };
    const at = "::error file=.github/keywire-ci.json::";
    expect(await error([{ stack: "dev" }])).toBe(`${at}the file must hold one JSON object with "stacks"`);
    expect(await error({ stacks: [] })).toBe(`${at}"stacks" must list at least one stack, such as [{"stack": "dev", "sns": true}]`);
    for (const stack of ["org/dev", "-dev", "", 7]) {
      expect(await error({ stacks: [{ stack }] })).toBe(`${at}each entry of "stacks" needs "stack": a stack name of letters, digits, _, . and -`);
    }
    expect(await error({ stacks: [{ stack: "dev", sns: "yes" }] })).toBe(`${at}"sns" of stack dev must be true or false`);
    expect(await error({ stacks: [{ stack: "dev" }, { stack: "dev" }] })).toBe(`${at}a stack is listed twice`);
    expect(await error({ stacks: [{ stack: "eu-prod" }, { stack: "eu.prod" }] })).toMatch(
      /^::error file=\.github\/keywire-ci\.json::two stacks would share AWS role variables/,
    );
    for (const workingDirectory of ["../infra", "/infra", "infra/", "infra/../..", ""]) {
      expect(await error({ workingDirectory, stacks: [{ stack: "dev" }] })).toMatch(
        /^::error file=\.github\/keywire-ci\.json::workingDirectory must be a directory inside the repository/,
      );
    }
    expect(await error("{ not json")).toMatch(/^::error file=\.github\/keywire-ci\.json::/);
  });
});

describe("the setup's lockfile", () => {
  const script = (): string => {
    const action = readYaml(path.join(ROOT, ".github", "actions", "setup", "action.yml"));
    return stepRun({ steps: (action.doc.runs as Mapping).steps }, (s) => s.id === "lockfile");
  };

  /** The step in a workspace holding `files`, for the program in `programDir`. */
  async function find(programDir: string, files: string[]): Promise<{ code: number | null; output: string; said: string }> {
    const dir = fs.mkdtempSync(path.join(tmp(), "lockfile-"));
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), "{}\n");
    }
    const output = path.join(dir, "github-output");
    fs.writeFileSync(output, "");
    const r = await runStep(script(), dir, path.join(dir, "bin"), { PROGRAM_DIR: programDir, GITHUB_OUTPUT: output });
    return { code: r.code, output: fs.readFileSync(output, "utf8"), said: r.stdout.trim() };
  }

  test("the program's own lockfile, at the root or in its subdirectory, or a workspace's above it", async () => {
    expect(await find(".", ["package.json", "package-lock.json"])).toEqual({
      code: 0,
      output: "dir=.\npath=./package-lock.json\n",
      said: "lockfile: ./package-lock.json",
    });
    expect(await find("infra", ["package.json", "package-lock.json", "infra/package.json", "infra/package-lock.json"])).toMatchObject({
      code: 0,
      output: "dir=infra\npath=infra/package-lock.json\n",
    });
    expect(await find("packages/infra", ["package.json", "package-lock.json", "packages/infra/package.json"])).toMatchObject({
      code: 0,
      output: "dir=.\npath=./package-lock.json\n",
    });
    expect(await find("infra", ["infra/package.json", "infra/npm-shrinkwrap.json"])).toMatchObject({
      code: 0,
      output: "dir=infra\npath=infra/npm-shrinkwrap.json\n",
    });
  });

  test("no program there, or no lockfile: the job stops saying what to do", async () => {
    expect(await find("infra", ["package.json", "package-lock.json"])).toEqual({
      code: 1,
      output: "",
      said: "::error::no package.json in infra: set workingDirectory in .github/keywire-ci.json to the Pulumi program's directory",
    });
    expect(await find("infra", ["infra/package.json"])).toEqual({
      code: 1,
      output: "",
      said: "::error::no package-lock.json in infra or above it: run npm install there and commit the lockfile (npm ci installs exactly what it says)",
    });
  });
});
