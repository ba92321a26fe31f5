/**
 * The ApiKey's inputs, written once (engine/declaration.ts): the resource's check
 * validates them, its argument type and the engine's fields follow from them, and
 * the component and the stack configuration take their key settings from the same
 * fields.
 */
import type * as zod from "zod";
import { parseDateTime } from "../engine/glideDateTime";
import { queryValue, recordDescription, recordName } from "../engine/inputRules";
import { carriedInputsOf, column, inputSchema, setting } from "../engine/declaration";
import { rotationSchema } from "./rotation";
import { TOKEN_STRATEGIES } from "./tokenStrategies";

type Zod = typeof zod.z;

export const apiKeyInputs = {
  /** 1–100 characters, one line. Keys are found by name for adoption and for the parked-key guard. */
  name: column({ column: "name", kind: "string" }, (z) => queryValue(recordName(z))),
  /** Up to 1000 characters. */
  description: column({ column: "description", kind: "string" }, (z) => recordDescription(z).optional()),
  /**
   * Explicit even when adopting: a key keywire hands to a consumer must be usable. `false` is
   * refused unless `token` is given: nobody could prove the token of a key created inactive.
   */
  active: column({ column: "active", kind: "boolean", defaultValue: "true" }, (z) => z.boolean().default(true)),
  /** The user the key acts as, as `user_name` or sys_id. Give that user only the roles the integration calls. */
  user: column({ column: "user", kind: "reference", lookup: { table: "sys_user", by: "user_name" } }, (z) =>
    z.string().min(1, "is required: the user the key acts as (user_name or sys_id)"),
  ),
  /**
   * Absolute expiry: ISO 8601 (`2027-01-31T00:00:00Z`, with an offset), a bare date, or
   * `2027-01-31 00:00:00` (UTC). Must exist (no February 30, month 13 or 24:00) and be in the
   * future. Stored in the Glide form, so formatting never shows as a change. Empty means
   * never, which keywire's audit flags.
   */
  expires: column({ column: "expires", kind: "datetime" }, (z) =>
    z
      .string()
      .optional()
      .refine((v) => v === undefined || v === "" || parseDateTime(v) !== undefined, {
        message: "must be a date and time that exists, such as 2027-01-31T00:00:00Z or 2027-01-31 00:00:00 (UTC)",
      })
      .refine((v) => v === undefined || v === "" || (parseDateTime(v)?.getTime() ?? 0) > Date.now(), {
        message: "is in the past: the instance would refuse the key at once",
      }),
  ),
  /**
   * Expiry relative to the key's issue, 1–3650 days: `expires` becomes creation time + N days
   * and then stays fixed. A new value re-dates the key to *now* + N days; a rotated key gets a
   * fresh one. Give `expires` or `expiresInDays`, not both.
   */
  expiresInDays: setting((z) => z.number().int().positive().max(3650).optional(), { carried: true }),
  /** Auth scopes by name (e.g. `useraccount`) or sys_id. Order does not matter. */
  authScopes: column({ column: "auth_scope", kind: "list", lookup: { table: "sys_auth_scope", by: "name" } }, (z) =>
    z.array(queryValue(z.string().min(1))).optional(),
  ),
  /**
   * A token an operator copied from the record (the manual route), probed before use. The
   * constructor always wraps it in `pulumi.secret()`. Giving it takes over the key an earlier
   * run parked for its token (same name, inactive), if there is one, and makes `onDestroy`
   * default to `delete`.
   */
  token: setting((z) => z.string().min(1).optional(), { secret: true }),
  /** Which routes may produce the token: `auto`, all of them in order, when left out. */
  tokenStrategy: setting((z) => z.enum(TOKEN_STRATEGIES).optional(), { carried: true }),
  /** The config key named in the manual-route instructions: `keywire:apiKeyToken` when left out. */
  tokenConfigKey: setting(
    (z) =>
      z
        .string()
        .regex(/^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$/, "must be a config key such as keywire:apiKeyToken")
        .optional(),
    { carried: true },
  ),
  /**
   * The GET that proves a token. `path` must start with `/api/`; `via` (`header` or `query`)
   * must match the inbound profile linked to the policy that governs `path`. When left out:
   * `/api/now/table/sys_user?sysparm_limit=1&sysparm_fields=sys_id`, with the key in the header.
   */
  probe: setting(
    (z) =>
      z
        .object({
          path: z.string().regex(/^\/api\/[^\s]*$/, "must be an instance path starting with /api/"),
          via: z.enum(["header", "query"]),
        })
        .partial()
        .optional(),
    { carried: true },
  ),
  /**
   * When the key is due for replacement. A new key must not be due:
   * `rotateBeforeExpiryDays` < `expiresInDays` (and more than that many days before an
   * explicit `expires`), `maxAgeDays` ≤ `expiresInDays`. Unknown settings are refused.
   */
  rotation: setting((z) => rotationSchema(z).optional(), { carried: true }),
};

/** What check derives (no program gives them), carried through every read like the settings. */
export const API_KEY_DERIVED_INPUTS = ["generation", "issuedAt"];

/** The key's settings the instance does not hold, carried through every read (and known to the drift report). */
export const API_KEY_CARRIED_INPUTS: readonly string[] = [...carriedInputsOf(apiKeyInputs), ...API_KEY_DERIVED_INPUTS];

/** The ApiKey's inputs' schema (the resource's check validates them with it). */
export function apiKeyInputSchema(z: Zod) {
  return inputSchema(apiKeyInputs, z);
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
