/** The ServiceNow emulator's public in-process API. */
import { Emulator } from "./emulator";
import { describeZodError, faultSchema, runtimeOptionsSchema, startOptionsSchema } from "./options";
import { readSnapshot, SnapshotWriter } from "./persistence";
import type { VariantKey } from "./seed";
import { listenServiceNow } from "./server";
import type { EmulatorOptions, RunningEmulator } from "./types";

export type { EmulatorMetrics, EmulatorOptions, EmulatorStore, FaultSettings, GlideRecord, RunningEmulator } from "./types";

const VARIANT_KEYS: VariantKey[] = ["plugin", "eventManagement", "shippedPolicies", "restApiKeyProfile", "queryParameterType", "adminPassword"];

export async function startServiceNowEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const checked = startOptionsSchema.safeParse(options);
  if (!checked.success) throw new Error(`invalid emulator options: ${describeZodError(checked.error)}`);

  const em = new Emulator(options);
  let writer: SnapshotWriter | undefined;
  if (options.dataFile) {
    const snap = readSnapshot(options.dataFile);
    if (snap)
      em.load(
        snap,
        VARIANT_KEYS.filter((k) => options[k] !== undefined),
      );
    else em.seed();
    writer = new SnapshotWriter(options.dataFile, () => em.store.snapshot());
    em.store.onChange = () => writer!.schedule();
    writer.schedule();
  } else {
    em.seed();
  }

  const listening = await listenServiceNow(em, options.port);
  const url = listening.url;
  em.baseUrl = url;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      em.faults.cancelHeld();
      await listening.close();
      if (writer) await writer.flush();
    })();
    return stopping;
  };

  return {
    url,
    stop,
    metrics: () => em.metrics.snapshot(),
    resetMetrics: () => em.metrics.reset(),
    setFaults: (f) => {
      const r = faultSchema.safeParse(f);
      if (!r.success) throw new Error(`invalid fault settings: ${describeZodError(r.error)}`);
      em.faults.set(f);
    },
    lateWritesSettled: () => em.faults.lateWritesSettled(),
    setOptions: (o) => {
      const { port: _port, dataFile: _dataFile, ...runtime } = o;
      void _port;
      void _dataFile;
      const r = runtimeOptionsSchema.safeParse(runtime);
      if (!r.success) throw new Error(`invalid emulator options: ${describeZodError(r.error)}`);
      em.setOptions(runtime);
    },
    reset: () => em.reset(),
    store: em.publicStore(),
    tokenOf: (id) => em.tokenOf(id),
  };
}
