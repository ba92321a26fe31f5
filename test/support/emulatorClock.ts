/**
 * The in-process emulators wait with setTimeout: injected latency, late commits held
 * before they land. Under this clock only setTimeout, clearTimeout and Date are fake, so
 * sockets, their timeouts (Node's own timers) and setImmediate run for real and requests
 * still travel, while each wait ends exactly when the test moves the clock past it. A test
 * then says how long an answer was held by moving the clock, not by reading the wall
 * clock (timing belongs to bench/).
 */
import { setTimeout as realDelay } from "node:timers/promises";

/** Everything but setTimeout, clearTimeout and Date stays real. */
const REAL = [
  "hrtime",
  "nextTick",
  "performance",
  "queueMicrotask",
  "requestAnimationFrame",
  "cancelAnimationFrame",
  "requestIdleCallback",
  "cancelIdleCallback",
  "setImmediate",
  "clearImmediate",
  "setInterval",
  "clearInterval",
] as const;

const POLL_MS = 2;

/**
 * Runs `body` on the fake clock (installed before it starts, so every wait the emulator
 * begins meanwhile is on it) and puts the real timers back afterwards, failed or not.
 */
export async function onEmulatorClock(body: () => Promise<void>): Promise<void> {
  jest.useFakeTimers({ doNotFake: [...REAL] });
  try {
    await body();
  } finally {
    jest.useRealTimers();
  }
}

/**
 * Resolves once `count` waits are pending on the fake clock: the requests sent have
 * reached their hold. Polls in real time; throws after `withinMs`.
 */
export async function untilWaiting(count = 1, withinMs = 10_000): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (jest.getTimerCount() < count) {
    if (performance.now() > deadline) throw new Error(`${count} wait(s) expected on the fake clock within ${withinMs} ms; ${jest.getTimerCount()} pending`);
    await realDelay(POLL_MS);
  }
}
