/**
 * Which records of the chain a stack takes over instead of creating: after a
 * lost state, the records an earlier deployment made are still on the instance,
 * and a fresh `up` would make a second chain beside them. Each part is found by
 * its natural key (docs/adoption.md, "Adopting existing records"); the key also by
 * sys_id, since a rotated key's record name carries its generation.
 *
 * One schema for the contract: the stack configuration (`keywire:adopt`) and the
 * ServiceNowApiKeyAuth component both read it from here.
 */
import type * as zod from "zod";

type Zod = typeof zod.z;

const SYS_ID = /^[0-9a-f]{32}$/;

/** The parts of the chain, each taken over or not. */
export function chainAdoptionSchema(z: Zod) {
  const part = z.boolean().optional();
  return z
    .object({
      /** The integration user (`integrationUser.create: true` only). */
      user: part,
      /** The user's role grants (`integrationUser.create: true` only). */
      grants: part,
      /** The API-key inbound profile. */
      profile: part,
      /** keywire's own access policies (the Event Management one; in `dedicated`, the Table API one). */
      policies: part,
      /** The links of the profile (and, in `dedicated`, the Basic profile) to the policies. */
      links: part,
      /** The per-user rate-limit rule (`rateLimit.enabled` only). */
      rateLimit: part,
      /** The push connector (`pushConnector.create: true` only; otherwise it is always taken by name). */
      connector: part,
      /** The API key: `true` takes the newest active generation of its name; a sys_id takes that record. */
      key: z.union([z.boolean(), z.string().regex(SYS_ID, "must be true or the key's sys_id (32 lowercase hex characters)")]).optional(),
    })
    .strict();
}

export type ChainAdoption = zod.infer<ReturnType<typeof chainAdoptionSchema>>;

/** `keywire:adopt`: `true` for the whole chain, or the parts to take over. */
export function adoptSettingSchema(z: Zod) {
  return z.union([z.boolean(), chainAdoptionSchema(z)], {
    error: (issue) =>
      issue.code === "invalid_union"
        ? "must be true (the whole chain) or an object naming the parts (user, grants, profile, policies, links, rateLimit, connector, key)"
        : undefined,
  });
}

export type AdoptSetting = zod.infer<ReturnType<typeof adoptSettingSchema>>;

/** Every part named, for `true`; nothing, for false or no setting. */
export function chainAdoptionOf(setting: AdoptSetting | undefined): ChainAdoption {
  if (setting === true) return { user: true, grants: true, profile: true, policies: true, links: true, rateLimit: true, connector: true, key: true };
  return setting === false || setting === undefined ? {} : setting;
}

/** Whether any part of the chain is to be taken over. */
export function adoptsAny(adoption: ChainAdoption): boolean {
  return Object.values(adoption).some((v) => v !== undefined && v !== false);
}
