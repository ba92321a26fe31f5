/**
 * Preflight: what must be true on the instance before keywire changes anything.
 *
 * Every other ServiceNow resource of a stack depends on it, so when a check fails
 * nothing is created: no half-built chain to clean up. All checks run and every
 * failure is reported at once, each with what to do. A refresh runs them again, so
 * a plugin deactivated later shows as drift.
 */
import * as pulumi from "@pulumi/pulumi";
import { q } from "../client/encodedQuery";
import type { SnRecord } from "../client/tableClient";
import { KeywireError } from "../../core/errors";
import { AdoptionInputs, SERVICENOW_MODULE, withSecretConnection } from "../engine/spec";
import type { ConnectionArgs } from "../client/connection";
import { containsUnknown } from "../../core/unknown";
import { EngineContext, Runtime, createRuntime } from "../engine/runtime";
import { SCRIPT_MESSAGE, isScriptValue } from "../engine/inputRules";
import { NamedProvider, ReferencedResource, providerReference, referencedProvider } from "../../core/providerLoading/providerReference";

export const TOKEN_AUTH_PLUGIN = "com.glide.tokenbased_auth";
/** Tables keywire writes; the deploying identity must be allowed to read and write them. */
export const SECURITY_TABLES = ["api_key", "http_key_auth", "sys_api_access_policy", "sys_auth_profile_mapping"] as const;

interface PreflightInputs {
  /** The instance to check, instead of the stack's `servicenow:*` settings. */
  connection?: ConnectionArgs;
  /** Push connector instance that must exist (when keywire does not create one). */
  pushConnectorName?: string;
  /** Push connector definition source that must exist (when keywire creates the connector). */
  pushConnectorSource?: string;
  /** Columns that must exist, as `table.column` (e.g. the rate-limit column). */
  requiredColumns?: string[];
  /** Tables the deploying identity must be able to read (user and role tables when keywire creates the user). */
  extraTables?: string[];
}

interface PreflightOutputs extends PreflightInputs {
  passed: boolean;
  problems: string[];
}

function status(e: unknown): number | undefined {
  return typeof e === "object" && e !== null && typeof (e as { status?: unknown }).status === "number" ? (e as { status: number }).status : undefined;
}

async function pluginProblem(ctx: EngineContext): Promise<string | undefined> {
  try {
    const rows = await ctx.client.list("sys_plugins", { query: q().eq("id", TOKEN_AUTH_PLUGIN).build(), fields: ["id", "active"], limit: 1 });
    if (rows.length === 0) {
      return `the plugin ${TOKEN_AUTH_PLUGIN} (API Key and HMAC Authentication) is not installed: it ships from the Washington DC release on; install it from System Applications > All Available Applications`;
    }
    if (rows[0].active !== "active" && rows[0].active !== "true") {
      return `the plugin ${TOKEN_AUTH_PLUGIN} is installed but inactive: activate it (System Definition > Plugins)`;
    }
    return undefined;
  } catch (e) {
    // Some instances refuse queries on sys_plugins; the api_key table answers the same question.
    if (status(e) !== 403) throw e;
    try {
      await ctx.client.list("api_key", { fields: ["sys_id"], limit: 1 });
      return undefined;
    } catch (inner) {
      if (status(inner) === 400) return `the table api_key does not exist: the plugin ${TOKEN_AUTH_PLUGIN} is not active; activate it`;
      // Not allowed to look: the table checks below report the missing roles.
      if (status(inner) === 403) return undefined;
      throw inner;
    }
  }
}

async function tableProblem(ctx: EngineContext, table: string): Promise<string | undefined> {
  try {
    await ctx.client.list(table, { fields: ["sys_id"], limit: 1 });
    return undefined;
  } catch (e) {
    const s = status(e);
    if (s === 403) {
      return `the deploying identity may not read ${table}: give it admin, or api_service_admin and adaptive_auth_policy_admin (and user_admin to create the integration user)`;
    }
    if (s === 400 && table === "api_key") return undefined; // reported as the plugin problem
    if (s === 400) return `the table ${table} does not exist on this instance`;
    throw e;
  }
}

async function runPreflight(ctx: EngineContext, inputs: PreflightInputs): Promise<string[]> {
  const problems: string[] = [];
  const plugin = await pluginProblem(ctx);
  if (plugin) problems.push(plugin);
  for (const table of [...SECURITY_TABLES, ...(inputs.extraTables ?? [])]) {
    const p = await tableProblem(ctx, table);
    if (p) problems.push(p);
  }
  // A refusal of one look-up is itself a finding; keep checking the rest.
  const attempt = async (check: () => Promise<void>): Promise<void> => {
    try {
      await check();
    } catch (e) {
      const s = status(e);
      if (s !== 403 && s !== 400) throw e;
      problems.push((e as Error).message);
    }
  };
  await attempt(() => connectorAndColumnChecks(ctx, inputs, problems));
  return problems;
}

/**
 * Rows of an Event Management connector table, or undefined when the deploying
 * identity may not read it (a problem naming the role, not the raw refusal).
 */
async function connectorRows(
  ctx: EngineContext,
  problems: string[],
  table: string,
  opts: Parameters<EngineContext["client"]["list"]>[1],
): Promise<SnRecord[] | undefined> {
  try {
    return await ctx.client.list(table, opts);
  } catch (e) {
    if (status(e) !== 403) throw e;
    problems.push(`the deploying identity may not read ${table}: give it admin, or evt_mgmt_admin (Event Management administrator)`);
    return undefined;
  }
}

async function connectorAndColumnChecks(ctx: EngineContext, inputs: PreflightInputs, problems: string[]): Promise<void> {
  if (inputs.pushConnectorName) {
    const rows = await connectorRows(ctx, problems, "sn_em_connector_push_instance", {
      query: q().eq("name", inputs.pushConnectorName).build(),
      fields: ["sys_id", "active"],
      limit: 2,
    });
    if (!rows) {
      // Reported by connectorRows.
    } else if (rows.length === 0) {
      problems.push(
        `no push connector instance is named "${inputs.pushConnectorName}": create it in Event Management > Connectors, or set keywire:pushConnector.create true`,
      );
    } else if (rows.length > 1) {
      problems.push(`more than one push connector instance is named "${inputs.pushConnectorName}": rename one`);
    } else if (rows[0].active !== "true") {
      problems.push(`the push connector instance "${inputs.pushConnectorName}" is inactive: activate it`);
    }
  }
  if (inputs.pushConnectorSource) {
    const rows = await connectorRows(ctx, problems, "sn_em_connector_listener", {
      query: q().eq("source", inputs.pushConnectorSource).build(),
      fields: ["sys_id"],
      limit: 2,
    });
    if (rows && rows.length !== 1)
      problems.push(`expected one push connector definition with source "${inputs.pushConnectorSource}", found ${rows.length}: is Event Management installed?`);
  }
  for (const tc of inputs.requiredColumns ?? []) {
    const [table, column] = tc.split(".", 2);
    const rows = await ctx.client.list("sys_dictionary", {
      query: q().eq("name", table).and().eq("element", column).build(),
      fields: ["element"],
      limit: 1,
    });
    if (rows.length === 0) {
      const ints = await ctx.client.list("sys_dictionary", {
        query: q().eq("name", table).and().eq("internal_type", "integer").build(),
        fields: ["element"],
      });
      const names = ints.map((r) => r.element).filter(Boolean);
      problems.push(
        `the column ${table}.${column} does not exist${names.length ? ` (integer columns there: ${names.join(", ")})` : ""}: set the right column name`,
      );
    }
  }
}

function failure(problems: string[]): KeywireError {
  return new KeywireError({
    platform: "servicenow",
    operation: "preflight",
    reason: `${problems.length} problem${problems.length === 1 ? "" : "s"} must be fixed before keywire changes anything:\n  - ${problems.join("\n  - ")}`,
    hint: "Nothing was created. Fix them and run pulumi up again.",
  });
}

const TABLE = /^[a-z0-9_]{1,80}$/;
const TABLE_COLUMN = /^[a-z0-9_]{1,80}\.[a-z0-9_]{1,80}$/;

/** Every input becomes part of a query or a table path: refused before any call when it cannot be one. */
function preflightFailures(news: PreflightInputs): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  for (const prop of ["pushConnectorName", "pushConnectorSource"] as const) {
    if (isScriptValue(news[prop])) failures.push({ property: prop, reason: `Preflight.${prop}: ${SCRIPT_MESSAGE}` });
  }
  const allMatch = (values: unknown, pattern: RegExp): boolean =>
    values === undefined || (Array.isArray(values) && values.every((v) => typeof v === "string" && pattern.test(v)));
  if (!allMatch(news.requiredColumns, TABLE_COLUMN)) {
    failures.push({
      property: "requiredColumns",
      reason: "Preflight.requiredColumns: must be table.column names, such as sys_rate_limit_rules.max_requests_per_hour",
    });
  }
  if (!allMatch(news.extraTables, TABLE)) {
    failures.push({ property: "extraTables", reason: "Preflight.extraTables: must be table names, such as sys_user" });
  }
  // Values from other resources are unknown during a preview: checked once known.
  return failures.filter((f) => !containsUnknown(news[f.property as keyof PreflightInputs]));
}

function checksProvider(): NamedProvider {
  let runtime: Runtime = createRuntime(undefined);
  return {
    typeName: "Preflight",
    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      runtime = createRuntime(req.config);
    },
    async check(_olds: PreflightInputs, news: PreflightInputs): Promise<pulumi.dynamic.CheckResult> {
      const failures = preflightFailures(news);
      return failures.length > 0 ? { inputs: news, failures } : { inputs: news };
    },
    async diff(_id: string, olds: PreflightOutputs, news: PreflightInputs): Promise<pulumi.dynamic.DiffResult> {
      const keys: Array<keyof PreflightInputs> = ["pushConnectorName", "pushConnectorSource", "requiredColumns", "extraTables", "connection"];
      const changed = olds.passed !== true || keys.some((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
      return { changes: changed };
    },
    async create(inputs: PreflightInputs): Promise<pulumi.dynamic.CreateResult> {
      const problems = await runPreflight(runtime.context(inputs.connection), inputs);
      if (problems.length > 0) throw failure(problems);
      return { id: "preflight", outs: { ...inputs, passed: true, problems: [] } };
    },
    async read(id: string, props: PreflightOutputs): Promise<pulumi.dynamic.ReadResult> {
      const problems = await runPreflight(runtime.context(props.connection), props);
      return { id, props: { ...props, passed: problems.length === 0, problems } };
    },
    async update(_id: string, _olds: PreflightOutputs, news: PreflightInputs): Promise<pulumi.dynamic.UpdateResult> {
      const problems = await runPreflight(runtime.context(news.connection), news);
      if (problems.length > 0) throw failure(problems);
      return { outs: { ...news, passed: true, problems: [] } };
    },
    async delete(): Promise<void> {
      // Checks own nothing.
    },
  };
}

export const preflightProvider = referencedProvider(checksProvider(), providerReference("keywire/servicenow", "preflightProvider"));

export interface PreflightArgs {
  connection?: AdoptionInputs["connection"];
  pushConnectorName?: pulumi.Input<string>;
  pushConnectorSource?: pulumi.Input<string>;
  requiredColumns?: pulumi.Input<pulumi.Input<string>[]>;
  extraTables?: pulumi.Input<pulumi.Input<string>[]>;
}

export class Preflight extends ReferencedResource {
  declare readonly passed: pulumi.Output<boolean>;
  declare readonly problems: pulumi.Output<string[]>;

  constructor(name: string, args: PreflightArgs, opts?: pulumi.CustomResourceOptions) {
    super(preflightProvider, name, { passed: undefined, problems: undefined, ...withSecretConnection(args) }, opts, SERVICENOW_MODULE, "Preflight");
  }
}
