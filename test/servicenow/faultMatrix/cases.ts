/**
 * The fault matrix: every ServiceNow record resource, through its provider,
 * under every fault the emulator can inject, for create, update and delete.
 * After each scenario the instance must hold exactly what the program declares:
 * the record once (create), with the new values (update), or not at all
 * (delete); no duplicate, no orphan, and an API key only ever with a proven token.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { EmulatorOptions, RunningEmulator } from "../../../emulator/servicenow";
import { accessPolicyProvider } from "../../../resources/servicenow/records/accessPolicy";
import { accessPolicyProfileLinkProvider } from "../../../resources/servicenow/records/accessPolicyProfileLink";
import { apiKeyProvider } from "../../../resources/servicenow/apiKey/apiKey";
import { basicAuthProfileProvider } from "../../../resources/servicenow/records/basicAuthProfile";
import { inboundProfileProvider } from "../../../resources/servicenow/records/inboundProfile";
import { pushConnectorProvider } from "../../../resources/servicenow/records/pushConnector";
import { rateLimitRuleProvider } from "../../../resources/servicenow/records/rateLimitRule";
import { serviceNowUserProvider } from "../../../resources/servicenow/records/user";
import { userRoleGrantProvider } from "../../../resources/servicenow/records/userRoleGrant";
import { ADMIN_PASSWORD, ProviderDriver } from "../../support/serviceNow";
import { lateWritesLanded, useServiceNowEmulator } from "../../support/useServiceNowEmulator";
import { FAULTS } from "../../support/faultCatalog";

export type Op = "create" | "update" | "delete";
type Row = Record<string, string>;

/** Short deadlines keep the late-commit cases quick; the retry policy is the real one. */
const FAST = { "servicenow:requestTimeoutSeconds": "1" };

interface ResourceCase {
  name: string;
  table: string;
  provider: () => pulumi.dynamic.ResourceProvider;
  /** Creates what the resource needs (fault-free) and returns its inputs. */
  setup(emu: RunningEmulator, url: string): Promise<Record<string, unknown>>;
  /** The rows that are this resource's record. */
  mine(row: Row, inputs: Record<string, unknown>): boolean;
  /** A change an update makes, and how the row shows it; absent when every field replaces. */
  update?: { inputs: Record<string, unknown>; shows(row: Row): boolean };
}

const user = (url: string, userName: string) => new ProviderDriver(serviceNowUserProvider, url).create({ userName });
const tableGetPolicy = (emu: RunningEmulator) => emu.store.query("sys_api_access_policy", (r) => r.name === "Table GET API Access Policy")[0].sys_id;

const CASES: ResourceCase[] = [
  {
    name: "InboundProfile",
    table: "http_key_auth",
    provider: () => inboundProfileProvider,
    setup: async () => ({ name: "matrix profile", keyLocation: "query" }),
    mine: (r) => r.name === "matrix profile",
    update: { inputs: { description: "changed" }, shows: (r) => r.description === "changed" },
  },
  {
    name: "AccessPolicy",
    table: "sys_api_access_policy",
    provider: () => accessPolicyProvider,
    setup: async () => ({
      name: "matrix policy",
      apiPath: "now/table",
      applyAllMethods: true,
      applyAllResources: true,
      applyAllVersions: true,
      applyAllTables: true,
    }),
    mine: (r) => r.name === "matrix policy",
    update: { inputs: { active: false }, shows: (r) => r.active === "false" },
  },
  {
    name: "AccessPolicyProfileLink",
    table: "sys_auth_profile_mapping",
    provider: () => accessPolicyProfileLinkProvider,
    setup: async (emu, url) => {
      const profile = await new ProviderDriver(inboundProfileProvider, url).create({ name: "linked", keyLocation: "header" });
      return { policy: tableGetPolicy(emu), profile: profile.id };
    },
    mine: (r, i) => r.inbound_auth_profile === i.profile,
  },
  {
    name: "BasicAuthProfile",
    table: "std_http_auth",
    provider: () => basicAuthProfileProvider,
    setup: async () => ({ name: "matrix basic" }),
    mine: (r) => r.name === "matrix basic" || r.name === "matrix basic 2",
    update: { inputs: { name: "matrix basic 2" }, shows: (r) => r.name === "matrix basic 2" },
  },
  {
    name: "ServiceNowUser",
    table: "sys_user",
    provider: () => serviceNowUserProvider,
    setup: async () => ({ userName: "matrix.user" }),
    mine: (r) => r.user_name === "matrix.user",
    update: { inputs: { firstName: "Changed" }, shows: (r) => r.first_name === "Changed" },
  },
  {
    name: "UserRoleGrant",
    table: "sys_user_has_role",
    provider: () => userRoleGrantProvider,
    setup: async (_emu, url) => {
      const u = await user(url, "matrix.grantee");
      return { user: u.id, role: "evt_mgmt_integration" };
    },
    mine: (r, i) => r.user === i.user,
  },
  {
    name: "PushConnector",
    table: "sn_em_connector_push_instance",
    provider: () => pushConnectorProvider,
    setup: async () => ({ name: "matrix connector", source: "aws" }),
    mine: (r) => r.name === "matrix connector",
    update: { inputs: { description: "changed" }, shows: (r) => r.description === "changed" },
  },
  {
    name: "RateLimitRule",
    table: "sys_rate_limit_rules",
    provider: () => rateLimitRuleProvider(),
    setup: async (_emu, url) => {
      const u = await user(url, "matrix.limited");
      return { name: "matrix limit", user: u.id, requestsPerHour: 100 };
    },
    mine: (r) => r.name === "matrix limit",
    update: { inputs: { requestsPerHour: 200 }, shows: (r) => r.max_requests_per_hour === "200" },
  },
  {
    name: "ApiKey",
    table: "api_key",
    provider: () => apiKeyProvider,
    setup: async (emu, url) => {
      const profile = await new ProviderDriver(inboundProfileProvider, url).create({ name: "key hdr", keyLocation: "header" });
      await new ProviderDriver(accessPolicyProfileLinkProvider, url).create({ policy: tableGetPolicy(emu), profile: profile.id });
      const u = await user(url, "matrix.key");
      return { name: "matrix key", user: u.id };
    },
    mine: () => true,
    update: { inputs: { description: "changed" }, shows: (r) => r.description === "changed" },
  },
];

const METHOD: Record<Op, string> = { create: "POST", update: "PATCH", delete: "DELETE" };

interface Outcome {
  survived: boolean;
  why?: string;
}

/** Runs one scenario on a freshly reset emulator and judges what the instance holds afterwards. */
async function runScenario(emu: RunningEmulator, c: ResourceCase, op: Op, fault: string): Promise<Outcome> {
  emu.reset();
  emu.setOptions({ tokenReadback: "input_display_value" });
  emu.setFaults({});
  const inputs = await c.setup(emu, emu.url);
  const drive = new ProviderDriver(c.provider(), emu.url, FAST);
  const rows = () => emu.store.query(c.table, (r) => c.mine(r, inputs));
  const others = () => emu.store.query(c.table, (r) => !c.mine(r, inputs)).length;
  let id = "";
  let outs: Record<string, unknown> = {};
  let declared = inputs;
  if (op !== "create") {
    ({ id, outs } = await drive.create(inputs));
    if (op === "update") declared = { ...inputs, ...c.update!.inputs };
  }
  const othersBefore = others();
  const faults = FAULTS[fault]({ methods: [METHOD[op]], table: c.table });
  emu.setFaults(faults);
  try {
    if (op === "create") ({ id, outs } = await drive.create(inputs));
    else if (op === "update") outs = await drive.update(id, outs, declared);
    else await drive.delete(id, outs);
  } catch (e) {
    return { survived: false, why: `the ${op} failed: ${(e as Error).message.slice(0, 300)}` };
  } finally {
    emu.setFaults({});
  }
  // A late write may still be in flight: wait it out before judging.
  await lateWritesLanded(emu);
  const mine = rows();
  if (others() !== othersBefore) return { survived: false, why: `${others() - othersBefore} unexpected ${c.table} record(s) appeared` };
  if (op === "delete") return mine.length === 0 ? { survived: true } : { survived: false, why: `${mine.length} record(s) left after delete` };
  if (mine.length !== 1) return { survived: false, why: `${mine.length} ${c.table} records instead of one` };
  if (mine[0].sys_id !== id) return { survived: false, why: "the record on the instance is not the one in the state" };
  if (op === "update" && !c.update!.shows(mine[0])) return { survived: false, why: "the update is not on the instance" };
  if (c.table === "api_key") {
    if (mine[0].active !== "true") return { survived: false, why: "the key is not active" };
    if (outs.token !== emu.tokenOf(id)) return { survived: false, why: "the stored token is not the key's token" };
  }
  return { survived: true };
}

/** The matrix as a table: one row per resource, one column per fault, "survived/tried" per cell. */
function formatMatrix(op: string, results: Array<{ resource: string; fault: string; outcome: Outcome }>): string {
  const faults = Object.keys(FAULTS);
  const resources = [...new Set(results.map((r) => r.resource))];
  const cell = (resource: string, fault: string) => {
    const r = results.filter((x) => x.resource === resource && x.fault === fault);
    return r.length === 0 ? "n/a" : `${r.filter((x) => x.outcome.survived).length}/${r.length}`;
  };
  const lines = [`| ${op} | ${faults.join(" | ")} |`, `|---|${faults.map(() => "---").join("|")}|`];
  for (const resource of resources) lines.push(`| ${resource} | ${faults.map((f) => cell(resource, f)).join(" | ")} |`);
  const survived = results.filter((r) => r.outcome.survived).length;
  lines.push(`fault matrix (${op}): ${results.length} tried, ${survived} survived`);
  return lines.join("\n");
}

/**
 * The matrix for one operation, as one test per resource and fault, printed as a
 * table when the file ends. One file per operation, so they run in parallel.
 */
export function describeMatrix(op: Op, variant: { label: string; options: EmulatorOptions } | undefined = undefined): void {
  jest.setTimeout(60_000);
  // Each scenario resets the emulator itself (runScenario), before it sets its fault.
  const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD, ...variant?.options }, { resetAfterEach: false });
  const results: Array<{ resource: string; fault: string; outcome: Outcome }> = [];
  afterAll(() => {
    process.stdout.write(`\n${formatMatrix(variant ? `${op}, ${variant.label}` : op, results)}\n`);
  });
  const cases = op === "update" ? CASES.filter((c) => c.update !== undefined) : CASES;
  const scenarios = cases.flatMap((c) => Object.keys(FAULTS).map((fault) => [c.name, fault, c] as const));
  test.each(scenarios)(`%s ${op} survives %s`, async (resource, fault, c) => {
    const outcome = await runScenario(emu, c, op, fault);
    results.push({ resource, fault, outcome });
    expect(outcome).toEqual({ survived: true });
  });
}
