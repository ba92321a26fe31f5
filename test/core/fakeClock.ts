/**
 * An injectable clock for retry tests: `sleep` records the wait and moves the clock on
 * instead of waiting, so a 30 s Retry-After costs no real time.
 */
export interface FakeClock {
  waits: number[];
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export function fakeClock(random = 0.5): FakeClock {
  let offset = 0;
  const waits: number[] = [];
  return {
    waits,
    now: () => Date.now() + offset,
    sleep: async (ms: number) => {
      waits.push(ms);
      offset += ms;
    },
    random: () => random,
  };
}
