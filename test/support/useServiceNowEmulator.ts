/**
 * One in-process ServiceNow emulator for a test file: started before its first test,
 * reset to its seed after each test (records, metrics, OAuth tokens, rate-limit counts,
 * held writes) and stopped after its last, by hooks registered where this is called.
 * Options are the emulator's own (its admin password is `admin` unless they say
 * otherwise; the provider tests pass support/serviceNow's ADMIN_PASSWORD, which
 * configFor gives the providers).
 *
 * Jest runs hooks of one block in the order they were registered: call this before the
 * file's own hooks, so that the emulator is up when they start, and note that it stops
 * before the file's own afterAll runs.
 */
import {
  startServiceNowEmulator,
  type EmulatorMetrics,
  type EmulatorOptions,
  type EmulatorStore,
  type FaultSettings,
  type RunningEmulator,
} from "../../emulator/servicenow";

export interface EmulatorPerFile {
  /**
   * Reset after each test (the default), or leave the state to the file: for a file whose
   * tests build on each other, or that resets at its own moments.
   */
  resetAfterEach?: boolean;
}

/**
 * The running emulator, usable from the file's hooks and tests (not at the top level of
 * the file, where it has not started yet).
 */
class EmulatorHandle implements RunningEmulator {
  private started?: RunningEmulator;

  private get running(): RunningEmulator {
    if (!this.started) throw new Error("the emulator starts in beforeAll: use it in a hook or a test, not while the file is being loaded");
    return this.started;
  }

  start(emulator: RunningEmulator): void {
    this.started = emulator;
  }

  get url(): string {
    return this.running.url;
  }

  get store(): EmulatorStore {
    return this.running.store;
  }

  stop(): Promise<void> {
    return this.running.stop();
  }

  metrics(): EmulatorMetrics {
    return this.running.metrics();
  }

  resetMetrics(): void {
    this.running.resetMetrics();
  }

  setFaults(f: FaultSettings): void {
    this.running.setFaults(f);
  }

  lateWritesSettled(): Promise<void> {
    return this.running.lateWritesSettled();
  }

  setOptions(o: Partial<EmulatorOptions>): void {
    this.running.setOptions(o);
  }

  reset(): void {
    this.running.reset();
  }

  tokenOf(apiKeySysId: string): string | undefined {
    return this.running.tokenOf(apiKeySysId);
  }

  /** After each test: nothing to reset when the start failed (beforeAll reports that). */
  resetIfStarted(): void {
    this.started?.reset();
  }

  /** After all: a failed start leaves nothing to stop. */
  async stopIfStarted(): Promise<void> {
    await this.started?.stop();
  }
}

export function useServiceNowEmulator(options: EmulatorOptions = {}, { resetAfterEach = true }: EmulatorPerFile = {}): RunningEmulator {
  const handle = new EmulatorHandle();
  beforeAll(async () => {
    handle.start(await startServiceNowEmulator(options));
  });
  if (resetAfterEach) afterEach(() => handle.resetIfStarted());
  afterAll(() => handle.stopIfStarted());
  return handle;
}

/**
 * Waits until every late commit the emulator took has landed, been refused or been
 * cancelled, so a test judges the instance after the last write and no sooner; bounded.
 */
export async function lateWritesLanded(emu: RunningEmulator, withinMs = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the emulator still held a late write after ${withinMs} ms`)), withinMs);
  });
  try {
    await Promise.race([emu.lateWritesSettled(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
