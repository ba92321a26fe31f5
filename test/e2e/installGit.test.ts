/**
 * keywire installed from a git tag, as docs/install.md documents for as long as keywire
 * is not on the npm registry: `npm install git+…#v<version>`. npm clones the tag,
 * installs keywire's dependencies and dev dependencies in the clone, runs `prepare` (the
 * build: dist/ is not in git) and installs what package.json `files` lists. Here the
 * repository is a bare clone of this checkout's HEAD with the tag added, reached through
 * git+file://, so the test needs no network where npm's cache is warm.
 *
 * It proves what only this route can get wrong: the build runs from a fresh clone with
 * nothing but its committed files and its dev dependencies, and the package it leaves
 * has the command line. The commands themselves are checked as for the tarball route.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";
import { createTeamProgram, teamEnv } from "../support/teamProgram";
import { expectEmulatorRoundTrip, expectHelp } from "../support/installChecks";

/** A clone, npm install of keywire's dev dependencies in it, two builds, the install: minutes, not hours. */
const GIT_INSTALL_TIMEOUT_MS = 15 * 60_000;
const GIT_TIMEOUT_MS = 60_000;
jest.setTimeout(5 * 60_000);

let work: string;
let project: string;
let tag: string;

async function git(args: string[], cwd: string): Promise<string> {
  const res = await runCommand("git", args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" }, timeoutMs: GIT_TIMEOUT_MS });
  if (res.code !== 0) throw new Error(`git ${args.join(" ")} exited ${res.code}${res.timedOut ? " (timed out)" : ""}\n${res.stderr}`);
  return res.stdout.trim();
}

beforeAll(
  async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-e2e-install-git-"));
    const bare = path.join(work, "keywire.git");
    await git(["clone", "--quiet", "--bare", REPO_ROOT, bare], work);
    const version = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
    tag = `v${version}`;
    // The release tag, in the clone only: the route is the one a release gets.
    await git(["tag", "--force", tag, await git(["rev-parse", "HEAD"], bare)], bare);

    project = createTeamProgram(path.join(work, "team-program"));
    const env = teamEnv(path.join(work, "home-install"));
    const res = await runCommand("npm", ["install", `git+file://${bare}#${tag}`, "--prefer-offline", "--no-audit", "--no-fund"], {
      cwd: project,
      env,
      timeoutMs: GIT_INSTALL_TIMEOUT_MS,
    });
    if (res.code !== 0) throw new Error(`npm install from git exited ${res.code}${res.timedOut ? " (timed out)" : ""}\n${res.stderr.slice(-4000)}`);
  },
  GIT_INSTALL_TIMEOUT_MS + 2 * GIT_TIMEOUT_MS,
);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("the tag was built on install: the library and the command line are there, the sources and the build's digests are not", () => {
  const installed = path.join(project, "node_modules", "keywire");
  expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
  const lock = JSON.parse(fs.readFileSync(path.join(project, "package-lock.json"), "utf8")) as { packages: Record<string, { resolved?: string }> };
  expect(lock.packages["node_modules/keywire"].resolved).toMatch(/^git\+file:\/\/.+keywire\.git#[0-9a-f]{40}$/);
  for (const f of [
    "dist/index.js",
    "dist/servicenow/index.js",
    "dist/cli/scripts/cli/keywire.js",
    "dist/cli/scripts/pulumi/run.js",
    "resources/core/providerLoading/loadProvider.js",
  ]) {
    expect(fs.existsSync(path.join(installed, f))).toBe(true);
  }
  for (const f of ["resources/index.ts", "scripts", "tools", "test", "dist/sources.digest", "dist/cli/sources.digest"])
    expect(fs.existsSync(path.join(installed, f))).toBe(false);
  expect(fs.realpathSync(path.join(project, "node_modules", ".bin", "keywire"))).toBe(
    fs.realpathSync(path.join(installed, "dist", "cli", "scripts", "cli", "keywire.js")),
  );
});

test("npx keywire --help and npx keywire drift --help answer in the team's program", async () => {
  await expectHelp(project, teamEnv(path.join(work, "home-help")));
});

test("npx keywire emulator starts, answers on loopback, and stops", async () => {
  await expectEmulatorRoundTrip(project, path.join(work, "home-emulator"));
});
