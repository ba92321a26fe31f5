/**
 * Which backend `npm run pulumi` gives the CLI: the caller's PULUMI_BACKEND_URL, else
 * the backend the caller chose the CLI's own ways (`backend.url` in Pulumi.yaml, then
 * `pulumi login`), and only otherwise keywire's local file backend.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultBackendDir, envForCommand, projectBackendUrl, pulumiEnv } from "../../scripts/pulumi/toolchain";

const BUCKET = "s3://team-state?region=eu-west-1";
const FILE_DEFAULT = `file://${defaultBackendDir()}`;

let dir: string;
let home: string;
let project: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-backend-choice-"));
  home = path.join(dir, "home");
  project = path.join(dir, "checkout");
  fs.mkdirSync(home);
  fs.mkdirSync(path.join(project, "stacks"), { recursive: true });
  fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: keywire\nruntime: nodejs\n");
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const backendFor = (base: NodeJS.ProcessEnv, cwd = project): string | undefined =>
  pulumiEnv("/nonexistent/bin", { PATH: "/usr/bin", PULUMI_HOME: home, ...base }, cwd).PULUMI_BACKEND_URL;

function login(url: string): void {
  fs.writeFileSync(path.join(home, "credentials.json"), JSON.stringify({ current: url, accessTokens: { [url]: "" } }));
}

test("with no choice anywhere, the local file backend (never Pulumi Cloud)", () => {
  expect(backendFor({})).toBe(FILE_DEFAULT);
  fs.writeFileSync(path.join(home, "credentials.json"), JSON.stringify({ current: "", accessTokens: {} })); // after `pulumi logout`
  expect(backendFor({})).toBe(FILE_DEFAULT);
});

test("a `pulumi login` in the Pulumi home is left to the CLI", () => {
  login(BUCKET);
  expect(backendFor({})).toBeUndefined();
});

test("backend.url in the project's Pulumi.yaml, found from a subdirectory too, is left to the CLI", () => {
  fs.appendFileSync(path.join(project, "Pulumi.yaml"), `backend:\n  url: ${BUCKET}\n`);
  expect(backendFor({})).toBeUndefined();
  expect(backendFor({}, path.join(project, "stacks"))).toBeUndefined();
});

test("the caller's PULUMI_BACKEND_URL always wins", () => {
  login(BUCKET);
  expect(backendFor({ PULUMI_BACKEND_URL: "file:///srv/state" })).toBe("file:///srv/state");
});

test("the wrapper looks for the project where npm was called (INIT_CWD)", () => {
  fs.appendFileSync(path.join(project, "Pulumi.yaml"), `backend:\n  url: ${BUCKET}\n`);
  const env = pulumiEnv("/nonexistent/bin", { PATH: "/usr/bin", PULUMI_HOME: home, INIT_CWD: project });
  expect(env.PULUMI_BACKEND_URL).toBeUndefined();
});

test("`pulumi login <url>` runs without the file default, so the CLI records the login without a conflict warning", () => {
  const env = pulumiEnv("/nonexistent/bin", { PATH: "/usr/bin", PULUMI_HOME: home }, project);
  expect(env.PULUMI_BACKEND_URL).toBe(FILE_DEFAULT);
  expect(envForCommand(["login", BUCKET], env, {}).PULUMI_BACKEND_URL).toBeUndefined();
  expect(envForCommand(["login", "--local"], env, {}).PULUMI_BACKEND_URL).toBe(FILE_DEFAULT);
  expect(envForCommand(["up", "--yes"], env, {}).PULUMI_BACKEND_URL).toBe(FILE_DEFAULT);
  // A caller's own PULUMI_BACKEND_URL is theirs to keep, for login too.
  const own = { PULUMI_BACKEND_URL: "file:///srv/state" };
  expect(envForCommand(["login", BUCKET], { ...env, ...own }, own).PULUMI_BACKEND_URL).toBe("file:///srv/state");
});

test.each([
  ["block", "name: keywire\nbackend:\n  url: s3://b?region=us-east-1\nruntime: nodejs\n", "s3://b?region=us-east-1"],
  ["block, quoted, with a comment", "backend: # team state\n  url: 's3://b' # shared\n", "s3://b"],
  ["block after blank lines", "backend:\n\n    url: \"gs://b/keywire\"\n", "gs://b/keywire"],
  ["flow", "backend: { url: s3://b }\n", "s3://b"],
  ["no backend", "name: keywire\nruntime: nodejs\n", undefined],
  ["backend without url", "backend:\n  other: x\nurl: s3://not-the-backend\n", undefined],
  ["an empty url", "backend:\n  url: ''\n", undefined],
  ["a nested key named backend", "options:\n  backend:\n    url: s3://b\n", undefined],
])("projectBackendUrl: %s", (_name, yaml, want) => {
  expect(projectBackendUrl(yaml)).toBe(want);
});
