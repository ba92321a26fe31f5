/**
 * KeyLeftovers: the keys of one ApiKey resource that no state holds, removed on destroy.
 *
 * A first `up` on an instance that hides tokens parks the new key and stops before the
 * engine records it; a run killed mid-create leaves a key the engine never saw. Neither
 * is in the state, so destroy would leave them. This resource is created before the key
 * and deleted after it: its delete removes every key still carrying one of the key
 * resource's own sys_ids (engine/createIdentity.ts), whatever its name says, so another
 * stack's or a person's key of the same name is never touched. It owns nothing else.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { q } from "../client/encodedQuery";
import { AdoptionInputs, SERVICENOW_MODULE, withSecretConnection } from "../engine/spec";
import type { ConnectionArgs } from "../client/connection";
import { Runtime, createRuntime } from "../engine/runtime";
import { keySysIds } from "../engine/createIdentity";
import { containsUnknown } from "../../core/unknown";
import { NamedProvider, ReferencedResource, providerReference, referencedProvider } from "../../core/providerLoading/providerReference";
import { generationOfRecord } from "./recordName";

interface LeftoverInputs {
  connection?: ConnectionArgs;
  /** The ApiKey resource's identity (`recordIdentity("ApiKey", name)`). */
  keyIdentity: string;
  /** The key's name in the program (records are `<name>` and `<name> #<generation>`). */
  keyName: string;
}

/** More generations than a key lives through; the listing is one GET either way. */
const MAX_FAMILY = 500;

function leftoversProvider(): NamedProvider {
  let runtime: Runtime = createRuntime(undefined);
  return {
    typeName: "KeyLeftovers",
    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      runtime = createRuntime(req.config);
    },
    async check(_olds: LeftoverInputs, news: LeftoverInputs): Promise<pulumi.dynamic.CheckResult> {
      const failures: pulumi.dynamic.CheckFailure[] = [];
      if (!containsUnknown(news.keyIdentity) && (typeof news.keyIdentity !== "string" || news.keyIdentity === "" || news.keyIdentity.length > 1024)) {
        failures.push({ property: "keyIdentity", reason: "KeyLeftovers.keyIdentity: is required" });
      }
      if (!containsUnknown(news.keyName) && (typeof news.keyName !== "string" || news.keyName === "" || news.keyName.length > 100)) {
        failures.push({ property: "keyName", reason: "KeyLeftovers.keyName: is required (at most 100 characters)" });
      }
      return { inputs: news, failures };
    },
    async diff(_id: string, olds: LeftoverInputs, news: LeftoverInputs): Promise<pulumi.dynamic.DiffResult> {
      const changed =
        olds.keyIdentity !== news.keyIdentity ||
        olds.keyName !== news.keyName ||
        JSON.stringify(olds.connection ?? {}) !== JSON.stringify(news.connection ?? {});
      return { changes: changed };
    },
    async create(inputs: LeftoverInputs): Promise<pulumi.dynamic.CreateResult> {
      // Nothing to make: the resource exists so that destroy reaches its delete.
      return { id: `leftovers-${createHash("sha256").update(inputs.keyIdentity).digest("hex").slice(0, 32)}`, outs: inputs };
    },
    async update(_id: string, _olds: LeftoverInputs, news: LeftoverInputs): Promise<pulumi.dynamic.UpdateResult> {
      return { outs: news };
    },
    async delete(_id: string, props: LeftoverInputs): Promise<void> {
      const ctx = runtime.context(props.connection);
      const rows = await ctx.client.list("api_key", {
        query: q().startsWith("name", props.keyName).build(),
        fields: ["sys_id", "name"],
        limit: MAX_FAMILY,
      });
      for (const row of rows) {
        const generation = generationOfRecord(props.keyName, row.name ?? "");
        if (generation === undefined) continue;
        if (!keySysIds(props.keyIdentity, ctx.connection.instanceUrl, props.keyName, generation).includes(row.sys_id)) continue;
        await ctx.client.delete("api_key", row.sys_id);
      }
    },
  };
}

export const keyLeftoversProvider = referencedProvider(leftoversProvider(), providerReference("keywire/servicenow", "keyLeftoversProvider"));

export interface KeyLeftoversArgs {
  connection?: AdoptionInputs["connection"];
  keyIdentity: pulumi.Input<string>;
  keyName: pulumi.Input<string>;
}

export class KeyLeftovers extends ReferencedResource {
  constructor(name: string, args: KeyLeftoversArgs, opts?: pulumi.CustomResourceOptions) {
    super(keyLeftoversProvider, name, { ...withSecretConnection(args) }, opts, SERVICENOW_MODULE, "KeyLeftovers");
  }
}
