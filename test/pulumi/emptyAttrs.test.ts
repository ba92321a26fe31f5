/**
 * The wrapper's notice of an empty `.attrs` file in a file backend (scripts/pulumi/run.ts):
 * a CLI killed while its blob storage rewrote the sidecar of a state file leaves it
 * empty, and every command reading that state then fails with `failed to load
 * checkpoint: EOF`. The wrapper names the file and says to remove it; it changes nothing.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { emptyAttrsAdvice, emptyAttrsFiles, fileBackendDir } from "../../scripts/pulumi/run";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-empty-attrs-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const file = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

const ATTRS = `{"user.cache_control":"","user.content_type":"application/octet-stream","md5":"AAAA"}\n`;

/** A file backend as the CLI leaves it, the stack's checkpoint sidecar emptied by a kill. */
function backendWithEmptyCheckpointAttrs(): string {
  write(".pulumi/meta.yaml", "version: 1\n");
  write(".pulumi/meta.yaml.attrs", ATTRS);
  write(".pulumi/stacks/keywire/local.json", "{}");
  write(".pulumi/stacks/keywire/local.json.bak", "{}");
  write(".pulumi/stacks/keywire/local.json.bak.attrs", ATTRS);
  write(".pulumi/locks/organization/keywire/local/1.json", "{}");
  write(".pulumi/locks/organization/keywire/local/1.json.attrs", ATTRS);
  return write(".pulumi/stacks/keywire/local.json.attrs", "");
}

test("finds the empty sidecars, and only those", () => {
  const empty = backendWithEmptyCheckpointAttrs();
  // An empty state file is the CLI's business, not a sidecar.
  write(".pulumi/history/keywire/local/local-1.history.json", "");
  expect(emptyAttrsFiles(tmp)).toEqual([empty]);
  fs.rmSync(empty);
  expect(emptyAttrsFiles(tmp)).toEqual([]);
});

test("a backend folder that does not exist yet has none", () => {
  expect(emptyAttrsFiles(path.join(tmp, "not-yet"))).toEqual([]);
});

test("reads the folder of file:// backends only", () => {
  expect(fileBackendDir(`file://${tmp}`, "/elsewhere")).toBe(tmp);
  expect(fileBackendDir(`file://${tmp}?no_tmp_dir=true`, "/elsewhere")).toBe(tmp);
  expect(fileBackendDir("file://~/state", "/elsewhere")).toBe(path.join(os.homedir(), "state"));
  expect(fileBackendDir("file://./state", "/proj")).toBe("/proj/state");
  expect(fileBackendDir("s3://bucket/keywire", "/proj")).toBeUndefined();
  expect(fileBackendDir("https://api.pulumi.com", "/proj")).toBeUndefined();
  expect(fileBackendDir(undefined, "/proj")).toBeUndefined();
});

test("the advice names the file, the CLI's error and the command that repairs it", () => {
  const advice = emptyAttrsAdvice("/b/.pulumi/stacks/keywire/local.json.attrs");
  expect(advice).toContain("failed to load checkpoint: EOF");
  expect(advice).toContain("of local.json;");
  expect(advice).toContain("rm '/b/.pulumi/stacks/keywire/local.json.attrs'");
});

test("npm run pulumi says so before the CLI runs, and leaves the file alone", async () => {
  const empty = backendWithEmptyCheckpointAttrs();
  // A `pulumi` on PATH that is new enough and only prints what it was asked.
  const bin = path.join(tmp, "bin");
  fs.mkdirSync(bin);
  const version = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string };
  fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\nif [ "$1" = version ]; then echo v${version.version}; exit 0; fi\necho "ran $*"\n`, { mode: 0o755 });
  const res = await runCommand(
    path.join(REPO_ROOT, "node_modules", ".bin", "ts-node"),
    ["--transpile-only", path.join(REPO_ROOT, "scripts", "pulumi", "run.ts"), "stack", "ls"],
    {
      cwd: tmp,
      env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`, PULUMI_BACKEND_URL: `file://${tmp}`, INIT_CWD: tmp },
      timeoutMs: 60_000,
    },
  );
  expect(res.stdout).toContain("ran stack ls");
  expect(res.stderr).toContain(`[pulumi] ${emptyAttrsAdvice(empty)}`);
  expect(fs.existsSync(empty)).toBe(true);
}, 90_000);
