/**
 * ApiKeyVerification: the whole chain proven like the connector guide's curl check
 * and through the Event Management endpoint as SNS calls it, re-proven on refresh,
 * and each broken link named by id, with a message and, where a record tells, since when.
 */
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { apiKeyVerificationProvider } from "../../resources/servicenow/checks/apiKeyVerification";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { accessPolicyProfileLinkProvider } from "../../resources/servicenow/records/accessPolicyProfileLink";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { accessPolicyProvider } from "../../resources/servicenow/records/accessPolicy";
import { userRoleGrantProvider } from "../../resources/servicenow/records/userRoleGrant";
import { ADMIN_PASSWORD, ProviderDriver } from "../support/serviceNow";
import { addForeignEventPolicy } from "../support/foreignPolicy";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD, tokenReadback: "input_display_value" }, { resetAfterEach: false });

interface Chain {
  keyId: string;
  token: string;
  profileId: string;
  linkId: string;
  userId: string;
  grantId: string;
  policyId: string;
  eventPolicyId: string;
  eventLinkId: string;
  connectorId: string;
}

async function chain(): Promise<Chain> {
  emu.reset();
  const profile = await new ProviderDriver(inboundProfileProvider, emu.url).create({ name: "sns", keyLocation: "query" });
  const policy = emu.store.query("sys_api_access_policy", (r) => r.name === "Table GET API Access Policy")[0];
  const link = await new ProviderDriver(accessPolicyProfileLinkProvider, emu.url).create({ policy: policy.sys_id, profile: profile.id });
  const user = await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.events" });
  const grant = await new ProviderDriver(userRoleGrantProvider, emu.url).create({ user: "svc.events", role: "evt_mgmt_integration" });
  const eventPolicy = await new ProviderDriver(accessPolicyProvider, emu.url).create({
    name: "keywire events",
    apiPath: "sn_em_connector/em",
    applyAllMethods: true,
    applyAllResources: true,
    applyAllVersions: true,
  });
  const eventLink = await new ProviderDriver(accessPolicyProfileLinkProvider, emu.url).create({ policy: eventPolicy.id, profile: profile.id });
  const key = await new ProviderDriver(apiKeyProvider, emu.url).create({ name: "k", user: "svc.events", probe: { via: "query" } });
  const connector = emu.store.query("sn_em_connector_push_instance", () => true)[0];
  return {
    keyId: key.id,
    token: String(key.outs.token),
    profileId: profile.id,
    linkId: link.id,
    userId: user.id,
    grantId: grant.id,
    policyId: policy.sys_id,
    eventPolicyId: eventPolicy.id,
    eventLinkId: eventLink.id,
    connectorId: connector.sys_id,
  };
}

const inputsOf = (c: Chain) => ({
  token: c.token,
  keySysId: c.keyId,
  profileSysId: c.profileId,
  requiredRoles: ["evt_mgmt_integration"],
  probeTable: "incident",
  via: "query",
  event: { source: "aws", pushConnectorSysId: c.connectorId },
});

test("a sound chain verifies; a clean refresh is no drift", async () => {
  const c = await chain();
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  const created = await v.create(inputsOf(c));
  expect(created.outs.verified).toBe(true);
  const read = await v.read(created.id, created.outs);
  expect((await v.diff(created.id, read.props!, inputsOf(c))).changes).toBe(false);
});

const breaks: Array<[string, (c: Chain) => void, string, RegExp]> = [
  ["key deactivated", (c) => emu.store.update("api_key", c.keyId, { active: "false" }), "key.inactive", /key is inactive/],
  ["key expired", (c) => emu.store.update("api_key", c.keyId, { expires: "2001-01-01 00:00:00" }), "key.expired", /key expired at 2001-01-01/],
  ["key deleted", (c) => emu.store.delete("api_key", c.keyId), "key.missing", /no longer exists/],
  ["user deactivated", (c) => emu.store.update("sys_user", c.userId, { active: "false" }), "user.inactive", /svc\.events is inactive/],
  ["role revoked", (c) => emu.store.delete("sys_user_has_role", c.grantId), "user.roles", /missing the role evt_mgmt_integration/],
  ["profile deactivated", (c) => emu.store.update("http_key_auth", c.profileId, { active: "false" }), "profile.inactive", /profile "sns" is inactive/],
  [
    "profile switched to header",
    (c) => {
      const header = emu.store.query("sys_token_auth_parameter", (r) => r.type === "auth_header")[0];
      emu.store.update("http_key_auth", c.profileId, { auth_parameter: header.sys_id });
    },
    "profile.keyLocation",
    /expects the key in the header, but it is sent in the query parameter/,
  ],
  [
    "link deleted: the shipped policy outranks",
    (c) => emu.store.delete("sys_auth_profile_mapping", c.linkId),
    "link.table",
    /"Table GET API Access Policy" \(sys_id [0-9a-f]{32}\) outranks the others for the Table API \(GET incident\)/,
  ],
  // The Event Management API's own links: the Table API still accepts the key in each.
  [
    "a foreign, more specific Event Management policy",
    () => addForeignEventPolicy(emu),
    "link.event",
    /"Events: POST from the monitoring team" \(sys_id [0-9a-f]{32}\) outranks the others for the Event Management API \(POST sn_em_connector\/em\)/,
  ],
  [
    "the event policy's link deleted",
    (c) => emu.store.delete("sys_auth_profile_mapping", c.eventLinkId),
    "link.event",
    /"keywire events" .* does not admit keywire's inbound profile/,
  ],
  [
    "the event policy deactivated",
    (c) => emu.store.update("sys_api_access_policy", c.eventPolicyId, { active: "false" }),
    "policy.eventNone",
    /no active access policy applies to the Event Management API/,
  ],
  [
    "the push connector deactivated",
    (c) => emu.store.update("sn_em_connector_push_instance", c.connectorId, { active: "false" }),
    "endpoint.connectorInactive",
    /push connector ".*" is inactive/,
  ],
  [
    "the push connector deleted",
    (c) => emu.store.delete("sn_em_connector_push_instance", c.connectorId),
    "endpoint.connectorMissing",
    /push connector instance [0-9a-f]{32} that the endpoint names no longer exists/,
  ],
];

test.each(breaks)("%s: refresh reads verified false and names the link by id; update records it too", async (_label, breakIt, id, message) => {
  const c = await chain();
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  const created = await v.create(inputsOf(c));
  expect(created.outs.verified).toBe(true);
  breakIt(c);
  const read = await v.read(created.id, created.outs);
  expect(read.props!.verified).toBe(false);
  expect(read.props!.brokenLinkId).toBe(id);
  expect(String(read.props!.brokenLink)).toMatch(message);
  expect((await v.diff(created.id, read.props!, inputsOf(c))).changes).toBe(true);
  // An up records the broken chain in the state (verified: false) rather than keeping the last good outputs.
  const updated = await v.update(created.id, read.props!, inputsOf(c));
  expect(updated).toMatchObject({ verified: false, brokenLinkId: id });
});

test("a broken link that a record's change explains says since when; the foreign policy's own change time", async () => {
  const c = await chain();
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  const created = await v.create(inputsOf(c));
  const foreign = addForeignEventPolicy(emu).policy;
  const read = await v.read(created.id, created.outs);
  const policy = emu.store.get("sys_api_access_policy", foreign)!;
  expect(read.props!.brokenSince).toBe(policy.sys_updated_on);
  expect(String(read.props!.brokenLink)).toContain(foreign);
  // The same token still reads the Table API: only the event probe sees this break.
  expect(String(read.props!.probeSaw)).toMatch(/^HTTP (200 with ServiceNow's JSON result|403 .*authenticated, not authorized)/);
  expect(String(read.props!.eventProbeSaw)).toMatch(/^HTTP 401/);
  // Once the foreign policy admits keywire's profile, the chain is whole again.
  emu.store.insert("sys_auth_profile_mapping", { api_access_policy: foreign, inbound_auth_profile: c.profileId });
  const again = await v.read(created.id, read.props!);
  expect(again.props).toMatchObject({ verified: true, brokenLinkId: "", brokenLink: "", brokenSince: "" });
});

test("the event probe goes where SNS posts, and leaves one Clear event carrying its marker", async () => {
  const c = await chain();
  const before = emu.store.query("em_event", () => true).length;
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  const created = await v.create(inputsOf(c));
  expect(created.outs.verified).toBe(true);
  const events = emu.store.query("em_event", () => true);
  expect(events.length).toBe(before + 1);
  const e = events.find((r) => /keywire-delivery-check-verify-[0-9a-f]{24}/.test(r.additional_info))!;
  expect(e.severity).toBe("0");
  expect(created.outs.eventProbeSaw).toBe("HTTP 200 with Event Management's JSON result; its event reached em_event (severity 0)");
  const log = emu.store.query("sn_em_connector_push_log", () => true);
  expect(log).toEqual([]);
});

test("without the evt_mgmt_integration role required, the event probe's 403 still names the missing role", async () => {
  const c = await chain();
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  const created = await v.create({ ...inputsOf(c), requiredRoles: [] });
  emu.store.delete("sys_user_has_role", c.grantId);
  const read = await v.read(created.id, created.outs);
  expect(read.props).toMatchObject({ verified: false, brokenLinkId: "user.roles" });
  expect(String(read.props!.eventProbeSaw)).toMatch(/^HTTP 403/);
});

test("a stack without an event target is proven through the Table API only, as before", async () => {
  const c = await chain();
  const { event: _event, ...tableOnly } = inputsOf(c);
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  const created = await v.create(tableOnly);
  expect(created.outs).toMatchObject({ verified: true, eventProbeSaw: "" });
});

test("with Basic Auth Restriction on, the diagnosis says the deploying identity is refused and why", async () => {
  const c = await chain();
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  const created = await v.create(inputsOf(c));
  emu.store.update("api_key", c.keyId, { active: "false" });
  emu.setOptions({ basicAuthRestriction: true });
  try {
    await expect(v.read(created.id, created.outs)).rejects.toThrow(/Basic Auth Restriction/);
  } finally {
    emu.setOptions({ basicAuthRestriction: false });
  }
});

test("the Event Management plugin inactive: the endpoint is no resource, and the link says to activate the plugin", async () => {
  const c = await chain();
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  const created = await v.create(inputsOf(c));
  emu.setOptions({ eventManagement: "inactive" });
  try {
    const read = await v.read(created.id, created.outs);
    expect(read.props).toMatchObject({ verified: false, brokenLinkId: "endpoint.eventManagement" });
    expect(String(read.props!.brokenLink)).toMatch(/activate the Event Management plugin/);
    expect(String(read.props!.eventProbeSaw)).toMatch(/^HTTP 400 "Requested URI does not represent any resource"/);
  } finally {
    emu.setOptions({ eventManagement: "active" });
  }
});

test("the delivered probe creates no alert", async () => {
  const c = await chain();
  const alerts = emu.store.query("em_alert", () => true).length;
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  expect((await v.create(inputsOf(c))).outs.verified).toBe(true);
  expect(emu.store.query("em_alert", () => true)).toHaveLength(alerts);
});
