/**
 * Bad input is refused by the providers' check, before any HTTP call: every
 * provider points at a stub that records requests, and each case asserts both
 * the failure (naming Type.property and what to do) and that the stub heard
 * nothing.
 */
import type * as pulumi from "@pulumi/pulumi";
import { HttpStub, sendJson, startHttpStub } from "../support/httpStub";
import { ProviderDriver } from "../support/serviceNow";
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { accessPolicyProvider } from "../../resources/servicenow/records/accessPolicy";
import { basicAuthProfileProvider } from "../../resources/servicenow/records/basicAuthProfile";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { pushConnectorProvider } from "../../resources/servicenow/records/pushConnector";
import { rateLimitRuleProvider } from "../../resources/servicenow/records/rateLimitRule";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { userRoleGrantProvider } from "../../resources/servicenow/records/userRoleGrant";
import { preflightProvider } from "../../resources/servicenow/checks/preflight";
import { formatGlideDateTime } from "../../resources/servicenow/engine/glideDateTime";

let stub: HttpStub;
beforeAll(async () => {
  // Any request is a failure of the property under test; answer as an empty table would.
  stub = await startHttpStub((_req, res) => sendJson(res, 200, { result: [] }));
});
afterAll(async () => {
  await stub.stop();
});
beforeEach(() => {
  stub.requests.length = 0;
});

type Props = Record<string, unknown>;

async function failures(provider: pulumi.dynamic.ResourceProvider, inputs: Props): Promise<pulumi.dynamic.CheckFailure[]> {
  const res = await new ProviderDriver(provider, stub.url).check(inputs);
  return res.failures ?? [];
}

function reasonFor(found: pulumi.dynamic.CheckFailure[], property: string): string {
  const f = found.find((x) => x.property === property);
  if (!f) throw new Error(`no failure for ${property}; got ${JSON.stringify(found)}`);
  return f.reason;
}

const key = { name: "keywire key", user: "svc.key", authScopes: ["useraccount"], expiresInDays: 90 };
const inDays = (days: number) => formatGlideDateTime(new Date(Date.now() + days * 24 * 60 * 60 * 1000));
const SECRET_TOKEN_NUMBER = 918273645546372;

describe("every case is refused in check, naming the property, with no request made", () => {
  const cases: Array<[string, pulumi.dynamic.ResourceProvider, Props, string, RegExp]> = [
    // Wrong types read as wrong types.
    [
      "ApiKey: a number given as text",
      apiKeyProvider,
      { ...key, expiresInDays: "90" },
      "expiresInDays",
      /^ApiKey\.expiresInDays: must be a number \(got string "90"\)/,
    ],
    ["ApiKey: a boolean given as a word", apiKeyProvider, { ...key, active: "yes" }, "active", /^ApiKey\.active: must be a boolean \(got string "yes"\)/],
    [
      "ApiKey: a token of the wrong type is not repeated",
      apiKeyProvider,
      { ...key, token: SECRET_TOKEN_NUMBER },
      "token",
      /^ApiKey\.token: must be a string \(got a number\)$/,
    ],
    // Rotation: never due when the key is made.
    [
      "ApiKey: a 30/30 key",
      apiKeyProvider,
      { ...key, expiresInDays: 30, rotation: { rotateBeforeExpiryDays: 30 } },
      "rotation.rotateBeforeExpiryDays",
      /^ApiKey\.rotation\.rotateBeforeExpiryDays: must be less than expiresInDays \(30\)/,
    ],
    [
      "ApiKey: rotation before expiry longer than the key lives",
      apiKeyProvider,
      { ...key, expiresInDays: 30, rotation: { rotateBeforeExpiryDays: 60 } },
      "rotation.rotateBeforeExpiryDays",
      /less than expiresInDays/,
    ],
    [
      "ApiKey: a maximum age past the expiry",
      apiKeyProvider,
      { ...key, expiresInDays: 30, rotation: { maxAgeDays: 31 } },
      "rotation.maxAgeDays",
      /^ApiKey\.rotation\.maxAgeDays: must be at most expiresInDays \(30\)/,
    ],
    [
      "ApiKey: a maximum age of zero",
      apiKeyProvider,
      { ...key, rotation: { maxAgeDays: 0 } },
      "rotation.maxAgeDays",
      /^ApiKey\.rotation\.maxAgeDays: must be greater than 0/,
    ],
    [
      "ApiKey: an explicit expiry inside the rotation window",
      apiKeyProvider,
      { ...key, expiresInDays: undefined, expires: inDays(10), rotation: { rotateBeforeExpiryDays: 14 } },
      "rotation.rotateBeforeExpiryDays",
      /is due already/,
    ],
    ["ApiKey: a misspelt rotation setting", apiKeyProvider, { ...key, rotation: { maxAgeDay: 30 } }, "rotation", /did you mean "maxAgeDays"\?/],
    // Dates that do not exist.
    ["ApiKey: February 30", apiKeyProvider, { ...key, expiresInDays: undefined, expires: "2099-02-30" }, "expires", /^ApiKey\.expires: must be/],
    ["ApiKey: month 13", apiKeyProvider, { ...key, expiresInDays: undefined, expires: "2099-13-01 00:00:00" }, "expires", /^ApiKey\.expires: must be/],
    ["ApiKey: 24:61", apiKeyProvider, { ...key, expiresInDays: undefined, expires: "2099-01-01 24:61:00" }, "expires", /^ApiKey\.expires: must be/],
    // Lengths and one-line names.
    ["ApiKey: a name with a line break", apiKeyProvider, { ...key, name: "a\nb" }, "name", /^ApiKey\.name: must be one line/],
    [
      "ApiKey: an over-long description",
      apiKeyProvider,
      { ...key, description: "d".repeat(1001) },
      "description",
      /^ApiKey\.description: must be at most 1000 characters/,
    ],
    ["InboundProfile: a name with a tab", inboundProfileProvider, { name: "a\tb", keyLocation: "query" }, "name", /^InboundProfile\.name: must be one line/],
    [
      "BasicAuthProfile: an over-long name",
      basicAuthProfileProvider,
      { name: "b".repeat(101) },
      "name",
      /^BasicAuthProfile\.name: must be at most 100 characters/,
    ],
    ["BasicAuthProfile: a name with a control character", basicAuthProfileProvider, { name: "basic\u0000" }, "name", /must be one line/],
    ["PushConnector: a name with a line break", pushConnectorProvider, { name: "AWS\r\n", source: "aws" }, "name", /^PushConnector\.name: must be one line/],
    [
      "AccessPolicy: an over-long API resource",
      accessPolicyProvider,
      { name: "p", apiPath: "now/table", applyAllMethods: true, apiResource: "r".repeat(256) },
      "apiResource",
      /^AccessPolicy\.apiResource: must be at most 255 characters/,
    ],
    ["AccessPolicy: a name with a line break", accessPolicyProvider, { name: "p\n", apiPath: "now/table", applyAllMethods: true }, "name", /must be one line/],
    [
      "RateLimitRule: an over-long name",
      rateLimitRuleProvider(),
      { name: "r".repeat(101), user: "svc.key", requestsPerHour: 10 },
      "name",
      /^RateLimitRule\.name: must be at most 100 characters/,
    ],
    [
      "ServiceNowUser: a first name with a line break",
      serviceNowUserProvider,
      { userName: "svc.key", firstName: "a\nb" },
      "firstName",
      /^ServiceNowUser\.firstName: must be one line/,
    ],
    [
      "ServiceNowUser: an over-long e-mail address",
      serviceNowUserProvider,
      { userName: "svc.key", email: `${"e".repeat(95)}@example.com` },
      "email",
      /^ServiceNowUser\.email: must be at most 100 characters/,
    ],
    // Invisible formatting characters: a name that reads as another in the instance's lists.
    [
      "ApiKey: a right-to-left override in the name",
      apiKeyProvider,
      { ...key, name: "keywire \u202Eyek" },
      "name",
      /^ApiKey\.name: must not contain invisible formatting characters \(found U\+202E at character 9\)/,
    ],
    [
      "ApiKey: a zero-width space in the description",
      apiKeyProvider,
      { ...key, description: "rotated\u200b by keywire" },
      "description",
      /^ApiKey\.description: must not contain invisible .*U\+200B/,
    ],
    [
      "ApiKey: a bell in the description",
      apiKeyProvider,
      { ...key, description: "ring\u0007" },
      "description",
      /^ApiKey\.description: must not contain control characters other than line breaks and tabs/,
    ],
    ["InboundProfile: an isolate in the name", inboundProfileProvider, { name: "\u2067profile\u2069", keyLocation: "query" }, "name", /U\+2067/],
    [
      "InboundProfile: a byte-order mark in the description",
      inboundProfileProvider,
      { name: "p", keyLocation: "query", description: "\ufeffkeys" },
      "description",
      /U\+FEFF/,
    ],
    ["BasicAuthProfile: a zero-width joiner in the name", basicAuthProfileProvider, { name: "basic\u200d" }, "name", /U\+200D/],
    ["PushConnector: a left-to-right mark in the name", pushConnectorProvider, { name: "AWS\u200e", source: "aws" }, "name", /U\+200E/],
    [
      "PushConnector: a word joiner in the description",
      pushConnectorProvider,
      { name: "AWS", source: "aws", description: "a\u2060b" },
      "description",
      /U\+2060/,
    ],
    ["AccessPolicy: an embedding in the name", accessPolicyProvider, { name: "\u202Apolicy", apiPath: "now/table", applyAllMethods: true }, "name", /U\+202A/],
    ["RateLimitRule: a pop-directional in the name", rateLimitRuleProvider(), { name: "rule\u202C", user: "svc.key", requestsPerHour: 10 }, "name", /U\+202C/],
    ["ServiceNowUser: a first-strong isolate in the last name", serviceNowUserProvider, { userName: "svc.key", lastName: "\u2068Key" }, "lastName", /U\+2068/],
    [
      "ServiceNowUser: a line separator in the first name",
      serviceNowUserProvider,
      { userName: "svc.key", firstName: "a\u2028b" },
      "firstName",
      /must be one line/,
    ],
    // Values the instance would run as a script in a query.
    [
      "ApiKey: a user looked up by name",
      apiKeyProvider,
      { ...key, user: "javascript:gs.getUserID()" },
      "user",
      /^ApiKey\.user: must not start with "javascript:"/,
    ],
    ["ApiKey: a name (its natural key)", apiKeyProvider, { ...key, name: "  JavaScript:1" }, "name", /^ApiKey\.name: must not start with "javascript:"/],
    [
      "ApiKey: an auth scope",
      apiKeyProvider,
      { ...key, authScopes: ["useraccount", "javascript:1"] },
      "authScopes",
      /^ApiKey\.authScopes: must not start with "javascript:"/,
    ],
    [
      "UserRoleGrant: a user",
      userRoleGrantProvider,
      { user: "JAVASCRIPT:gs.getUserID()", role: "itil" },
      "user",
      /^UserRoleGrant\.user: must not start with "javascript:"/,
    ],
    [
      "RateLimitRule: a user",
      rateLimitRuleProvider(),
      { name: "r", user: "javascript:x", requestsPerHour: 10 },
      "user",
      /^RateLimitRule\.user: must not start/,
    ],
    ["AccessPolicy: an adopted policy's name", accessPolicyProvider, { name: "javascript:x", adopt: true }, "name", /^AccessPolicy\.name: must not start/],
    [
      "AccessPolicy: a REST API by name",
      accessPolicyProvider,
      { name: "p", apiPath: "now/table", applyAllMethods: true, api: "javascript:x" },
      "api",
      /^AccessPolicy\.api: must not start/,
    ],
    [
      "PushConnector: an adopted connector's name",
      pushConnectorProvider,
      { name: "javascript:x", adopt: true },
      "name",
      /^PushConnector\.name: must not start/,
    ],
    ["BasicAuthProfile: a name", basicAuthProfileProvider, { name: "javascript:x" }, "name", /^BasicAuthProfile\.name: must not start/],
    [
      "Preflight: a connector name",
      preflightProvider,
      { pushConnectorName: "javascript:x" },
      "pushConnectorName",
      /^Preflight\.pushConnectorName: must not start/,
    ],
    [
      "Preflight: a required column",
      preflightProvider,
      { requiredColumns: ["sys_rate_limit_rules.javascript:x"] },
      "requiredColumns",
      /^Preflight\.requiredColumns: must be table\.column names/,
    ],
  ];

  test.each(cases)("%s", async (_label, provider, inputs, property, reason) => {
    const found = await failures(provider, inputs);
    expect(reasonFor(found, property)).toMatch(reason);
    expect(JSON.stringify(found)).not.toContain(String(SECRET_TOKEN_NUMBER));
    expect(stub.requests).toEqual([]);
  });
});

describe("what is not refused", () => {
  test.each<[string, Props]>([
    ["a maximum age equal to the lifetime", { ...key, expiresInDays: 30, rotation: { maxAgeDays: 30 } }],
    ["rotation before expiry inside the lifetime", { ...key, expiresInDays: 30, rotation: { maxAgeDays: 20, rotateBeforeExpiryDays: 7 } }],
    ["an explicit expiry beyond the rotation window", { ...key, expiresInDays: undefined, expires: inDays(60), rotation: { rotateBeforeExpiryDays: 14 } }],
    ["javascript: inside a name, not as its prefix", { ...key, name: "not javascript:1" }],
    ["a description over several lines", { ...key, description: "line one\nline two" }],
  ])("ApiKey: %s", async (_label, inputs) => {
    expect(await failures(apiKeyProvider, inputs)).toEqual([]);
  });

  test("the stub does hear what check asks once the input is good (adoption preview); a record it cannot find is create's to report, once", async () => {
    const driver = new ProviderDriver(accessPolicyProvider, stub.url);
    const checked = await driver.check({ name: "Table GET API Access Policy", adopt: true });
    expect(stub.requests.length).toBeGreaterThan(0);
    expect(checked.failures ?? []).toEqual([]);
    expect((checked.inputs as Record<string, unknown>).adoptionPreview).toBeUndefined();
    await expect(driver.create({ name: "Table GET API Access Policy", adopt: true })).rejects.toThrow(/no sys_api_access_policy record matches/);
  });
});
