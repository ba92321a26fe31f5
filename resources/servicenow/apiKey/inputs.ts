/**
 * The ApiKey's inputs, written once: the resource's check validates them, its
 * argument type follows from them, and the component and the stack
 * configuration take their key settings from the same fields.
 */
import type * as zod from "zod";
import { parseDateTime } from "../engine/columns";
import { queryValue, recordDescription, recordName } from "../engine/inputRules";
import { rotationSchema } from "./rotation";
import { TOKEN_STRATEGIES } from "./tokenPlan";

type Zod = typeof zod.z;

export function apiKeyInputSchema(z: Zod) {
  return z.object({
    name: queryValue(recordName(z)),
    description: recordDescription(z).optional(),
    // Explicit even when adopting: a key keywire hands to a consumer must be usable. Defaults to true.
    active: z.boolean().default(true),
    // The user the key acts as: user_name or sys_id. Give it only the roles it needs.
    user: z.string().min(1, "is required: the user the key acts as (user_name or sys_id)"),
    // Absolute expiry (UTC). Empty means never, which keywire's audit flags.
    expires: z
      .string()
      .optional()
      .refine((v) => v === undefined || v === "" || parseDateTime(v) !== undefined, {
        message: "must be a date and time that exists, such as 2027-01-31T00:00:00Z or 2027-01-31 00:00:00 (UTC)",
      })
      .refine((v) => v === undefined || v === "" || (parseDateTime(v)?.getTime() ?? 0) > Date.now(), {
        message: "is in the past: the instance would refuse the key at once",
      }),
    // Expiry relative to the key's issue; a rotated key gets a fresh one.
    expiresInDays: z.number().int().positive().max(3650).optional(),
    // Auth scopes by name (e.g. useraccount) or sys_id.
    authScopes: z.array(queryValue(z.string().min(1))).optional(),
    // A token copied from the record by an operator (manual route); probed before use. Always secret.
    token: z.string().min(1).optional(),
    // Which routes may be used to obtain the token; default auto (all, in order).
    tokenStrategy: z.enum(TOKEN_STRATEGIES).optional(),
    // The config key named in the manual-route instructions; default keywire:apiKeyToken.
    tokenConfigKey: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$/, "must be a config key such as keywire:apiKeyToken")
      .optional(),
    // The request that proves a token; must go through a policy that admits this key.
    probe: z
      .object({
        path: z.string().regex(/^\/api\/[^\s]*$/, "must be an instance path starting with /api/"),
        via: z.enum(["header", "query"]),
      })
      .partial()
      .optional(),
    rotation: rotationSchema(z).optional(),
  });
}

/** The ApiKey's inputs as a program gives them. */
export type ApiKeyInputs = zod.input<ReturnType<typeof apiKeyInputSchema>>;

/**
 * The key settings a stack chooses (the component's `apiKey`, `keywire:apiKey`):
 * the resource's own fields, with the defaults the integration needs.
 */
export function keySettingsSchema(z: Zod) {
  const key = apiKeyInputSchema(z);
  return key
    .pick({ name: true, expiresInDays: true, authScopes: true, tokenStrategy: true, rotation: true })
    .partial({ name: true })
    .extend({
      authScopes: key.shape.authScopes.unwrap().default(["useraccount"]),
      tokenStrategy: key.shape.tokenStrategy.unwrap().default("auto"),
    })
    .strict();
}

export type KeySettings = zod.output<ReturnType<typeof keySettingsSchema>>;
