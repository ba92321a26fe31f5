/**
 * A refresh of an untouched record changes nothing in the state: for every record
 * type, the inputs the engine keeps after read are the stored ones (no field the
 * program never declared, the declared types kept), and the outputs are the ones
 * create wrote. What the instance changes shows in read's outputs, and the diff
 * against the program's inputs says so; the inputs stand.
 *
 * The engine keeps a resource's stored inputs when read returns none
 * (pulumi/pulumi pkg/resource/deploy/step.go, RefreshStep), and uses read's when it
 * returns some; `inputsAfterRead` is that rule.
 */
import type * as pulumi from "@pulumi/pulumi";
import { BASIC_PROFILE_NAME, PUSH_INSTANCE_NAME } from "../../emulator/servicenow/seed";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { accessPolicyProvider } from "../../resources/servicenow/records/accessPolicy";
import { accessPolicyProfileLinkProvider } from "../../resources/servicenow/records/accessPolicyProfileLink";
import { basicAuthProfileProvider } from "../../resources/servicenow/records/basicAuthProfile";
import { pushConnectorProvider } from "../../resources/servicenow/records/pushConnector";
import { rateLimitRuleProvider } from "../../resources/servicenow/records/rateLimitRule";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { userRoleGrantProvider } from "../../resources/servicenow/records/userRoleGrant";
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { ADMIN_PASSWORD, ProviderDriver } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

type Props = Record<string, unknown>;

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD });

function inputsAfterRead(stored: Props, read: pulumi.dynamic.ReadResult): Props {
  return (read.inputs as Props | undefined) ?? stored;
}

function shipped(table: string, name: string): string {
  const rows = emu.store.query(table, (r) => r.name === name);
  expect(rows).toHaveLength(1);
  return rows[0].sys_id;
}

interface Case {
  type: string;
  provider: () => pulumi.dynamic.ResourceProvider;
  /** The program's inputs, as a resource class passes them (with its identity). */
  program: () => Props;
  /** The table, and a change someone makes there: the column, its new value, and the property that shows it. */
  table: string;
  drift: () => { column: string; value: string; prop: string; shown: unknown };
}

const identity = (type: string, name: string) => ({ identity: `keywire/test/${type}/${name}` });

const cases: Case[] = [
  {
    type: "InboundProfile",
    provider: () => inboundProfileProvider,
    program: () => ({ name: "steady profile", keyLocation: "query", ...identity("InboundProfile", "profile") }),
    table: "http_key_auth",
    drift: () => ({ column: "description", value: "changed there", prop: "description", shown: "changed there" }),
  },
  {
    type: "AccessPolicy (created)",
    provider: () => accessPolicyProvider,
    program: () => ({
      name: "steady events",
      apiPath: "sn_em_connector/em",
      applyAllMethods: true,
      applyAllResources: true,
      applyAllVersions: true,
      ...identity("AccessPolicy", "events"),
    }),
    table: "sys_api_access_policy",
    drift: () => ({ column: "active", value: "false", prop: "active", shown: false }),
  },
  {
    type: "AccessPolicy (adopted)",
    provider: () => accessPolicyProvider,
    program: () => ({ name: "Table GET API Access Policy", adopt: true, active: true, ...identity("AccessPolicy", "table-get") }),
    table: "sys_api_access_policy",
    drift: () => ({ column: "active", value: "false", prop: "active", shown: false }),
  },
  {
    type: "AccessPolicyProfileLink",
    provider: () => accessPolicyProfileLinkProvider,
    program: () => ({
      policy: shipped("sys_api_access_policy", "Table GET API Access Policy"),
      profile: shipped("http_key_auth", "steady linked profile"),
      ...identity("AccessPolicyProfileLink", "link"),
    }),
    table: "sys_auth_profile_mapping",
    drift: () => {
      const other = shipped("sys_api_access_policy", "Table POST API Access Policy");
      return { column: "api_access_policy", value: other, prop: "policy", shown: other };
    },
  },
  {
    type: "BasicAuthProfile",
    provider: () => basicAuthProfileProvider,
    program: () => ({ name: BASIC_PROFILE_NAME, adopt: true, onDestroy: "retain" }),
    table: "std_http_auth",
    drift: () => ({ column: "name", value: "renamed there", prop: "name", shown: "renamed there" }),
  },
  {
    type: "PushConnector (created)",
    provider: () => pushConnectorProvider,
    program: () => ({ name: "steady connector", source: "aws", ...identity("PushConnector", "created") }),
    table: "sn_em_connector_push_instance",
    drift: () => ({ column: "active", value: "false", prop: "active", shown: false }),
  },
  {
    type: "PushConnector (adopted)",
    provider: () => pushConnectorProvider,
    program: () => ({ name: PUSH_INSTANCE_NAME, adopt: true, onDestroy: "retain", ...identity("PushConnector", "adopted") }),
    table: "sn_em_connector_push_instance",
    drift: () => ({ column: "name", value: "renamed there", prop: "name", shown: "renamed there" }),
  },
  {
    type: "RateLimitRule",
    provider: () => rateLimitRuleProvider(),
    program: () => ({ name: "steady limit", user: "svc.steady", requestsPerHour: 3600, ...identity("RateLimitRule", "limit") }),
    table: "sys_rate_limit_rules",
    drift: () => ({ column: "max_requests_per_hour", value: "999999", prop: "requestsPerHour", shown: "999999" }),
  },
  {
    type: "ServiceNowUser",
    provider: () => serviceNowUserProvider,
    program: () => ({ userName: "svc.steady.user", firstName: "steady", ...identity("ServiceNowUser", "user") }),
    table: "sys_user",
    drift: () => ({ column: "active", value: "false", prop: "active", shown: false }),
  },
  {
    type: "UserRoleGrant",
    provider: () => userRoleGrantProvider,
    program: () => ({ user: "svc.steady", role: "itil", ...identity("UserRoleGrant", "grant") }),
    table: "sys_user_has_role",
    drift: () => {
      const other = shipped("sys_user_role", "evt_mgmt_integration");
      return { column: "role", value: other, prop: "role", shown: other };
    },
  },
  {
    type: "ApiKey",
    provider: () => apiKeyProvider,
    program: () => ({
      name: "steady key",
      user: "svc.steady",
      authScopes: ["useraccount"],
      expiresInDays: 90,
      rotation: { maxAgeDays: 60 },
      ...identity("ApiKey", "key"),
    }),
    table: "api_key",
    drift: () => ({ column: "expires", value: "2031-01-01 00:00:00", prop: "expires", shown: "2031-01-01 00:00:00" }),
  },
];

beforeEach(async () => {
  emu.setOptions({ tokenReadback: "input_display_value" });
  // What the records above name: a user, and a profile (linked to the shipped Table GET
  // policy, so a key's probe is admitted).
  await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.steady" });
  const profile = await new ProviderDriver(inboundProfileProvider, emu.url).create({ name: "steady linked profile", keyLocation: "header" });
  const policy = shipped("sys_api_access_policy", "Table GET API Access Policy");
  await new ProviderDriver(accessPolicyProfileLinkProvider, emu.url).create({ policy, profile: profile.id });
});

describe.each(cases)("$type", (c) => {
  test("read of the untouched record: the stored inputs and the outputs stay as they were", async () => {
    const driver = new ProviderDriver(c.provider(), emu.url);
    const { id, outs, inputs: stored } = await driver.create(c.program());
    const read = await driver.read(id, outs);
    expect(read.id).toBe(id);
    expect(inputsAfterRead(stored, read)).toEqual(stored);
    expect(read.props).toEqual(outs);
    // A second refresh reads the state the first one left: the same again.
    const again = await driver.read(id, read.props as Props);
    expect(inputsAfterRead(inputsAfterRead(stored, read), again)).toEqual(stored);
    expect(again.props).toEqual(outs);
  });

  test("a change on the instance shows in read's outputs and in the diff; the inputs stand", async () => {
    const driver = new ProviderDriver(c.provider(), emu.url);
    const program = c.program();
    const { id, outs, inputs: stored } = await driver.create(program);
    expect((await driver.diff(id, outs, program)).changes).toBe(false);
    const { column, value, prop, shown } = c.drift();
    emu.store.update(c.table, id, { [column]: value });
    const read = await driver.read(id, outs);
    expect((read.props as Props)[prop]).toEqual(shown);
    expect((read.props as { columns: Record<string, string> }).columns[column]).toBe(value);
    expect(inputsAfterRead(stored, read)).toEqual(stored);
    expect((await driver.diff(id, read.props as Props, program)).changes).toBe(true);
  });
});

test("the declared types stand: a rate limit's requestsPerHour stays a number, a key's expiry stays left to expiresInDays", async () => {
  const rules = new ProviderDriver(rateLimitRuleProvider(), emu.url);
  const rule = await rules.create({ name: "typed limit", user: "svc.steady", requestsPerHour: 3600 });
  expect(inputsAfterRead(rule.inputs, await rules.read(rule.id, rule.outs)).requestsPerHour).toBe(3600);

  const keys = new ProviderDriver(apiKeyProvider, emu.url);
  const key = await keys.create({ name: "typed key", user: "svc.steady", expiresInDays: 30 });
  const after = inputsAfterRead(key.inputs, await keys.read(key.id, key.outs));
  expect(after).not.toHaveProperty("expires");
  expect(after.expiresInDays).toBe(30);
  expect(after.generation).toBe(1);
  expect(after.issuedAt).toBe(key.inputs.issuedAt);
});
