/**
 * ApiKeyVerification: the whole chain proven like the connector guide's curl
 * check, re-proven on refresh, and each broken link named.
 */
import { RunningEmulator } from "../../emulator/servicenow";
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { apiKeyVerificationProvider } from "../../resources/servicenow/checks/apiKeyVerification";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { accessPolicyProfileLinkProvider } from "../../resources/servicenow/records/accessPolicyProfileLink";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { userRoleGrantProvider } from "../../resources/servicenow/records/userRoleGrant";
import { ProviderDriver, startEmulator } from "../support/serviceNow";

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ tokenReadback: "input_display_value" });
});
afterAll(async () => {
  await emu.stop();
});

interface Chain {
  keyId: string;
  token: string;
  profileId: string;
  linkId: string;
  userId: string;
  grantId: string;
  policyId: string;
}

async function chain(): Promise<Chain> {
  emu.reset();
  const profile = await new ProviderDriver(inboundProfileProvider, emu.url).create({ name: "sns", keyLocation: "query" });
  const policy = emu.store.query("sys_api_access_policy", (r) => r.name === "Table GET API Access Policy")[0];
  const link = await new ProviderDriver(accessPolicyProfileLinkProvider, emu.url).create({ policy: policy.sys_id, profile: profile.id });
  const user = await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.events" });
  const grant = await new ProviderDriver(userRoleGrantProvider, emu.url).create({ user: "svc.events", role: "evt_mgmt_integration" });
  const key = await new ProviderDriver(apiKeyProvider, emu.url).create({ name: "k", user: "svc.events", probe: { via: "query" } });
  return { keyId: key.id, token: String(key.outs.token), profileId: profile.id, linkId: link.id, userId: user.id, grantId: grant.id, policyId: policy.sys_id };
}

const inputsOf = (c: Chain) => ({
  token: c.token,
  keySysId: c.keyId,
  profileSysId: c.profileId,
  requiredRoles: ["evt_mgmt_integration"],
  probeTable: "incident",
  via: "query",
});

test("a sound chain verifies; a clean refresh is no drift", async () => {
  const c = await chain();
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  const created = await v.create(inputsOf(c));
  expect(created.outs.verified).toBe(true);
  const read = await v.read(created.id, created.outs);
  expect((await v.diff(created.id, read.props!, inputsOf(c))).changes).toBe(false);
});

const breaks: Array<[string, (c: Chain) => void, RegExp]> = [
  ["key deactivated", (c) => emu.store.update("api_key", c.keyId, { active: "false" }), /key is inactive/],
  ["key expired", (c) => emu.store.update("api_key", c.keyId, { expires: "2001-01-01 00:00:00" }), /key expired at 2001-01-01/],
  ["key deleted", (c) => emu.store.delete("api_key", c.keyId), /no longer exists/],
  ["user deactivated", (c) => emu.store.update("sys_user", c.userId, { active: "false" }), /svc\.events is inactive/],
  ["role revoked", (c) => emu.store.delete("sys_user_has_role", c.grantId), /missing the role evt_mgmt_integration/],
  ["profile deactivated", (c) => emu.store.update("http_key_auth", c.profileId, { active: "false" }), /profile "sns" is inactive/],
  [
    "profile switched to header",
    (c) => {
      const header = emu.store.query("sys_token_auth_parameter", (r) => r.type === "auth_header")[0];
      emu.store.update("http_key_auth", c.profileId, { auth_parameter: header.sys_id });
    },
    /expects the key in the header, but it is sent in the query parameter/,
  ],
  ["link deleted: the shipped policy outranks", (c) => emu.store.delete("sys_auth_profile_mapping", c.linkId), /"Table GET API Access Policy" outranks the others for incident/],
];

test.each(breaks)("%s: refresh reads verified false and names the link; update fails with it", async (_label, breakIt, message) => {
  const c = await chain();
  const v = new ProviderDriver(apiKeyVerificationProvider, emu.url);
  const created = await v.create(inputsOf(c));
  breakIt(c);
  const read = await v.read(created.id, created.outs);
  expect(read.props!.verified).toBe(false);
  expect(String(read.props!.brokenLink)).toMatch(message);
  expect((await v.diff(created.id, read.props!, inputsOf(c))).changes).toBe(true);
  await expect(v.update(created.id, read.props!, inputsOf(c))).rejects.toThrow(message);
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
