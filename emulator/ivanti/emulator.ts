/**
 * The Ivanti Service Manager emulator: OData business objects and `$metadata`, REST API
 * keys (`Authorization: rest_api_key=<Reference ID>`) bound to a tenant, a role and an
 * optional IP list, and the `ISM_4001` refusal. Keys are made by test controls only, as
 * a person makes them in the Configuration console.
 */
import { isIP } from "node:net";
import { ROLES } from "./businessObjects";
import { Faults } from "./faults";
import { checkTenant, KeyStore } from "./keys";
import { Metrics } from "./metrics";
import { RecordStore } from "./records";
import { listenIvanti, type Switches } from "./server";
import type { IvantiEmulatorOptions, RunningIvantiEmulator } from "./types";

export async function startIvantiEmulator(opts: IvantiEmulatorOptions = {}): Promise<RunningIvantiEmulator> {
  const tenant = opts.tenant ?? "keywire-test.ivanticloud.com";
  checkTenant(tenant);
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  const switches: Switches = { heatPrefix: opts.heatPrefix ?? false, clientIp: undefined };
  const records = new RecordStore();
  const keys = new KeyStore(tenant);
  const metrics = new Metrics();
  const faults = new Faults();
  let baseUrl = "";

  const listening = await listenIvanti(
    { tenant, keys, switches, metrics, faults, records, baseUrl: () => baseUrl },
    { ...(opts.port !== undefined ? { port: opts.port } : {}), requestTimeoutMs },
  );
  baseUrl = listening.url;

  return {
    url: baseUrl,
    tenant,
    stop: () => listening.close(),
    metrics: () => metrics.snapshot(),
    resetMetrics: () => metrics.reset(),
    reset() {
      records.reset();
      keys.clear();
      switches.clientIp = undefined;
      switches.heatPrefix = opts.heatPrefix ?? false;
      faults.clear();
      metrics.reset();
    },
    addKeyGroup: (name, description) => keys.addGroup(name, description),
    keyGroups: () => keys.groupList(),
    addKey: (o = {}) => keys.add(o),
    editKey: (referenceId, patch) => keys.edit(referenceId, patch),
    deleteKey: (referenceId) => keys.delete(referenceId),
    keys: () => keys.list(),
    roles: () => Object.fromEntries(Object.entries(ROLES).map(([r, sets]) => [r, [...sets]])),
    setClientIp(ip) {
      if (ip !== undefined && isIP(ip) === 0) throw new Error("not an IP address");
      switches.clientIp = ip;
    },
    setHeatPrefix(on) {
      switches.heatPrefix = on;
    },
    addRecord: (object, fields) => records.add(object, fields),
    failNext: (f) => faults.add(f),
  };
}
