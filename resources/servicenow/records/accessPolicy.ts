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
import * as pulumi from "@pulumi/pulumi";
import { AdoptionInputs, Inputs, RecordSpec, SERVICENOW_MODULE, withSecretConnection, recordIdentity } from "../engine/spec";
import type { EngineContext } from "../engine/runtime";
import type { SnRecord } from "../client/tableClient";
import { q } from "../client/encodedQuery";
import { HOLD_PREFIX, holdBefore, holdSysId } from "../engine/createIdentity";
import { recordProvider } from "../engine/recordEngine";
import { ReferencedResource, providerReference } from "../../core/providerReference";
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
  const shipped = await ctx.client.list("sys_api_access_policy", { query: q().in("name", [...SHIPPED_TABLE_POLICIES]).build(), fields: HOLD_FIELDS, limit: 10 });
  const activeNow = (name: string) => shipped.some((r) => r.name === name && r.active === "true");
  let before = { get: activeNow(SHIPPED_TABLE_POLICIES[0]), post: activeNow(SHIPPED_TABLE_POLICIES[1]) };
  if (!before.get || !before.post) {
    const own = (flags: { get: boolean; post: boolean }) => holdSysId(String(inputs.identity), ctx.connection.instanceUrl, String(inputs.name), flags);
    const other = (await listHolds(ctx)).map((h) => ({ id: h.sys_id, was: holdBefore(h.sys_id) })).find((h) => h.was && h.id !== own(h.was));
    if (other?.was) before = { get: before.get || other.was.get, post: before.post || other.was.post };
  }
  return holdSysId(inputs.identity, ctx.connection.instanceUrl, String(inputs.name), before);
}

const spec: RecordSpec = {
  typeName: "AccessPolicy",
  table: "sys_api_access_policy",
  fields: {
    name: { column: "name", kind: "string" },
    active: { column: "active", kind: "boolean", defaultValue: "true" },
    apiPath: { column: "api_path", kind: "string" },
    api: { column: "api", kind: "reference", lookup: { table: "sys_ws_definition", by: "name" } },
    httpMethod: { column: "http_method", kind: "string" },
    apiResource: { column: "api_resource", kind: "string" },
    version: { column: "version", kind: "string" },
    tables: { column: "api_tablename", kind: "list" },
    applyAllMethods: { column: "apply_all_methods", kind: "boolean", defaultValue: "false" },
    applyAllResources: { column: "apply_all_resources", kind: "boolean", defaultValue: "false" },
    applyAllVersions: { column: "apply_all_versions", kind: "boolean", defaultValue: "false" },
    applyAllTables: { column: "apply_all_tables", kind: "boolean", defaultValue: "false" },
    advertiseAllAuthSchemes: { column: "all_authn_scheme_authenticate_header", kind: "boolean", defaultValue: "false" },
  },
  naturalKey: ["name"],
  schema: (z) =>
    z.object({
      name: recordName(z),
      active: z.boolean().optional(),
      apiPath: z
        .string()
        .regex(/^[a-z0-9_]+(\/[a-z0-9_]+)*$/, 'must be an API path such as "now/table" (no leading slash)')
        .optional(),
      api: oneLine(z).optional(),
      httpMethod: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).optional(),
      apiResource: oneLine(z).optional(),
      version: oneLine(z).optional(),
      tables: z.array(z.string().regex(/^[a-z0-9_]+$/, "must be table names")).optional(),
      applyAllMethods: z.boolean().optional(),
      applyAllResources: z.boolean().optional(),
      applyAllVersions: z.boolean().optional(),
      applyAllTables: z.boolean().optional(),
      advertiseAllAuthSchemes: z.boolean().optional(),
      applyGlobal: z
        .literal(false, { message: "cannot be true: the instance never allows token auth on a global REST API policy" })
        .optional(),
      holdsShipped: z.boolean().optional(),
      heldBy: z.string().regex(/^[0-9a-f]{32}$/, "must be the sys_id of keywire's Table API policy").optional(),
    }),
  carriedInputs: ["holdsShipped", "heldBy"],
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
};

export const accessPolicyProvider = recordProvider(spec, providerReference("keywire/servicenow", "accessPolicyProvider"));

export interface AccessPolicyArgs extends AdoptionInputs {
  name: pulumi.Input<string>;
  active?: pulumi.Input<boolean>;
  /** REST API path, e.g. `now/table` or `sn_em_connector/em`. Required unless adopting. */
  apiPath?: pulumi.Input<string>;
  /** The REST API (sys_ws_definition) by name or sys_id, where the instance wants it. */
  api?: pulumi.Input<string>;
  httpMethod?: pulumi.Input<"GET" | "POST" | "PUT" | "PATCH" | "DELETE">;
  apiResource?: pulumi.Input<string>;
  version?: pulumi.Input<string>;
  tables?: pulumi.Input<pulumi.Input<string>[]>;
  applyAllMethods?: pulumi.Input<boolean>;
  applyAllResources?: pulumi.Input<boolean>;
  applyAllVersions?: pulumi.Input<boolean>;
  applyAllTables?: pulumi.Input<boolean>;
  /** "Advertise all auth schemes": only the WWW-Authenticate header; do not rely on it to admit anything. */
  advertiseAllAuthSchemes?: pulumi.Input<boolean>;
  /**
   * Dedicated mode: this policy of keywire's own keeps the shipped Table policies off while
   * it exists (a "hold"), recognised by every stack on the instance.
   */
  holdsShipped?: pulumi.Input<boolean>;
  /** A shipped Table policy turned off in dedicated mode: the sys_id of this stack's hold. */
  heldBy?: pulumi.Input<string>;
}

export class AccessPolicy extends ReferencedResource {
  declare readonly sysId: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly active: pulumi.Output<boolean>;
  declare readonly apiPath: pulumi.Output<string>;
  declare readonly recordUrl: pulumi.Output<string>;

  constructor(name: string, args: AccessPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    super(accessPolicyProvider, name, { sysId: undefined, recordUrl: undefined, ...withSecretConnection(args), ...recordIdentity("AccessPolicy", name) }, opts, SERVICENOW_MODULE, "AccessPolicy");
  }
}
