/**
 * The environment a `pulumi` CLI runs in, decided from the route that provided it, the
 * caller's environment and what the team's machine already has (a `pulumi login`, a
 * project's `backend.url`): PULUMI_HOME, the backend, plugin downloads, and the SDK
 * version the CLI must match.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isCheckout } from "../../../config/keywireRoot";
import { REPO_ROOT, toolsDir } from "../../shared/paths";
import { ToolchainError, type Route } from "./route";

/** The checkout's Node 22 (the `node` dev dependency). An installed package has none of its
 * own: the team's Node on PATH already runs keywire, so nothing is put ahead of it. */
const NODE_BIN: string | undefined = isCheckout(REPO_ROOT) ? path.join(REPO_ROOT, "node_modules", ".bin") : undefined;

/**
 * The @pulumi/pulumi version installed in node_modules: the one version source. That of
 * the program in `projectDir` where it has its own (the SDK the CLI will run), else the
 * one keywire resolves.
 */
export function sdkVersion(projectDir?: string): string {
  const pkgPath = require.resolve("@pulumi/pulumi/package.json", { paths: projectDir === undefined ? [REPO_ROOT] : [projectDir, REPO_ROOT] });
  const pkg: unknown = JSON.parse(fs.readFileSync(pkgPath, "utf8"));
  const version = (pkg as { version?: unknown }).version;
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+/.test(version)) {
    throw new ToolchainError(`cannot read the @pulumi/pulumi version from ${pkgPath}`);
  }
  return version;
}

/** keywire's own PULUMI_HOME (plugins, workspace settings) for the CLIs it provides,
 * shared by versions. */
export function defaultPulumiHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsDir(env), "pulumi-home");
}

/** The local file backend a keywire-provided CLI uses when the caller has chosen none:
 * state stays with the checkout (.tools/ is ignored by git). An installed package is no
 * place for state (the next npm install replaces it): there it is the user's, beside
 * keywire's tools cache. */
export function defaultBackendDir(): string {
  return isCheckout(REPO_ROOT) ? path.join(REPO_ROOT, ".tools", "pulumi-state") : path.join(os.homedir(), ".cache", "keywire", "pulumi-state");
}

/** The file backend needs its directory to exist; make the default one on first use. */
export function ensureBackendDir(env: NodeJS.ProcessEnv): void {
  if (env.PULUMI_BACKEND_URL === `file://${defaultBackendDir()}`) {
    fs.mkdirSync(defaultBackendDir(), { recursive: true });
  }
}

/** What the team already chose, read from disk by readTeamSetup. */
export interface TeamSetup {
  /** `current` in the credentials.json the CLI reads with the caller's environment
   * (PULUMI_CREDENTIALS_PATH, else PULUMI_HOME, else ~/.pulumi): a `pulumi login`. */
  login?: string;
  /** Where that credentials.json is, for messages. */
  credentialsFile?: string;
  /** The project's `backend.url` (Pulumi.yaml), which the CLI prefers to a login. */
  projectBackend?: string;
}

export interface PulumiEnv {
  env: NodeJS.ProcessEnv;
  /** Says which PULUMI_HOME, backend and plugin policy the CLI gets. */
  summary: string;
}

/**
 * The environment the CLI runs with: a pure decision from the route, the caller's
 * environment and what the team has set up.
 *
 * In keywire's checkout every route gets node_modules/.bin first on PATH, so the
 * language host and the dynamic-provider plugin run the project's Node 22, not an older
 * system Node; an installed keywire leaves the team's PATH order as it is.
 *
 * Route "path" (the team's own CLI) gets nothing else: its PULUMI_HOME, login, backend,
 * update check and plugin downloads are the team's.
 *
 * Routes "installer" and "go" (keywire put the CLI into its cache, typically on a
 * machine that reaches no Pulumi host) get keywire's environment: no update check, no
 * automatic plugin download, keywire's own PULUMI_HOME, and a file backend in the
 * checkout. What the team chose still wins, because a different home or backend would
 * show an empty stack whose `up` creates everything a second time: the caller's
 * PULUMI_HOME; ~/.pulumi when it holds a login; and the backend named by
 * PULUMI_BACKEND_URL, Pulumi.yaml's backend.url, a login or PULUMI_ACCESS_TOKEN.
 */
export function pulumiEnv(route: Route, binDir: string, base: NodeJS.ProcessEnv, team: TeamSetup = {}): PulumiEnv {
  const nodeBin = NODE_BIN === undefined ? [] : [NODE_BIN];
  const callerPath = (base.PATH ?? "").split(path.delimiter).filter((p) => p !== "" && p !== NODE_BIN);
  if (route === "path") {
    // The CLI's own directory stays where the caller has it: it may hold other tools
    // (an older node in /usr/bin) that must not move ahead of the caller's choices.
    return {
      env: { ...base, PATH: [...nodeBin, ...callerPath].join(path.delimiter) },
      summary: "the team's own CLI: its PULUMI_HOME, login, backend and plugin downloads",
    };
  }

  const env: NodeJS.ProcessEnv = {
    ...base,
    // The cache holds only pulumi and its plugins: first, so the engine finds
    // keywire's plugins even if another pulumi install is on PATH.
    PATH: [binDir, ...nodeBin, ...callerPath.filter((p) => p !== binDir)].join(path.delimiter),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  let home: string;
  if (base.PULUMI_HOME) {
    home = `PULUMI_HOME ${base.PULUMI_HOME}`;
  } else if (team.login) {
    // Leave PULUMI_HOME unset: the CLI then reads ~/.pulumi, where the login is.
    delete env.PULUMI_HOME;
    home = "PULUMI_HOME ~/.pulumi (it holds your login)";
  } else {
    env.PULUMI_HOME = defaultPulumiHome(base);
    home = `keywire's PULUMI_HOME ${env.PULUMI_HOME}`;
  }
  let backend: string;
  if (base.PULUMI_BACKEND_URL) {
    backend = `backend ${base.PULUMI_BACKEND_URL} (PULUMI_BACKEND_URL)`;
  } else if (team.projectBackend) {
    backend = `backend ${team.projectBackend} (Pulumi.yaml backend.url)`;
  } else if (team.login) {
    backend = `backend ${team.login} (your pulumi login${team.credentialsFile ? ` in ${team.credentialsFile}` : ""})`;
  } else if (base.PULUMI_ACCESS_TOKEN) {
    backend = "backend Pulumi Cloud (PULUMI_ACCESS_TOKEN)";
  } else {
    // Without it the CLI would ask for a Pulumi Cloud login. The directory is made by
    // whoever runs the CLI (ensureBackendDir).
    env.PULUMI_BACKEND_URL = `file://${defaultBackendDir()}`;
    backend = `keywire's file backend ${env.PULUMI_BACKEND_URL}`;
  }
  return { env, summary: `keywire's environment: ${home}, ${backend}, no automatic plugin download` };
}

/** The credentials folder the CLI reads, given the caller's environment (as the SDK's
 * workspace.getCredsFilePath and pulumihome.Dir decide it). */
export function credentialsFile(base: NodeJS.ProcessEnv): string {
  const folder = base.PULUMI_CREDENTIALS_PATH || base.PULUMI_HOME || path.join(base.HOME || os.homedir(), ".pulumi");
  return path.join(folder, "credentials.json");
}

/** The project file the CLI would load when started in `dir`: the nearest Pulumi.yaml
 * (or Pulumi.yml) in `dir` or above it. */
export function findProjectFile(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    for (const name of ["Pulumi.yaml", "Pulumi.yml"]) {
      const f = path.join(d, name);
      if (fs.existsSync(f)) return f;
    }
    if (path.dirname(d) === d) return undefined;
  }
}

/** What projectBackendUrl returns for a `backend:` it cannot read: the CLI may well
 * find a url there, so keywire must not set a backend of its own. */
export const UNREAD_PROJECT_BACKEND = "Pulumi.yaml backend";

/**
 * The `backend.url` of a project file, in the block form Pulumi documents (`backend:`
 * then an indented `url: …`) or the flow form (`backend: { url: … }`); undefined when
 * the project names none, or an empty one, since the CLI then goes on to the login.
 * A line-level read, not a YAML parser (keywire's runtime has no YAML dependency):
 * a top-level `backend:` written in a form it does not follow (a tag, an alias, a
 * block scalar, a url on the line below, a mapping spread over lines) gives
 * UNREAD_PROJECT_BACKEND.
 */
export function projectBackendUrl(projectYaml: string): string | undefined {
  const lines = projectYaml.split(/\r?\n/);
  const at = lines.findIndex((l) => /^backend\s*:/.test(l));
  if (at < 0) return undefined;
  const uncomment = (v: string): string => v.replace(/(^|\s)#.*$/, "").trim();
  // The url's value: a quoted or plain scalar on its line. Anything else (a tag !, an
  // anchor &, an alias *, a block scalar | >, a collection, an unclosed quote) is unread.
  const value = (raw: string): string | undefined => {
    const quoted = /^\s*(["'])(.*?)\1\s*(?:#.*)?$/.exec(raw);
    const v = quoted ? quoted[2] : uncomment(raw);
    if (!quoted && /^[!&*|>{["']/.test(v)) return UNREAD_PROJECT_BACKEND;
    return v === "" ? undefined : v;
  };
  const rest = uncomment(lines[at].replace(/^backend\s*:/, ""));
  if (rest.startsWith("{")) {
    const flow = /^\{([^}]*)\}$/.exec(rest);
    if (!flow) return UNREAD_PROJECT_BACKEND;
    const url = /(?:^|,)\s*url\s*:([^,]*)/.exec(flow[1]);
    return url ? value(url[1]) : undefined;
  }
  if (rest !== "") return UNREAD_PROJECT_BACKEND;
  for (let i = at + 1; i < lines.length; i++) {
    if (/^\S/.test(lines[i])) break; // the next top-level key: the backend block ended
    const m = /^(\s+)url\s*:(.*)$/.exec(lines[i]);
    if (!m) continue;
    // `url:` alone with a deeper line below: the value is on that line.
    const next = lines[i + 1] ?? "";
    const continued = next.trim() !== "" && next.length - next.trimStart().length > m[1].length;
    if (uncomment(m[2]) === "" && continued) return UNREAD_PROJECT_BACKEND;
    return value(m[2]);
  }
  return undefined;
}

/** Reads the team's login and the project's backend for pulumiEnv. Unreadable or
 * malformed files count as absent: the CLI itself reports them when it runs. */
export function readTeamSetup(base: NodeJS.ProcessEnv, cwd: string): TeamSetup {
  const team: TeamSetup = {};
  const creds = credentialsFile(base);
  try {
    const current = (JSON.parse(fs.readFileSync(creds, "utf8")) as { current?: unknown }).current;
    if (typeof current === "string" && current !== "") {
      team.login = current;
      team.credentialsFile = creds;
    }
  } catch {
    // no credentials.json, or not JSON: no login
  }
  const project = findProjectFile(cwd);
  if (project) {
    try {
      const url = projectBackendUrl(fs.readFileSync(project, "utf8"));
      if (url) team.projectBackend = url;
    } catch {
      // unreadable: the CLI will say so
    }
  }
  return team;
}

/**
 * The environment for one CLI command. `pulumi login <url>` records the caller's own
 * choice of backend, so it runs without keywire's defaults: without the file backend
 * (the CLI would warn that PULUMI_BACKEND_URL conflicts with the login URL) and
 * without keywire's PULUMI_HOME, so the login lands in the credentials.json that
 * readTeamSetup reads, and later commands follow it. What the caller set is kept.
 */
export function envForCommand(args: string[], env: NodeJS.ProcessEnv, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const loginTo = args[0] === "login" && args.slice(1).some((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a));
  if (!loginTo) return env;
  const out = { ...env };
  if (!base.PULUMI_BACKEND_URL && out.PULUMI_BACKEND_URL === `file://${defaultBackendDir()}`) delete out.PULUMI_BACKEND_URL;
  if (!base.PULUMI_HOME && out.PULUMI_HOME === defaultPulumiHome(base)) delete out.PULUMI_HOME;
  return out;
}
