/**
 * AccessPolicy: a REST API access policy (`sys_api_access_policy`).
 *
 * The instance judges every API-key request by the single most specific active
 * policy for it, and a policy admits only the inbound profiles linked to it. So
 * there are two ways to let a key through:
 *
 * - take over the shipped "Table GET/POST API Access Policy" (`adopt: true` with its
 *   name) and link the API-key profile to it; destroy then restores what keywire
 *   changed and never deletes the shipped record;
 * - create a policy of keywire's own (e.g. one for all of the Table API, or one for
 *   the Event Management inbound API), deleted on destroy.
 *
 * A global policy can never admit token auth, so `applyGlobal` is refused.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Inputs } from "../engine/spec";
import { RecordArgs, column, defineRecord, setting } from "../engine/declaration";
import type { EngineContext } from "../engine/runtime";
import type { SnRecord } from "../client/tableClient";
import { q } from "../client/encodedQuery";
import { HOLD_PREFIX, holdBefore, holdSysId } from "../engine/createIdentity";
import { recordProvider } from "../engine/recordEngine";
import { ownedRecordInputs, recordResource } from "../engine/recordResource";
import { providerReference } from "../../core/providerLoading/providerReference";
import { oneLine, recordName } from "../engine/inputRules";

export const TABLE_API_PATH = "now/table";
export const EVENT_MANAGEMENT_API_PATH = "sn_em_connector/em";
export const SHIPPED_TABLE_POLICIES = ["Table GET API Access Policy", "Table POST API Access Policy"] as const;

/** The fields a hold and a shipped policy's restore read. */
const HOLD_FIELDS = ["sys_id", "name", "active"];

/** keywire's holds on the instance (every stack's), by the sys_id prefix they carry. */
async function listHolds(ctx: EngineContext): Promise<SnRecord[]> {
  return ctx.client.list("sys_api_access_policy", { query: q().startsWith("sys_id", HOLD_PREFIX).build(), fields: HOLD_FIELDS, limit: 1000 });
}

/**
 * A hold's sys_id, made when the hold is created: what the shipped policies were before
 * keywire. The first hold reads them as they are; a later one, finding them off and
 * another stack's hold there, carries that hold's record of them on.
 */
async function holdCreation(ctx: EngineContext, inputs: Inputs): Promise<string | undefined> {
  if (inputs.holdsShipped !== true || typeof inputs.identity !== "string") return undefined;
  const shipped = await ctx.client.list("sys_api_access_policy", {
    query: q()
      .in("name", [...SHIPPED_TABLE_POLICIES])
      .build(),
    fields: HOLD_FIELDS,
    limit: 10,
  });
  const activeNow = (name: string) => shipped.some((r) => r.name === name && r.active === "true");
  let before = { get: activeNow(SHIPPED_TABLE_POLICIES[0]), post: activeNow(SHIPPED_TABLE_POLICIES[1]) };
  if (!before.get || !before.post) {
    const own = (flags: { get: boolean; post: boolean }) => holdSysId(String(inputs.identity), ctx.connection.instanceUrl, String(inputs.name), flags);
    const other = (await listHolds(ctx)).map((h) => ({ id: h.sys_id, was: holdBefore(h.sys_id) })).find((h) => h.was && h.id !== own(h.was));
    if (other?.was) before = { get: before.get || other.was.get, post: before.post || other.was.post };
  }
  return holdSysId(inputs.identity, ctx.connection.instanceUrl, String(inputs.name), before);
}

export const accessPolicyRecord = defineRecord({
  typeName: "AccessPolicy",
  table: "sys_api_access_policy",
  naturalKey: ["name"],
  inputs: {
    /** 1–100 characters, one line; for adoption, the shipped policy's exact name. The instance makes it unique. */
    name: column({ column: "name", kind: "string" }, (z) => recordName(z)),
    /** An inactive policy judges nothing. */
    active: column({ column: "active", kind: "boolean", defaultValue: "true" }, (z) => z.boolean().optional()),
    /** The REST API path without a leading slash, e.g. `now/table` or `sn_em_connector/em`. Required unless adopting. */
    apiPath: column({ column: "api_path", kind: "string" }, (z) =>
      z
        .string()
        .regex(/^[a-z0-9_]+(\/[a-z0-9_]+)*$/, 'must be an API path such as "now/table" (no leading slash)')
        .optional(),
    ),
    /**
     * The REST API (`sys_ws_definition`) by name or sys_id, on instances that want it filled
     * (what real instances expect here is only partly known).
     */
    api: column({ column: "api", kind: "reference", lookup: { table: "sys_ws_definition", by: "name" } }, (z) => oneLine(z).optional()),
    /** The method the policy is for. Required unless `applyAllMethods` is true or the policy is adopted. */
    httpMethod: column({ column: "http_method", kind: "string" }, (z) => z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).optional()),
    /** The API resource, e.g. `/now/table/{tableName}`. */
    apiResource: column({ column: "api_resource", kind: "string" }, (z) => oneLine(z).optional()),
    /** The API version. */
    version: column({ column: "version", kind: "string" }, (z) => oneLine(z).optional()),
    /** Table names; order does not matter. */
    tables: column({ column: "api_tablename", kind: "list" }, (z) => z.array(z.string().regex(/^[a-z0-9_]+$/, "must be table names")).optional()),
    /** The policy is for every method. */
    applyAllMethods: column({ column: "apply_all_methods", kind: "boolean", defaultValue: "false" }, (z) => z.boolean().optional()),
    /** The policy is for every resource of the API. */
    applyAllResources: column({ column: "apply_all_resources", kind: "boolean", defaultValue: "false" }, (z) => z.boolean().optional()),
    /** The policy is for every version of the API. */
    applyAllVersions: column({ column: "apply_all_versions", kind: "boolean", defaultValue: "false" }, (z) => z.boolean().optional()),
    /** The policy is for every table. */
    applyAllTables: column({ column: "apply_all_tables", kind: "boolean", defaultValue: "false" }, (z) => z.boolean().optional()),
    /**
     * "Advertise all auth schemes". The platform documents it as controlling only the
     * `WWW-Authenticate` header; the connector guide claims it also lets other schemes
     * through. The sources conflict, so do not rely on it to admit anything.
     */
    advertiseAllAuthSchemes: column({ column: "all_authn_scheme_authenticate_header", kind: "boolean", defaultValue: "false" }, (z) => z.boolean().optional()),
    /** Refused when true: the instance never allows token auth on a global REST API policy. */
    applyGlobal: setting((z) => z.literal(false, { message: "cannot be true: the instance never allows token auth on a global REST API policy" }).optional()),
    /**
     * Dedicated mode: this policy of keywire's own is the stack's *hold* on the shipped Table
     * GET/POST policies, which stay off while it exists, recognised by every stack on the instance.
     */
    holdsShipped: setting((z) => z.boolean().optional(), { carried: true }),
    /** On a shipped Table policy turned off in dedicated mode: the sys_id of the stack's hold. */
    heldBy: setting(
      (z) =>
        z
          .string()
          .regex(/^[0-9a-f]{32}$/, "must be the sys_id of keywire's Table API policy")
          .optional(),
      {
        carried: true,
      },
    ),
  },
  hooks: {
    async prepareCreate(ctx, inputs, columns) {
      const sysId = await holdCreation(ctx, inputs);
      return sysId ? { columns, sysId } : { columns };
    },

    /**
     * A shipped Table policy that dedicated mode turned off stays off while another
     * stack's hold remains; the last stack to go gives it back what it was before the
     * first hold, which its own hold's sys_id records.
     */
    async restoreColumns(ctx, props) {
      const original = props.adoption?.original ?? {};
      const heldBy = typeof props.heldBy === "string" ? props.heldBy : undefined;
      const before = heldBy ? holdBefore(heldBy) : undefined;
      if (!heldBy || !before) return original;
      const others = (await listHolds(ctx)).filter((h) => h.sys_id !== heldBy && h.active === "true");
      if (others.length > 0) return undefined;
      const name = props.columns?.name ?? "";
      const wasActive = name === SHIPPED_TABLE_POLICIES[0] ? before.get : name === SHIPPED_TABLE_POLICIES[1] ? before.post : undefined;
      return wasActive === undefined ? original : { ...original, active: wasActive ? "true" : "false" };
    },

    validate(inputs) {
      if (!inputs.adopt && !inputs.apiPath) {
        return [{ property: "apiPath", reason: "AccessPolicy.apiPath: is required for a policy keywire creates" }];
      }
      if (inputs.httpMethod === undefined && inputs.applyAllMethods !== true && !inputs.adopt) {
        return [{ property: "httpMethod", reason: "AccessPolicy.httpMethod: give a method, or set applyAllMethods: true" }];
      }
      return [];
    },
  },
});

export const accessPolicyProvider = recordProvider(accessPolicyRecord, providerReference("keywire/servicenow", "accessPolicyProvider"));

export type AccessPolicyArgs = RecordArgs<typeof accessPolicyRecord>;

export class AccessPolicy extends recordResource(accessPolicyRecord) {
  constructor(name: string, args: AccessPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    super(accessPolicyProvider, name, ownedRecordInputs(accessPolicyRecord, name, args), opts);
  }
}
