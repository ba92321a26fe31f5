/**
 * The crash matrix, the API key's creates (test/support/crashMatrix.ts): one stack lives
 * through its first deployment and two rotations, each run killed as a pre-empted CI runner
 * is (the CLI, the language host and the providers at once) right after the instance
 * committed (a) the first key, (b) a rotation's replacement key, or answered (d) a new key's
 * probe. The key the killed run made holds a token nobody has any more: the rerun retires
 * it (apiKey/retirement.ts `freeKeySysId`) and makes the key again under the next of its own sys_ids.
 * After each, the runbook's commands bring the stack to exactly what it declares. Last, the
 * judgement itself is shown to see what a crash could leave.
 */
import {
  AFTER_A_KILLED_CREATE,
  INTEGRATION_USER,
  KEY_NAME,
  ok,
  outputsOf,
  probeAnswered,
  problemsOf,
  runCase,
  setUpMatrix,
  stackState,
  wrote,
} from "../support/crashMatrix";

jest.setTimeout(5 * 60_000);

const { matrix } = setUpMatrix("API key");

async function rotate(trigger: string): Promise<void> {
  await ok(matrix(), ["config", "set", "--path", "keywire:apiKey.rotation.trigger", trigger]);
}

test("(a) the first key committed: the rerun retires the key no state holds and makes one it proves", async () => {
  const outcome = await runCase(matrix(), { name: "(a) first API key created", run: "up", moment: wrote("POST", "api_key"), scope: "group" });
  expect(outcome.problems).toEqual([]);
  expect(outcome.recovery?.commands).toEqual(AFTER_A_KILLED_CREATE);
});

test("(b) a rotation's replacement key committed: the rerun makes the replacement again and deletes the old key", async () => {
  const old = String((await outputsOf(matrix().stack)).apiKeySysId);
  await rotate("crash-b");
  const outcome = await runCase(matrix(), { name: "(b) rotation's replacement key created", run: "up", moment: wrote("POST", "api_key"), scope: "group" });
  expect(outcome.problems).toEqual([]);
  expect(outcome.recovery?.commands).toEqual(AFTER_A_KILLED_CREATE);
  expect(matrix().emu.store.get("api_key", old)).toBeUndefined();
  expect(
    matrix()
      .emu.store.query("api_key", (k) => k.name.startsWith(KEY_NAME))
      .map((k) => k.name),
  ).toEqual([`${KEY_NAME} #2`]);
});

test("(d) a new key's probe answered: the rerun converges on one proven key", async () => {
  await rotate("crash-d");
  const outcome = await runCase(matrix(), { name: "(d) new key's probe answered", run: "up", moment: probeAnswered, scope: "group" });
  expect(outcome.problems).toEqual([]);
  expect(outcome.recovery?.commands).toEqual(AFTER_A_KILLED_CREATE);
});

test("the judgement sees what a crash could leave: a key nobody holds, a second record of a name, a token that is not the key's, a pending operation", async () => {
  const m = matrix();
  const view = { state: await stackState(m.stack), outputs: await outputsOf(m.stack), driftExit: 0 };
  expect(await problemsOf(m.emu, m.base, view, "deployed")).toEqual([]);
  const user = m.emu.store.query("sys_user", (u) => u.user_name === INTEGRATION_USER)[0];
  const stray = m.emu.store.insert("api_key", { name: `${KEY_NAME} #9`, user: user.sys_id, active: "true" });
  const twin = m.emu.store.insert("http_key_auth", { name: "keywire-local api key (query parameter)" });
  try {
    const endpoint = new URL(String(view.outputs.inboundEndpoint));
    endpoint.searchParams.set("x-sn-apikey", "now_not-the-key");
    const problems = await problemsOf(
      m.emu,
      m.base,
      {
        state: { ...view.state, pending: ["creating keywire-key"] },
        outputs: { ...view.outputs, inboundEndpoint: endpoint.toString(), verified: false },
        driftExit: 7,
      },
      "deployed",
    );
    expect(problems).toEqual([
      "pending operations left in the state: creating keywire-key",
      `http_key_auth ${twin.sys_id} (keywire-local api key (query parameter)) is on the instance, and no state holds it`,
      `api_key ${stray.sys_id} (${KEY_NAME} #9) is on the instance, and no state holds it`,
      expect.stringContaining('keywire-profile: 2 http_key_auth records for "keywire-local api key (query parameter)"'),
      expect.stringContaining(`active keys of ${INTEGRATION_USER}: [`),
      "verified is false",
      "the token in inboundEndpoint is not the key's",
      expect.stringContaining("the drift check (preview --refresh --expect-no-changes) exited 7"),
    ]);
    // A destroy that left the state holding records is not a destroyed stack.
    expect(await problemsOf(m.emu, m.base, { state: view.state }, "destroyed")).toContainEqual(expect.stringContaining("the state still holds"));
  } finally {
    m.emu.store.delete("api_key", stray.sys_id);
    m.emu.store.delete("http_key_auth", twin.sys_id);
  }
});
