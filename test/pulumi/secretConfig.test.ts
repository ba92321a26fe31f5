/**
 * Secret config values reach `pulumi config set --secret` on stdin, never in argv,
 * where every local user can read them (ps, /proc/<pid>/cmdline).
 */
import * as fs from "fs";
import * as path from "path";
import { setSecretConfigCommand } from "../../scripts/pulumi/secretConfig";
import { runCommand } from "../../scripts/shared/process";

const SECRET = "s3cr3t-Value_for/stdin+only";

test("the command names the key; the value is only in the input", () => {
  const cmd = setSecretConfigCommand("servicenow:password", SECRET);
  expect(cmd.args).toEqual(["config", "set", "--secret", "servicenow:password"]);
  expect(cmd.args.join(" ")).not.toContain(SECRET);
  expect(cmd.input).toBe(SECRET);
});

test("a value pulumi would change on stdin is refused, without echoing it", () => {
  // pulumi strips one trailing line break from what it reads; the stored value would differ.
  for (const bad of [`${SECRET}\n`, `${SECRET}\r`]) {
    expect(() => setSecretConfigCommand("k:v", bad)).toThrow(/ends in a line break/);
    expect(() => setSecretConfigCommand("k:v", bad)).not.toThrow(SECRET);
  }
  expect(() => setSecretConfigCommand("k:v", "")).toThrow(/empty/);
});

test("a value longer than the setting may hold is refused before pulumi stores it, without echoing it", () => {
  // Stored, it would be handed to every later run in one environment variable and stop
  // it with "argument list too long".
  const long = "v".repeat(200_000);
  expect(() => setSecretConfigCommand("servicenow:password", long)).toThrow(/servicenow:password is longer than 4096 characters/);
  expect(() => setSecretConfigCommand("keywire:apiKeyToken", "t".repeat(4097))).toThrow(/keywire:apiKeyToken is longer than 4096 characters/);
  expect(() => setSecretConfigCommand("servicenow:password", long)).not.toThrow(/v{20}/);
  expect(setSecretConfigCommand("servicenow:password", "p".repeat(4096)).input).toHaveLength(4096);
});

test("runCommand hands the input to the child's stdin, which is not a terminal", async () => {
  const cmd = setSecretConfigCommand("k:v", SECRET);
  const script =
    "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>process.stdout.write(JSON.stringify({s,tty:!!process.stdin.isTTY,argv:process.argv})))";
  const res = await runCommand(process.execPath, ["-e", script, ...cmd.args], { input: cmd.input, timeoutMs: 30_000 });
  expect(res.code).toBe(0);
  const seen = JSON.parse(res.stdout) as { s: string; tty: boolean; argv: string[] };
  expect(seen.s).toBe(SECRET);
  expect(seen.tty).toBe(false);
  expect(seen.argv.join(" ")).not.toContain(SECRET);
});

test("without input the child's stdin is closed, as before", async () => {
  const res = await runCommand(process.execPath, ["-e", "let n=0;process.stdin.on('data',d=>n+=d.length).on('end',()=>process.stdout.write(String(n)))"], {
    timeoutMs: 30_000,
  });
  expect(res.stdout).toBe("0");
});

test("no script or test helper passes a secret config value in argv", () => {
  const root = path.resolve(__dirname, "..", "..");
  const files = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
  // `"set", "--secret", <key>, <value>` in one argument list: a value after the key.
  const inArgv = /"set",\s*"--secret",\s*[^,\]\s]+,\s*[^\]\s]/;
  const offenders = [...files(path.join(root, "scripts")), ...files(path.join(root, "test", "support"))].filter((f) => inArgv.test(fs.readFileSync(f, "utf8")));
  expect(offenders.map((f) => path.relative(root, f))).toEqual([]);
});
