/**
 * PolicyHandover: on destroy, a stack's own access policies stop judging calls before
 * their links go.
 *
 * The instance judges a call by the single most specific active policy. keywire's own
 * policies (the Event Management inbound policy, and in dedicated mode the Table API
 * policy) are equally specific on every stack, so on an instance with two stacks one of
 * them judges the calls of both (the emulator, like docs/emulator.md says, takes the
 * older); it admits the other stack's key because both stacks' API-key profiles read the
 * same parameter. The engine deletes a policy's links before the policy itself, and in
 * between the policy admits only what is still linked: the deploying user's Basic auth
 * is refused while the API-key link remains (its own destroy then fails), and once that
 * link is gone every stack's key is refused, until the policy is deleted.
 *
 * This resource is created after the links and deleted before them. Its delete turns
 * the stack's own policies off, so that the other stack's policy, or none, judges from
 * then on. It owns nothing: the policies stay the resources that delete them.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { AdoptionInputs, SERVICENOW_MODULE, withSecretConnection } from "../engine/spec";
import type { ConnectionArgs } from "../client/connection";
import { Runtime, createRuntime } from "../engine/runtime";
import { isKeywireHttpError } from "../../core/errors";
import { containsUnknown } from "../../core/unknown";
import { NamedProvider, ReferencedResource, providerReference, referencedProvider } from "../../core/providerLoading/providerReference";

interface HandoverInputs {
  connection?: ConnectionArgs;
  /** The sys_ids of the stack's own policies, turned off on delete. */
  policies: string[];
}

const SYS_ID = /^[0-9a-f]{32}$/;
const MAX_POLICIES = 10;

function handoverProvider(): NamedProvider {
  let runtime: Runtime = createRuntime(undefined);
  return {
    typeName: "PolicyHandover",
    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      runtime = createRuntime(req.config);
    },
    async check(_olds: HandoverInputs, news: HandoverInputs): Promise<pulumi.dynamic.CheckResult> {
      const failures: pulumi.dynamic.CheckFailure[] = [];
      const policies: unknown = news.policies;
      if (!containsUnknown(policies)) {
        const valid =
          Array.isArray(policies) && policies.length <= MAX_POLICIES && policies.every((p) => containsUnknown(p) || (typeof p === "string" && SYS_ID.test(p)));
        if (!valid)
          failures.push({ property: "policies", reason: `PolicyHandover.policies: must be at most ${MAX_POLICIES} sys_ids of sys_api_access_policy records` });
      }
      return { inputs: news, failures };
    },
    async diff(_id: string, olds: HandoverInputs, news: HandoverInputs): Promise<pulumi.dynamic.DiffResult> {
      // Never a replacement: deleting the old one would turn off policies still in use.
      const changed =
        JSON.stringify(olds.policies ?? []) !== JSON.stringify(news.policies ?? []) ||
        JSON.stringify(olds.connection ?? {}) !== JSON.stringify(news.connection ?? {});
      return { changes: changed, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: HandoverInputs): Promise<pulumi.dynamic.CreateResult> {
      // Nothing to make: the resource exists so that destroy reaches its delete first.
      return { id: `handover-${createHash("sha256").update(inputs.policies.join(",")).digest("hex").slice(0, 32)}`, outs: inputs };
    },
    async update(_id: string, _olds: HandoverInputs, news: HandoverInputs): Promise<pulumi.dynamic.UpdateResult> {
      return { outs: news };
    },
    async delete(_id: string, props: HandoverInputs): Promise<void> {
      const ctx = runtime.context(props.connection);
      for (const sysId of props.policies ?? []) {
        try {
          await ctx.client.update("sys_api_access_policy", sysId, { active: "false" }, { fields: ["sys_id"] });
        } catch (err) {
          // A policy already gone judges nothing.
          if (isKeywireHttpError(err) && err.status === 404) continue;
          throw err;
        }
      }
    },
  };
}

export const policyHandoverProvider = referencedProvider(handoverProvider(), providerReference("keywire/servicenow", "policyHandoverProvider"));

export interface PolicyHandoverArgs {
  connection?: AdoptionInputs["connection"];
  /** The stack's own policies that other stacks' equally specific policies stand in for. */
  policies: pulumi.Input<pulumi.Input<string>[]>;
}

export class PolicyHandover extends ReferencedResource {
  constructor(name: string, args: PolicyHandoverArgs, opts?: pulumi.CustomResourceOptions) {
    super(policyHandoverProvider, name, { ...withSecretConnection(args) }, opts, SERVICENOW_MODULE, "PolicyHandover");
  }
}
