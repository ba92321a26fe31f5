/**
 * Watches an emulator's API keys while a rotation runs: every 50 ms it asks
 * whether the old key's token and the newest key's token are accepted, so a test
 * can prove there was never a moment without a working key.
 */
import type { RunningEmulator } from "../../emulator/servicenow";

export interface KeySample {
  old: boolean;
  next: boolean;
  oldExists: boolean;
  newExists: boolean;
}

/** Answers to one probe; a 5xx (an injected fault) says nothing about the key, so it is asked again. */
const PROBE_ATTEMPTS = 5;

/** Whether the instance accepts a request authenticated only by `token` (Table API, query parameter). */
export async function accepted(emu: RunningEmulator, token: string): Promise<boolean> {
  const q = new URLSearchParams({ sysparm_limit: "1", "x-sn-apikey": token });
  let status = 0;
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) {
    const res = await fetch(`${emu.url}/api/now/table/incident?${q.toString()}`);
    await res.arrayBuffer();
    status = res.status;
    if (status < 500) return status !== 401;
  }
  throw new Error(`the key probe was answered ${status} ${PROBE_ATTEMPTS} times: whether the token works is unknown`);
}

/** Samples until `stop()` (or five minutes), keys whose name starts with `namePrefix`. */
export function watchKeys(emu: RunningEmulator, namePrefix: string, oldId: string, oldToken: string): { stop: () => Promise<KeySample[]> } {
  const samples: KeySample[] = [];
  let watching = true;
  const done = (async () => {
    const deadline = Date.now() + 5 * 60_000;
    while (watching && Date.now() < deadline) {
      const keys = emu.store.query("api_key", (r) => r.name.startsWith(namePrefix));
      const next = keys.filter((k) => k.sys_id !== oldId && k.active === "true").pop();
      const nextToken = next ? emu.tokenOf(next.sys_id) : undefined;
      samples.push({
        old: await accepted(emu, oldToken),
        next: nextToken ? await accepted(emu, nextToken) : false,
        oldExists: keys.some((k) => k.sys_id === oldId),
        newExists: next !== undefined,
      });
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      watching = false;
      await done;
      return samples;
    },
  };
}
