/**
 * Which pulumi CLI keywire uses and the environment it runs it in, without building
 * or installing anything: fake `pulumi` scripts on PATH, a fake cache, temporary
 * homes and projects. For the backend: the caller's PULUMI_BACKEND_URL, else the one
 * the caller chose the CLI's own ways (`backend.url` in Pulumi.yaml, then `pulumi
 * login`, then PULUMI_ACCESS_TOKEN), and only otherwise keywire's local file backend.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensurePulumi } from "../../scripts/pulumi/toolchain/ensurePulumi";
import {
  credentialsFile,
  defaultBackendDir,
  defaultPulumiHome,
  envForCommand,
  projectBackendUrl,
  pulumiEnv,
  readTeamSetup,
  sdkVersion,
  UNREAD_PROJECT_BACKEND,
} from "../../scripts/pulumi/toolchain/environment";
import type { Route } from "../../scripts/pulumi/toolchain/route";
import { dynamicProviderFingerprint, languageHostFingerprint } from "../../scripts/pulumi/toolchain/routes/goBuild";
import { compareVersions, parseVersion } from "../../scripts/pulumi/toolchain/routes/onPath";
import { callerDir, REPO_ROOT } from "../../scripts/shared/paths";
import { projectDir } from "../../scripts/pulumi/run";

const NODE_BIN = path.join(REPO_ROOT, "node_modules", ".bin");
const SDK = sdkVersion();
const sdk = parseVersion(SDK);
if (!sdk) throw new Error(`unexpected SDK version ${SDK}`);
/** The SDK's version with one part moved, for CLIs newer and older than it. */
const shifted = (d: { major?: number; minor?: number; patch?: number }): string =>
  `v${sdk.major + (d.major ?? 0)}.${sdk.minor + (d.minor ?? 0)}.${sdk.patch + (d.patch ?? 0)}`;

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-toolchain-unit-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function mkdir(...parts: string[]): string {
  const d = path.join(tmp, ...parts);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** A `pulumi` that prints `version` for `pulumi version`, as the real one does. */
function fakePulumi(dir: string, version: string): string {
  const bin = path.join(dir, "pulumi");
  fs.writeFileSync(bin, `#!/bin/sh\nif [ "$1" = version ]; then echo ${version}; exit 0; fi\nexit 0\n`, { mode: 0o755 });
  return bin;
}

/** What the setup leaves after a Go build, with fake binaries. */
function fakeCache(toolsDir: string): string {
  const dir = path.join(toolsDir, `pulumi-v${SDK}`);
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  for (const b of ["pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]) fs.writeFileSync(path.join(bin, b), "", { mode: 0o755 });
  fakePulumi(bin, `v${SDK}`);
  const stamp = {
    format: 1,
    version: SDK,
    route: "go",
    languageHost: languageHostFingerprint(),
    dynamicProvider: dynamicProviderFingerprint(),
    builtAt: new Date(0).toISOString(),
  };
  fs.writeFileSync(path.join(dir, "stamp.json"), JSON.stringify(stamp));
  return bin;
}

/** A caller's environment that sees nothing of this machine: no real PATH, home or cache. */
function baseEnv(pathDirs: string[], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: pathDirs.join(path.delimiter), HOME: mkdir("home"), KEYWIRE_TOOLS_DIR: mkdir("tools"), ...extra };
}

describe("versions", () => {
  test("reads what pulumi version prints and orders releases after their pre-releases", () => {
    expect(parseVersion("v3.276.0")).toEqual({ major: 3, minor: 276, patch: 0, pre: "" });
    expect(parseVersion("3.276.0\n")).toEqual({ major: 3, minor: 276, patch: 0, pre: "" });
    expect(parseVersion("v3.277.0-alpha.5+dirty")).toEqual({ major: 3, minor: 277, patch: 0, pre: "alpha.5" });
    expect(parseVersion("warning: a newer version exists")).toBeUndefined();
    expect(parseVersion("")).toBeUndefined();
    const cmp = (a: string, b: string): number => Math.sign(compareVersions(parseVersion(a)!, parseVersion(b)!));
    expect(cmp("v3.276.0", "v3.276.0")).toBe(0);
    expect(cmp("v3.276.1", "v3.276.0")).toBe(1);
    expect(cmp("v3.300.0", "v3.276.9")).toBe(1);
    expect(cmp("v4.0.0", "v3.999.0")).toBe(1);
    expect(cmp("v3.259.0", "v3.276.0")).toBe(-1);
    expect(cmp("v3.276.0-alpha.1", "v3.276.0")).toBe(-1);
    expect(cmp("v3.276.0", "v3.276.0-alpha.1")).toBe(1);
  });
});

describe("pulumiEnv: the environment decision", () => {
  const binDir = "/opt/keywire-cache/bin";
  const caller: NodeJS.ProcessEnv = { PATH: "/usr/local/bin:/usr/bin", HOME: "/home/team", KEYWIRE_TOOLS_DIR: "/opt/kt" };
  const PRIVATE = ["PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "PULUMI_SKIP_UPDATE_CHECK"];

  test("the team's own CLI runs with the team's environment; only the project's Node goes first on PATH", () => {
    const { env, summary } = pulumiEnv("path", "/usr/local/bin", caller, { login: "https://api.pulumi.com" });
    for (const k of PRIVATE) expect(env).not.toHaveProperty(k);
    expect(env.PATH).toBe([NODE_BIN, "/usr/local/bin", "/usr/bin"].join(path.delimiter));
    expect(env.HOME).toBe("/home/team");
    expect(summary).toMatch(/team's own CLI/);
  });

  test("the team's own CLI keeps the team's PULUMI_HOME, backend and passphrase untouched", () => {
    const team = { ...caller, PULUMI_HOME: "/srv/ph", PULUMI_BACKEND_URL: "s3://bucket/keywire", PULUMI_CONFIG_PASSPHRASE_FILE: "/p" };
    const { env } = pulumiEnv("path", "/usr/local/bin", team);
    expect(env).toMatchObject({ PULUMI_HOME: "/srv/ph", PULUMI_BACKEND_URL: "s3://bucket/keywire", PULUMI_CONFIG_PASSPHRASE_FILE: "/p" });
    expect(env).not.toHaveProperty("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION");
  });

  test.each<Route>(["go", "installer"])("a CLI keywire provided (%s) with nothing chosen gets keywire's own home and file backend", (route) => {
    const { env, summary } = pulumiEnv(route, binDir, caller);
    expect(env).toMatchObject({
      PATH: [binDir, NODE_BIN, "/usr/local/bin", "/usr/bin"].join(path.delimiter),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_HOME: defaultPulumiHome(caller),
      PULUMI_BACKEND_URL: `file://${defaultBackendDir()}`,
    });
    expect(env.PULUMI_HOME).toBe(path.join("/opt/kt", "pulumi-home"));
    expect(summary).toContain(`keywire's file backend file://${defaultBackendDir()}`);
    expect(summary).toContain("no automatic plugin download");
  });

  test("a keywire-provided CLI keeps the caller's PULUMI_HOME and PULUMI_BACKEND_URL", () => {
    const { env, summary } = pulumiEnv("go", binDir, { ...caller, PULUMI_HOME: "/srv/ph", PULUMI_BACKEND_URL: "s3://b/k" });
    expect(env.PULUMI_HOME).toBe("/srv/ph");
    expect(env.PULUMI_BACKEND_URL).toBe("s3://b/k");
    expect(summary).toContain("backend s3://b/k (PULUMI_BACKEND_URL)");
  });

  test("a keywire-provided CLI uses the team's login: ~/.pulumi stays the home and no backend is imposed", () => {
    const { env, summary } = pulumiEnv("go", binDir, caller, { login: "s3://team-state", credentialsFile: "/home/team/.pulumi/credentials.json" });
    expect(env).not.toHaveProperty("PULUMI_HOME");
    expect(env).not.toHaveProperty("PULUMI_BACKEND_URL");
    expect(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).toBe("true");
    expect(summary).toContain("backend s3://team-state (your pulumi login in /home/team/.pulumi/credentials.json)");
  });

  test("a caller's PULUMI_HOME set to keywire's default is still the caller's, and wins over a login elsewhere", () => {
    const { env } = pulumiEnv("go", binDir, { ...caller, PULUMI_HOME: "/srv/ph" }, { login: "https://api.pulumi.com" });
    expect(env.PULUMI_HOME).toBe("/srv/ph");
    expect(env).not.toHaveProperty("PULUMI_BACKEND_URL");
  });

  test("a keywire-provided CLI leaves the project's backend.url to the CLI", () => {
    const { env, summary } = pulumiEnv("go", binDir, caller, { projectBackend: "gs://proj-state" });
    expect(env).not.toHaveProperty("PULUMI_BACKEND_URL");
    expect(env.PULUMI_HOME).toBe(defaultPulumiHome(caller));
    expect(summary).toContain("backend gs://proj-state (Pulumi.yaml backend.url)");
  });

  test("a keywire-provided CLI with PULUMI_ACCESS_TOKEN goes to Pulumi Cloud, not to the checkout", () => {
    const { env } = pulumiEnv("installer", binDir, { ...caller, PULUMI_ACCESS_TOKEN: "pul-x" });
    expect(env).not.toHaveProperty("PULUMI_BACKEND_URL");
  });

  test("the caller's environment object is not changed", () => {
    const before = { ...caller };
    pulumiEnv("go", binDir, caller, { login: "x" });
    pulumiEnv("path", binDir, caller);
    expect(caller).toEqual(before);
  });
});

describe("what the team has set up", () => {
  test("credentials.json is read where the CLI reads it", () => {
    expect(credentialsFile({ HOME: "/h" })).toBe("/h/.pulumi/credentials.json");
    expect(credentialsFile({ HOME: "/h", PULUMI_HOME: "/ph" })).toBe("/ph/credentials.json");
    expect(credentialsFile({ HOME: "/h", PULUMI_HOME: "/ph", PULUMI_CREDENTIALS_PATH: "/cp" })).toBe("/cp/credentials.json");
  });

  test("a login in ~/.pulumi is found; a logged-out file is not a login", () => {
    const home = mkdir("home");
    const creds = path.join(mkdir("home", ".pulumi"), "credentials.json");
    fs.writeFileSync(creds, JSON.stringify({ current: "https://api.pulumi.com", accessTokens: { "https://api.pulumi.com": "pul-secret" } }));
    expect(readTeamSetup({ HOME: home }, tmp)).toEqual({ login: "https://api.pulumi.com", credentialsFile: creds });
    fs.writeFileSync(creds, JSON.stringify({ current: "", accessTokens: {} }));
    expect(readTeamSetup({ HOME: home }, tmp)).toEqual({});
    fs.writeFileSync(creds, "not json");
    expect(readTeamSetup({ HOME: home }, tmp)).toEqual({});
  });

  test("the project file is looked up from the run directory upwards, as the CLI does", () => {
    const project = mkdir("proj");
    const sub = mkdir("proj", "a", "b");
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: p\nruntime: nodejs\nbackend:\n  url: s3://team/p\n");
    expect(readTeamSetup({ HOME: mkdir("home") }, sub)).toEqual({ projectBackend: "s3://team/p" });
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: p\nruntime: nodejs\n");
    expect(readTeamSetup({ HOME: mkdir("home") }, sub)).toEqual({});
  });

  test.each([
    ["block", "name: keywire\nbackend:\n  url: s3://b?region=us-east-1\nruntime: nodejs\n", "s3://b?region=us-east-1"],
    ["block, double-quoted, with a comment", 'name: k\nbackend:\n    url: "file://~/state"   # local\n', "file://~/state"],
    ["block, quoted, with comments", "backend: # team state\n  url: 's3://b' # shared\n", "s3://b"],
    ["block after blank lines", 'backend:\n\n    url: "gs://b/keywire"\n', "gs://b/keywire"],
    ["block with a commented-out url first", "backend:\n  # url: later\n  url: https://api.pulumi.com\n", "https://api.pulumi.com"],
    ["a # inside the url", "backend:\n  url: s3://b?region=x#frag\n", "s3://b?region=x#frag"],
    ["a quoted url with ' #' in it", 'backend:\n  url: "s3://b #1" # shared\n', "s3://b #1"],
    ["an explicit null url", "backend:\n  url:\n", undefined],
    ["flow", "backend: { url: s3://b }\n", "s3://b"],
    ["flow, quoted", "backend: { url: 'gs://g/k' }\n", "gs://g/k"],
    ["no backend", "name: keywire\nruntime: nodejs\n", undefined],
    // The CLI treats a backend without a url, or an empty one, as none and goes on to the login.
    ["backend without url", "backend:\n  other: x\nurl: s3://not-the-backend\n", undefined],
    ["an empty url", "backend:\n  url: ''\n", undefined],
    ["flow without url", "backend: { other: x }\n", undefined],
    ["a nested key named backend", "options:\n  backend:\n    url: s3://b\n", undefined],
    ["a url under another key", "name: k\ntemplate:\n  url: https://x\nplugins:\n  backend: no\n", undefined],
    // Forms this reader cannot follow may still name a backend: keywire must not set one.
    ["a tag", "backend: !custom thing\n", UNREAD_PROJECT_BACKEND],
    ["an alias", "backend: *shared\n", UNREAD_PROJECT_BACKEND],
    ["a block scalar url", "backend:\n  url: >-\n    s3://b\n", UNREAD_PROJECT_BACKEND],
    ["a flow mapping over several lines", "backend: {\n  url: s3://b }\n", UNREAD_PROJECT_BACKEND],
    ["an unclosed quote", "backend:\n  url: 's3://b\n", UNREAD_PROJECT_BACKEND],
    ["a url on the line below", "backend:\n  url:\n    s3://b\n", UNREAD_PROJECT_BACKEND],
  ])("projectBackendUrl: %s", (_name, yaml, want) => {
    expect(projectBackendUrl(yaml)).toBe(want);
  });

  test("keywire's own project file names no backend", () => {
    expect(projectBackendUrl(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8"))).toBeUndefined();
  });

  test("the wrapper reads the project of --cwd / -C, else the caller's directory", () => {
    expect(projectDir(["up", "--yes"], "/work/x")).toBe("/work/x");
    expect(projectDir(["stack", "ls", "--cwd", "sub"], "/work/x")).toBe("/work/x/sub");
    expect(projectDir(["--cwd=/abs", "up"], "/work/x")).toBe("/abs");
    expect(projectDir(["-C", "../y", "preview"], "/work/x")).toBe("/work/y");
    expect(projectDir(["config", "set", "k", "--", "--cwd", "v"], "/work/x")).toBe("/work/x");
  });

  test("the caller's directory is where npm was called (INIT_CWD), not the package root npm runs scripts in", () => {
    expect(callerDir({ INIT_CWD: "/work/x" })).toBe("/work/x");
    expect(callerDir({})).toBe(process.cwd());
  });
});

describe("the backend a keywire-provided CLI gets, from what is on disk", () => {
  const BUCKET = "s3://team-state?region=eu-west-1";
  const FILE_DEFAULT = `file://${defaultBackendDir()}`;
  let home: string;
  let project: string;

  beforeEach(() => {
    home = mkdir("pulumi-home");
    project = mkdir("checkout");
    mkdir("checkout", "stacks");
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: keywire\nruntime: nodejs\n");
  });

  /** The backend ensurePulumi gives a cached CLI run in `cwd` by a caller with its own PULUMI_HOME. */
  const backendFor = (base: NodeJS.ProcessEnv, cwd = project): string | undefined => {
    const caller = { PATH: "/usr/bin", HOME: mkdir("home"), KEYWIRE_TOOLS_DIR: mkdir("tools"), PULUMI_HOME: home, ...base };
    return pulumiEnv("go", "/nonexistent/bin", caller, readTeamSetup(caller, cwd)).env.PULUMI_BACKEND_URL;
  };

  function login(dir: string, url: string): void {
    fs.writeFileSync(path.join(dir, "credentials.json"), JSON.stringify({ current: url, accessTokens: { [url]: "" } }));
  }

  test("with no choice anywhere, the local file backend (never Pulumi Cloud)", () => {
    expect(backendFor({})).toBe(FILE_DEFAULT);
    login(home, ""); // after `pulumi logout`
    expect(backendFor({})).toBe(FILE_DEFAULT);
  });

  test("a `pulumi login` in the caller's Pulumi home is left to the CLI", () => {
    login(home, BUCKET);
    expect(backendFor({})).toBeUndefined();
  });

  test("backend.url in the project's Pulumi.yaml, found from a subdirectory too, is left to the CLI", () => {
    fs.appendFileSync(path.join(project, "Pulumi.yaml"), `backend:\n  url: ${BUCKET}\n`);
    expect(backendFor({})).toBeUndefined();
    expect(backendFor({}, path.join(project, "stacks"))).toBeUndefined();
  });

  test("the caller's PULUMI_BACKEND_URL always wins", () => {
    login(home, BUCKET);
    expect(backendFor({ PULUMI_BACKEND_URL: "file:///srv/state" })).toBe("file:///srv/state");
  });

  test("`pulumi login <url>` runs without the file default, so the CLI records the login without a conflict warning", () => {
    const base = { PATH: "/usr/bin", PULUMI_HOME: home };
    const env = pulumiEnv("go", "/nonexistent/bin", base, readTeamSetup(base, project)).env;
    expect(env.PULUMI_BACKEND_URL).toBe(FILE_DEFAULT);
    expect(envForCommand(["login", BUCKET], env, base).PULUMI_BACKEND_URL).toBeUndefined();
    expect(envForCommand(["login", BUCKET], env, base).PULUMI_HOME).toBe(home);
    expect(envForCommand(["login", "--local"], env, base)).toBe(env);
    expect(envForCommand(["up", "--yes"], env, base)).toBe(env);
    // A caller's own PULUMI_BACKEND_URL is theirs to keep, for login too.
    const own = { ...base, PULUMI_BACKEND_URL: "file:///srv/state" };
    expect(envForCommand(["login", BUCKET], { ...env, ...own }, own).PULUMI_BACKEND_URL).toBe("file:///srv/state");
  });

  test("without a PULUMI_HOME of the caller's, `pulumi login <url>` is recorded in ~/.pulumi, and later runs follow it", () => {
    const base = { PATH: "/usr/bin", HOME: mkdir("home"), KEYWIRE_TOOLS_DIR: mkdir("tools") };
    const env = pulumiEnv("go", "/nonexistent/bin", base, readTeamSetup(base, project)).env;
    expect(env.PULUMI_HOME).toBe(defaultPulumiHome(base));
    const forLogin = envForCommand(["login", BUCKET], env, base);
    expect(forLogin).not.toHaveProperty("PULUMI_HOME");
    expect(forLogin).not.toHaveProperty("PULUMI_BACKEND_URL");
    // What the CLI then writes, where it writes it:
    fs.mkdirSync(path.dirname(credentialsFile(base)), { recursive: true });
    login(path.dirname(credentialsFile(base)), BUCKET);
    const after = pulumiEnv("go", "/nonexistent/bin", base, readTeamSetup(base, project)).env;
    expect(after).not.toHaveProperty("PULUMI_HOME");
    expect(after).not.toHaveProperty("PULUMI_BACKEND_URL");
  });
});

describe("ensurePulumi: which CLI", () => {
  const collect = (): { lines: string[]; log: (l: string) => void } => {
    const lines: string[] = [];
    return { lines, log: (l) => lines.push(l) };
  };

  test("a pulumi on PATH newer than the SDK is used as it is, and the one line says which", async () => {
    const teamBin = mkdir("team-bin");
    const bin = fakePulumi(teamBin, shifted({ minor: 1 }));
    const env = baseEnv([teamBin, "/usr/bin", "/bin"], { PULUMI_HOME: "/srv/team-home" });
    const { lines, log } = collect();
    const tc = await ensurePulumi({ env, log, cwd: tmp });
    expect(tc.route).toBe("path");
    expect(tc.pulumi).toBe(bin);
    expect(tc.cliVersion).toBe(shifted({ minor: 1 }));
    expect(tc.version).toBe(SDK);
    expect(tc.env.PULUMI_HOME).toBe("/srv/team-home");
    expect(tc.env).not.toHaveProperty("PULUMI_BACKEND_URL");
    expect(tc.env).not.toHaveProperty("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION");
    expect(lines).toEqual([`using ${bin} ${shifted({ minor: 1 })} (route: PATH; the team's own CLI: its PULUMI_HOME, login, backend and plugin downloads)`]);
    // Nothing was provided: the cache stays empty.
    expect(fs.readdirSync(env.KEYWIRE_TOOLS_DIR as string)).toEqual([]);
  });

  test("a pulumi on PATH at exactly the SDK's version is used", async () => {
    const teamBin = mkdir("team-bin");
    const bin = fakePulumi(teamBin, `v${SDK}`);
    const tc = await ensurePulumi({ env: baseEnv([teamBin]), log: () => undefined, cwd: tmp });
    expect(tc).toMatchObject({ route: "path", pulumi: bin, cliVersion: `v${SDK}` });
  });

  test("an older pulumi on PATH is skipped with a message; a newer one later on PATH is used", async () => {
    const oldBin = mkdir("old-bin");
    const newBin = mkdir("new-bin");
    const old = fakePulumi(oldBin, shifted({ minor: -17 }));
    const newer = fakePulumi(newBin, shifted({ patch: 3 }));
    const { lines, log } = collect();
    const tc = await ensurePulumi({ env: baseEnv([oldBin, newBin]), log, cwd: tmp });
    expect(tc.pulumi).toBe(newer);
    expect(lines[0]).toBe(`${old} is ${shifted({ minor: -17 })}, older than the SDK's v${SDK}: not using it`);
    expect(lines[1]).toMatch(new RegExp(`^using ${newer} `));
    expect(lines).toHaveLength(2);
  });

  test("an older pulumi on PATH falls through to keywire's cache, which runs in keywire's environment", async () => {
    const oldBin = mkdir("old-bin");
    const old = fakePulumi(oldBin, shifted({ minor: -17 }));
    const env = baseEnv([oldBin]);
    const cacheBin = fakeCache(env.KEYWIRE_TOOLS_DIR as string);
    const { lines, log } = collect();
    const tc = await ensurePulumi({ env, log, cwd: tmp });
    expect(tc.route).toBe("go");
    expect(tc.pulumi).toBe(path.join(cacheBin, "pulumi"));
    expect(tc.cliVersion).toBe(`v${SDK}`);
    expect(tc.env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).toBe("true");
    expect(tc.env.PULUMI_HOME).toBe(defaultPulumiHome(env));
    expect(tc.env.PULUMI_BACKEND_URL).toBe(`file://${defaultBackendDir()}`);
    expect(lines).toEqual([
      `${old} is ${shifted({ minor: -17 })}, older than the SDK's v${SDK}: not using it`,
      expect.stringMatching(
        new RegExp(
          `^using ${path.join(cacheBin, "pulumi")} v${SDK} \\(route: built from the Go module proxy, kept in keywire's cache; keywire's environment: `,
        ),
      ),
    ]);
  });

  test("keywire's cache on PATH is not taken for the team's CLI", async () => {
    const env = baseEnv([]);
    const cacheBin = fakeCache(env.KEYWIRE_TOOLS_DIR as string);
    env.PATH = cacheBin;
    const tc = await ensurePulumi({ env, log: () => undefined, cwd: tmp });
    expect(tc.route).toBe("go");
    expect(tc.env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).toBe("true");
  });

  test("the cached CLI uses the team's login found in ~/.pulumi rather than a backend of its own", async () => {
    const env = baseEnv([]);
    fakeCache(env.KEYWIRE_TOOLS_DIR as string);
    const pulumiDir = path.join(env.HOME as string, ".pulumi");
    fs.mkdirSync(pulumiDir);
    fs.writeFileSync(path.join(pulumiDir, "credentials.json"), JSON.stringify({ current: "s3://team-state" }));
    const { lines, log } = collect();
    const tc = await ensurePulumi({ env, log, cwd: tmp });
    expect(tc.env).not.toHaveProperty("PULUMI_HOME");
    expect(tc.env).not.toHaveProperty("PULUMI_BACKEND_URL");
    expect(lines.at(-1)).toContain("backend s3://team-state (your pulumi login");
  });
});
