/**
 * ApiKey: a REST API key (`api_key`) and its token.
 *
 * The record is managed like any other (see recordEngine.ts); what differs is the
 * token. It is obtained once, at creation, by the strategy in tokenPlan.ts,
 * proven by a probe, and kept as a secret output. A refresh cannot read it back,
 * so it is carried; ApiKeyVerification proves it again on every refresh.
 *
 * Rotation: a key can carry a maximum age and/or a number of days before expiry
 * at which it is due, and an explicit trigger. A due rotation raises the key's
 * generation in check, so `pulumi preview` shows a replacement; the replacement is
 * a new record under its own sys_id, named `<name> #<generation>` so people can
 * tell it from the key it replaces, and it is created and proven before the old
 * key is deleted, so consumers such as the SNS subscription move first.
 *
 * No unproven key stays active: when a new key's token cannot be proven, the key
 * is deactivated (the manual route: a person copies its token) or deleted (the
 * probe's answer proved nothing) before the error surfaces.
 *
 * This module holds the record's declaration, its hooks and the resource; the rules
 * they call live beside it: when a key is due and which generation it is
 * (generation.ts), the key's generations on the instance and the parked key
 * (keyFamily.ts), the retirement of unproven keys (retirement.ts), and what the
 * inputs say about the token (tokenInputs.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { recordUrl } from "../engine/columns";
import { formatGlideDateTime } from "../engine/glideDateTime";
import { RecordArgs, defineRecord } from "../engine/declaration";
import type { EngineContext } from "../engine/runtime";
import { recordProvider } from "../engine/recordEngine";
import { ownedRecordInputs, recordResource } from "../engine/recordResource";
import { providerReference } from "../../core/providerLoading/providerReference";
import { probeToken } from "./probe";
import { keyRecordName } from "./recordName";
import type { TokenStrategy } from "./tokenStrategies";
import { acquireToken, generateToken, generatesToken, tokenFailureOf } from "./tokenPlan";
import { KeywireError } from "../../core/errors";
import { RotationSettings, rotationProblems } from "./rotation";
import { API_KEY_DERIVED_INPUTS, apiKeyInputs } from "./inputs";
import { expiryColumn, keyGeneration, rotationDue, rotationStarts } from "./generation";
import { ParkedKey, creationOf, derivedGenerations, noteKey } from "./keyFamily";
import { freeKeySysId, retireUnprovenKey, withKeyFate } from "./retirement";
import { isRetiredToken, operatorTokenOf, probeOf, retiredTokenNote, tokenConfigKeyOf, tokenMark } from "./tokenInputs";

export const apiKeyRecord = defineRecord({
  typeName: "ApiKey",
  table: "api_key",
  naturalKey: ["name"],
  inputs: apiKeyInputs,
  // The key chooses its own sys_id (prepareCreate): a key a killed run made holds a token
  // this run cannot read back, so it is retired, not taken over, and the next one is used.
  stableCreate: false,
  carriedOutputs: ["token", "tokenSource", "createdAt", "expiresAt", "retiredTokens", "tokenNote"],
  carriedInputs: API_KEY_DERIVED_INPUTS,
  hooks: {
    validate(inputs, olds) {
      const failures = [];
      // A replacement would be taken over by the same rule: the key being replaced.
      if (inputs.adopt && rotationStarts(olds, inputs, new Date())) {
        failures.push({
          property: "adopt",
          reason:
            "ApiKey.adopt: the key is due for rotation, and a new key cannot be made while the program adopts one; " +
            "remove the adoption once it is done (in a stack: `pulumi config rm keywire:adopt`), then run `pulumi up` again",
        });
      }
      if (inputs.expires && inputs.expiresInDays !== undefined) {
        failures.push({ property: "expiresInDays", reason: "ApiKey.expiresInDays: give either expires or expiresInDays, not both" });
      }
      if (inputs.active === false && !inputs.token) {
        failures.push({
          property: "active",
          reason: "ApiKey.active: a key created inactive cannot have its token proven; create it active",
        });
      }
      // A key due for rotation when it is made would be replaced on every update.
      // The schema has passed by now, so these inputs have the types it checked.
      const key = {
        expiresInDays: inputs.expiresInDays as number | undefined,
        expires: inputs.expires as string | undefined,
        rotation: inputs.rotation as RotationSettings | undefined,
      };
      for (const p of rotationProblems(key, new Date())) {
        const property = p.path.join(".");
        failures.push({ property, reason: `ApiKey.${property}: ${p.message}` });
      }
      return failures;
    },

    derivedInputs(olds, news, now) {
      return keyGeneration(olds, news, now);
    },

    /**
     * Only while a record is to be made: a key new to the state, or the next
     * generation of a rotation. `parkedKey` shows in the preview, and the drift
     * report names it with the steps that finish it.
     */
    async creationInputs(ctx, olds, inputs) {
      if (typeof inputs.name !== "string") return undefined;
      const creating = olds.name === undefined;
      const rotating = typeof olds.generation === "number" && inputs.generation !== olds.generation;
      if (!creating && !rotating) return undefined;
      const generations = await derivedGenerations(ctx);
      const own = typeof inputs.generation === "number" ? inputs.generation : 1;
      if (rotating) generations.set(inputs.name, own);
      const { generation, parkedKey } = await creationOf(ctx, inputs, Math.max(own, generations.get(inputs.name) ?? 1));
      return { generation, parkedKey };
    },

    /**
     * An inactive key cannot authenticate, so an operator's token that the instance
     * accepts while the key is still inactive belongs to another, active key: most
     * likely the one a rotation replaces, whose token is still in the configuration.
     * Taking the key over with it would prove nothing about this key, and the
     * replaced key's deletion would then leave the integration with a dead token.
     */
    async beforeAdopt(ctx, inputs, record) {
      const token = operatorTokenOf(inputs);
      if (token === undefined || record.active !== "false") return;
      const verdict = await probeToken(ctx, token, probeOf(inputs));
      if (verdict.outcome === "refused") return;
      const url = recordUrl(ctx.connection, "api_key", record.sys_id);
      const configKey = tokenConfigKeyOf(inputs);
      throw new KeywireError({
        platform: "servicenow",
        operation: `take over the parked api_key "${record.name || String(inputs.name)}"`,
        table: "api_key",
        reason:
          verdict.outcome === "proven"
            ? `the instance accepts the token from ${configKey} while this key is still inactive, so the token is another active key's (most likely the key this one replaces)`
            : `the probe of the token from ${configKey}, made while this key is still inactive, saw ${verdict.seen}, which neither proves nor refuses it`,
        hint:
          verdict.outcome === "proven"
            ? `Copy this key's own token from ${url} and run \`pulumi config set --secret ${configKey}\` (it reads the token from standard input), then \`pulumi up\` again (docs/runbook.md). The key stays parked and the active key keeps serving.`
            : "Run `pulumi up` again once the instance answers normally. The key stays parked and the active key keeps serving.",
      });
    },

    columnOverrides(inputs, olds): Record<string, string> {
      const out: Record<string, string> = {};
      if (typeof inputs.name === "string") out.name = keyRecordName(inputs.name, inputs.generation as number | undefined);
      const expires = expiryColumn(inputs, olds, new Date());
      if (expires !== undefined) out.expires = expires;
      return out;
    },

    /**
     * With an operator's token, the key to take over is the one an earlier run parked
     * (inactive, same record name, so the same generation) for its token; with none
     * parked, a new key is created — never the active key a rotation is replacing.
     */
    async implicitAdoption(ctx: EngineContext, inputs) {
      const parked = inputs.parkedKey as ParkedKey | undefined;
      if (operatorTokenOf(inputs) === undefined || !parked) return undefined;
      const rec = await ctx.client.get("api_key", parked.sysId, { fields: ["sys_id", "name", "description", "active", "user", "expires", "auth_scope"] });
      return rec?.active === "false" ? rec : undefined;
    },

    async prepareCreate(ctx: EngineContext, inputs, columns) {
      // An inactive key with this name is most likely the one a previous run created
      // and parked (deactivated) when it stopped for the manual token step: never
      // make a second one. Active keys of the same name are left alone, so a rotation
      // can create the new key while the old one still serves.
      const parked = inputs.parkedKey as ParkedKey | undefined;
      if (parked) {
        throw new KeywireError({
          platform: "servicenow",
          operation: `create api_key "${columns.name}"`,
          table: "api_key",
          reason: `an inactive key with this name already exists (${parked.sysId}), most likely parked by a run that stopped for its token`,
          hint:
            `Copy its token from ${parked.recordUrl} and run \`pulumi config set --secret ${tokenConfigKeyOf(inputs)}\` (it reads the token from standard input), then \`pulumi up\`: ` +
            "keywire adopts it, activates it and proves the token (docs/runbook.md). Or delete that record, or give the new key another name.",
        });
      }
      const sysId = await freeKeySysId(ctx, inputs);
      const strategy = (inputs.tokenStrategy as TokenStrategy | undefined) ?? "auto";
      const now = formatGlideDateTime(new Date());
      if (generatesToken(strategy)) {
        const generated = generateToken();
        return {
          columns: { ...columns, token: generated },
          inputDisplayValue: true,
          outputs: { generatedToken: generated, createdAt: now },
          ...(sysId ? { sysId } : {}),
        };
      }
      return { columns, outputs: { createdAt: now }, ...(sysId ? { sysId } : {}) };
    },

    async afterWrite(ctx, phase, record, inputs, prepared, olds) {
      // A later create in this process must see this key as the instance would show it.
      if (phase !== "update") await noteKey(ctx, record.sys_id, { sys_id: record.sys_id, name: record.name ?? "", active: record.active ?? "" });
      const carried: Record<string, unknown> = {
        createdAt: prepared.createdAt ?? olds?.createdAt ?? formatGlideDateTime(new Date()),
        expiresAt: record.expires ?? "",
        expiresInDays: inputs.expiresInDays,
        rotation: inputs.rotation,
        probe: inputs.probe,
        tokenStrategy: inputs.tokenStrategy,
        tokenConfigKey: inputs.tokenConfigKey,
        generation: inputs.generation,
        issuedAt: inputs.issuedAt,
      };
      // An operator's token is proof for a record that already existed (adopted) or a
      // new token for this one (update); a freshly created key never takes it, since
      // it may be the token of the key this one replaces.
      const given = operatorTokenOf(inputs);
      // A new key made while the configuration holds an operator's token: that token is the
      // replaced key's, and stays marked as retired for this key's later updates.
      const retired = phase === "create" && given !== undefined ? [tokenMark(given)] : phase === "update" ? (olds?.retiredTokens ?? []) : [];
      const stale = phase === "create" ? given !== undefined : phase === "update" && isRetiredToken(olds, given);
      Object.assign(carried, { retiredTokens: retired, tokenNote: stale ? retiredTokenNote(inputs) : "" });
      const operatorToken = phase !== "create" && !stale ? given : undefined;
      if (phase === "update" && olds && (operatorToken === undefined || operatorToken === olds.token)) {
        return { ...carried, token: olds.token, tokenSource: olds.tokenSource };
      }
      try {
        const acquired = await acquireToken(ctx, {
          strategy: (inputs.tokenStrategy as TokenStrategy | undefined) ?? "auto",
          operatorToken,
          generatedToken: typeof prepared.generatedToken === "string" ? prepared.generatedToken : undefined,
          keySysId: record.sys_id,
          keyName: record.name || String(inputs.name),
          recordUrl: recordUrl(ctx.connection, "api_key", record.sys_id),
          tokenConfigKey: tokenConfigKeyOf(inputs),
          probe: probeOf(inputs),
        });
        return { ...carried, token: acquired.token, tokenSource: acquired.source };
      } catch (err) {
        // A key this run made, or the parked key it just re-activated, must not stay
        // active unproven: park it when a person will copy its token, else delete it.
        // An update's key keeps serving with its proven token; an explicitly adopted
        // key is someone else's to handle.
        const ours = phase === "create" || (phase === "adopt" && !inputs.adopt);
        if (!ours) throw err;
        const kind = tokenFailureOf(err);
        const first = kind === "manual" || kind === "refused-operator" || phase === "adopt" ? "park" : "delete";
        throw withKeyFate(err, await retireUnprovenKey(ctx, record.sys_id, record.name || String(inputs.name), first));
      }
    },

    diffExtra(olds, news) {
      const changed: string[] = [];
      const replaces: string[] = [];
      const operatorToken = operatorTokenOf(news);
      if (operatorToken !== undefined && operatorToken !== olds.token && !isRetiredToken(olds, operatorToken)) changed.push("token");
      const rotation = news.rotation as RotationSettings | undefined;
      const oldRotation = olds.rotation as RotationSettings | undefined;
      // The generation check derived (a trigger or a due rotation), or a due rotation
      // of a key whose state predates generations.
      if (news.generation !== undefined && olds.generation !== undefined && news.generation !== olds.generation) replaces.push("generation");
      else if (rotation?.trigger !== undefined && rotation.trigger !== oldRotation?.trigger) replaces.push("rotation");
      else if (olds.generation === undefined && rotationDue(olds, rotation, new Date())) replaces.push("rotation");
      if ((news.expiresInDays ?? undefined) !== (olds.expiresInDays ?? undefined)) changed.push("expiresInDays");
      return { changed, replaces };
    },
  },
});

export const apiKeyProvider = recordProvider(apiKeyRecord, providerReference("keywire/servicenow", "apiKeyProvider"));

/** The ApiKey resource's arguments: its declared inputs, each a Pulumi input. */
export type ApiKeyArgs = RecordArgs<typeof apiKeyRecord>;

export class ApiKey extends recordResource(apiKeyRecord, ["token", "tokenSource", "createdAt", "tokenNote"]) {
  /** The token, proven by a probe. Secret. */
  declare readonly token: pulumi.Output<string>;
  /** How the token was obtained: `operator`, `input_display_value` or `display_value`. */
  declare readonly tokenSource: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;
  /** Set when the configuration holds the token of a retired key, which is ignored: what to remove. */
  declare readonly tokenNote: pulumi.Output<string>;

  constructor(name: string, args: ApiKeyArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...ownedRecordInputs(apiKeyRecord, name, args),
      // The token is secret whether or not the caller marked it so.
      token: args.token === undefined ? undefined : pulumi.secret(args.token),
      // An operator-supplied token means the record exists: adopt it (keywire made it
      // or a person did) unless the program says which record to take.
      // A key taken over with an operator's token is keywire's own (parked by an earlier run).
      onDestroy: args.onDestroy ?? (args.token === undefined ? undefined : "delete"),
    };
    super(apiKeyProvider, name, props, pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token", "retiredTokens"] }));
    this.tokenNote.apply((note) => {
      if (note) pulumi.log.warn(note, this);
    });
  }
}
