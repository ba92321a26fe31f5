/** The emulator's clock: the given one plus however far tests have moved it forward. */
const MAX_ADVANCE_MS = 24 * 3600_000;

export class OffsetClock {
  private offset = 0;

  constructor(private readonly base: () => number) {}

  now(): number {
    return this.base() + this.offset;
  }

  advance(ms: number): void {
    if (!(ms >= 0 && ms <= MAX_ADVANCE_MS)) throw new Error("advanceClock takes 0..1 day in ms");
    this.offset += ms;
  }

  reset(): void {
    this.offset = 0;
  }
}
