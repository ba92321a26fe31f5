/** The CLI's admin password: random by default, from a file or the environment, never echoed. */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ADMIN_PASSWORD_ENV,
  DEFAULT_ADMIN_PASSWORD_FILE,
  newAdminPassword,
  readOrCreatePasswordFile,
  resolveAdminPassword,
} from "../../../emulator/servicenow/adminPassword";
import { HELP, parseArgs } from "../../../emulator/servicenow/cli";
import { ROOT, spawnCli, type CliProcess } from "./cliProcess";
import { basic, client } from "./helpers";

const RANDOM = /^[A-Za-z0-9_-]{24}$/;

async function status(url: string, password: string): Promise<number> {
  return (await client(url, basic("admin", password)).get("/api/now/table/incident?sysparm_limit=1")).status;
}

async function stop(cli: CliProcess): Promise<void> {
  if (cli.child.exitCode === null) cli.child.kill("SIGTERM");
  await cli.exited;
}

/** The environment of the test process without the password variable, as a user's shell would be. */
function envWithout(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env[ADMIN_PASSWORD_ENV];
  return env;
}

describe("the CLI's admin password", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sn-admin-pw-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe("resolution", () => {
    test("the default is a random password in a new 0600 file; two defaults differ", () => {
      const a = resolveAdminPassword({ env: {}, defaultFile: join(dir, "a", ".demo", "admin-password") });
      const b = resolveAdminPassword({ env: {}, defaultFile: join(dir, "b", ".demo", "admin-password") });
      expect(a.password).toMatch(RANDOM);
      expect(b.password).toMatch(RANDOM);
      expect(a.password).not.toBe(b.password);
      expect(a.source).toBe(`new random password written to ${join(dir, "a", ".demo", "admin-password")}`);
      const file = join(dir, "a", ".demo", "admin-password");
      expect(readFileSync(file, "utf8")).toBe(`${a.password}\n`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // The next start reads the same file.
      const again = resolveAdminPassword({ env: {}, defaultFile: file });
      expect(again).toEqual({ password: a.password, source: `read from ${file}`, warning: undefined });
    });

    test("new passwords are fresh each time", () => {
      const seen = new Set(Array.from({ length: 50 }, () => newAdminPassword()));
      expect(seen.size).toBe(50);
    });

    test("precedence: --admin-password, then --admin-password-file, then the environment, then the default file", () => {
      const file = join(dir, "given");
      writeFileSync(file, "from-file\nignored second line\n", { mode: 0o600 });
      const defaultFile = join(dir, "default");
      const env = { [ADMIN_PASSWORD_ENV]: "from-env" };
      expect(resolveAdminPassword({ flag: "from-flag", env, defaultFile }).password).toBe("from-flag");
      expect(resolveAdminPassword({ file, env, defaultFile }).password).toBe("from-file");
      expect(resolveAdminPassword({ env, defaultFile })).toEqual({ password: "from-env", source: ADMIN_PASSWORD_ENV });
      expect(resolveAdminPassword({ env: { [ADMIN_PASSWORD_ENV]: "" }, defaultFile }).source).toMatch(/^new random password written to /);
      expect(() => resolveAdminPassword({ flag: "x", file, env, defaultFile })).toThrow(/not both/);
    });

    test("an empty file is refused; a file others can read is used with a warning", () => {
      const empty = join(dir, "empty");
      writeFileSync(empty, "\n", { mode: 0o600 });
      expect(() => readOrCreatePasswordFile(empty)).toThrow(/is empty/);
      const loose = join(dir, "loose");
      writeFileSync(loose, "pw\n");
      chmodSync(loose, 0o644);
      expect(readOrCreatePasswordFile(loose)).toEqual({ password: "pw", created: false, warning: `${loose} can be read by other users; chmod 600 it` });
    });

    test("the default file is the one the demo keeps in .demo/", () => {
      expect(DEFAULT_ADMIN_PASSWORD_FILE).toBe(join(ROOT, ".demo", "admin-password"));
    });

    test("the flags and the variable are documented and parsed", () => {
      for (const text of ["--admin-password-file", "--admin-password", ADMIN_PASSWORD_ENV, ".demo/admin-password"]) expect(HELP).toContain(text);
      expect(parseArgs(["--admin-password-file", "/tmp/pw"])).toEqual({ adminPasswordFile: "/tmp/pw" });
    });
  });

  describe("the CLI process", () => {
    test("two emulators started with new password files get different random passwords, never printed; a restart reuses the file", async () => {
      const fileA = join(dir, "a", "admin-password");
      const fileB = join(dir, "b", "admin-password");
      const a = spawnCli(["--port", "0", "--admin-password-file", fileA], envWithout());
      const b = spawnCli(["--port", "0", "--admin-password-file", fileB], envWithout());
      try {
        const [urlA, urlB] = await Promise.all([a.ready, b.ready]);
        const pwA = readFileSync(fileA, "utf8").trim();
        const pwB = readFileSync(fileB, "utf8").trim();
        expect(pwA).toMatch(RANDOM);
        expect(pwB).toMatch(RANDOM);
        expect(pwA).not.toBe(pwB);
        expect(statSync(fileA).mode & 0o777).toBe(0o600);
        expect(await status(urlA, pwA)).toBe(200);
        expect(await status(urlB, pwB)).toBe(200);
        expect(await status(urlA, pwB)).toBe(401);
        expect(await status(urlA, "admin")).toBe(401);
        expect(a.stderr()).toContain(`admin password: new random password written to ${fileA}`);
        for (const text of [a.stdout(), a.stderr()]) expect(text).not.toContain(pwA);
      } finally {
        await Promise.all([stop(a), stop(b)]);
      }
      const again = spawnCli(["--port", "0", "--admin-password-file", fileA], envWithout());
      try {
        const url = await again.ready;
        expect(await status(url, readFileSync(fileA, "utf8").trim())).toBe(200);
        expect(again.stderr()).toContain(`admin password: read from ${fileA}`);
      } finally {
        await stop(again);
      }
    });

    test("the password can come from the environment, and then no file is written", async () => {
      const cli = spawnCli(["--port", "0"], { ...envWithout(), [ADMIN_PASSWORD_ENV]: "env-secret-1234" });
      try {
        const url = await cli.ready;
        expect(await status(url, "env-secret-1234")).toBe(200);
        expect(await status(url, "admin")).toBe(401);
        expect(cli.stderr()).toContain(`admin password: ${ADMIN_PASSWORD_ENV}`);
        expect(cli.stdout() + cli.stderr()).not.toContain("env-secret-1234");
      } finally {
        await stop(cli);
      }
    });

    test("both flags, or an empty file, stop the start with exit 2", async () => {
      const empty = join(dir, "empty");
      writeFileSync(empty, "", { mode: 0o600 });
      const both = spawnCli(["--admin-password", "x", "--admin-password-file", join(dir, "f")], envWithout());
      const blank = spawnCli(["--admin-password-file", empty], envWithout());
      expect(await both.exited).toBe(2);
      expect(both.stderr()).toMatch(/not both/);
      expect(existsSync(join(dir, "f"))).toBe(false);
      expect(await blank.exited).toBe(2);
      expect(blank.stderr()).toMatch(/is empty/);
    });
  });
});
