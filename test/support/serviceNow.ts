/**
 * Test support for the ServiceNow resources: an in-process emulator and a way
 * to call a dynamic provider the way the Pulumi engine does (configure first,
 * then check before create/update).
 */
import type * as pulumi from "@pulumi/pulumi";
import { startServiceNowEmulator, EmulatorOptions, RunningEmulator } from "../../emulator/servicenow";

export const ADMIN_PASSWORD = "s3cret-Adm1n-pw";

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startServiceNowEmulator({ adminPassword: ADMIN_PASSWORD, ...options });
}

/** Stack configuration as the engine hands it to a dynamic provider's configure. */
export function configFor(url: string, extra: Record<string, string> = {}): pulumi.dynamic.Config {
  const values: Record<string, string> = {
    "servicenow:instanceUrl": url,
    "servicenow:username": "admin",
    "servicenow:password": ADMIN_PASSWORD,
    ...extra,
  };
  return {
    get: (key: string) => values[key],
    require: (key: string) => {
      const v = values[key];
      if (v === undefined) throw new Error(`missing ${key}`);
      return v;
    },
  };
}

type Props = Record<string, unknown>;

/** Drives one provider like the engine: configure, check, then the operation. */
export class ProviderDriver {
  constructor(
    readonly provider: pulumi.dynamic.ResourceProvider,
    url: string,
    extra: Record<string, string> = {},
  ) {
    void this.provider.configure?.({ config: configFor(url, extra) });
  }

  async check(news: Props, olds: Props = {}): Promise<pulumi.dynamic.CheckResult> {
    if (!this.provider.check) return { inputs: news };
    return this.provider.check(olds, news);
  }

  async checked(news: Props, olds: Props = {}): Promise<Props> {
    const res = await this.check(news, olds);
    if (res.failures && res.failures.length > 0) {
      throw new Error(`check failed: ${res.failures.map((f) => f.reason).join("; ")}`);
    }
    return res.inputs as Props;
  }

  /** `olds`: the replaced resource's inputs, as the engine checks a replacement against them. */
  async create(news: Props, olds: Props = {}): Promise<{ id: string; outs: Props; inputs: Props }> {
    const inputs = await this.checked(news, olds);
    const res = await this.provider.create(inputs);
    return { id: res.id, outs: res.outs as Props, inputs };
  }

  async read(id: string, props: Props): Promise<pulumi.dynamic.ReadResult> {
    if (!this.provider.read) throw new Error("no read");
    return this.provider.read(id, props);
  }

  async diff(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    if (!this.provider.diff) throw new Error("no diff");
    return this.provider.diff(id, olds, await this.checked(news, olds));
  }

  async update(id: string, olds: Props, news: Props): Promise<Props> {
    if (!this.provider.update) throw new Error("no update");
    const res = await this.provider.update(id, olds, await this.checked(news, olds));
    return res.outs as Props;
  }

  async delete(id: string, props: Props): Promise<void> {
    if (!this.provider.delete) throw new Error("no delete");
    await this.provider.delete(id, props);
  }
}

/** Calls per table and method since the last reset, e.g. calls(emu, "api_key", "GET"). */
export function calls(emu: RunningEmulator, table: string, method?: string): number {
  const byMethod = emu.metrics().byTable[table] ?? {};
  if (method) return byMethod[method] ?? 0;
  return Object.values(byMethod).reduce((a, b) => a + b, 0);
}
