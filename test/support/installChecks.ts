/**
 * What every install route must give a team, checked the same way for each
 * (test/e2e/install.test.ts, test/e2e/installGit.test.ts): `npx keywire --help`,
 * `npx keywire drift --help`, and the emulator started with `npx keywire emulator`,
 * answering on loopback, then stopped.
 */
import * as fs from "fs";
import * as path from "path";
import { keywireCommand } from "../../scripts/cli/invocation";
import { keywireHelp } from "../../scripts/cli/keywire";
import { driftHelp } from "../../scripts/drift/cli";
import { loopbackGet, npx, startNpxEmulator, teamEnv } from "./teamProgram";

/** How long the stopped emulator may take to let its port go: bounded, polled. */
const PORT_RELEASE_MS = 10_000;

export async function expectHelp(project: string, env: NodeJS.ProcessEnv): Promise<void> {
  const top = await npx(project, ["keywire", "--help"], env);
  expect({ code: top.code, stdout: top.stdout }).toEqual({ code: 0, stdout: keywireHelp() });
  const drift = await npx(project, ["keywire", "drift", "--help"], env);
  expect({ code: drift.code, stdout: drift.stdout }).toEqual({ code: 0, stdout: driftHelp(keywireCommand) });
}

/** The emulator from the installed package, with a HOME of its own: its password goes to the user's cache there. */
export async function expectEmulatorRoundTrip(project: string, home: string): Promise<void> {
  const emulator = await startNpxEmulator(project, teamEnv(home));
  let stopped = false;
  try {
    const passwordFile = path.join(home, ".cache", "keywire", "emulator-admin-password");
    expect(emulator.stderr()).toContain(`admin password: new random password written to ${passwordFile}`);
    expect(fs.statSync(passwordFile).mode & 0o077).toBe(0);
    const password = fs.readFileSync(passwordFile, "utf8").trim();
    const users = `${emulator.url}/api/now/table/sys_user?sysparm_limit=1`;
    expect(await loopbackGet(users, `admin:${password}`)).toBe(200);
    expect(await loopbackGet(users, "admin:wrong")).toBe(401);
    await emulator.stop();
    stopped = true;
    const deadline = Date.now() + PORT_RELEASE_MS;
    let answer = await loopbackGet(users);
    while (answer !== "ECONNREFUSED" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await loopbackGet(users);
    }
    expect(answer).toBe("ECONNREFUSED");
  } finally {
    if (!stopped) await emulator.stop();
  }
}
