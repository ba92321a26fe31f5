/**
 * The bounded wait for the canary's event: poll until it is found or the deadline
 * passes, with one last look at the deadline itself, so an event written during the
 * final pause is still seen. Bounded in time (the deadline) and in count (MAX_POLLS).
 */
import type { SnRecord } from "../../resources/servicenow/client/tableClient";

export interface WaitClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: WaitClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/** Pauses between polls: quick at first (delivery takes about a second), then every 5 s. */
export const POLL_PAUSES_MS: readonly number[] = [500, 1000, 1000, 2000, 3000, 5000];
/** Enough for the longest allowed wait at the steady pause, with room to spare. */
export const MAX_POLLS = 400;

export interface WaitResult {
  event?: SnRecord;
  /** When the event was seen (clock time), if it was. */
  seenAt?: number;
  polls: number;
}

/**
 * Calls `find` until it returns a record or `timeoutMs` has passed since `startedAt`.
 * A `find` that throws ends the wait with its error: the table client has already
 * retried what is worth retrying.
 */
export async function waitForEvent(
  find: () => Promise<SnRecord | undefined>,
  o: { startedAt: number; timeoutMs: number; clock: WaitClock },
): Promise<WaitResult> {
  const deadline = o.startedAt + o.timeoutMs;
  let polls = 0;
  while (polls < MAX_POLLS) {
    const event = await find();
    polls++;
    if (event) return { event, seenAt: o.clock.now(), polls };
    const left = deadline - o.clock.now();
    if (left <= 0) break;
    await o.clock.sleep(Math.min(POLL_PAUSES_MS[Math.min(polls - 1, POLL_PAUSES_MS.length - 1)], left));
  }
  return { polls };
}
