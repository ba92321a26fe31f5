/**
 * The manual token route in a team's own program: keywire's instructions say
 * `pulumi config set --secret keywire:apiKeyToken`, and the component reads that key
 * when the program passes no operatorToken, so the printed step works as it stands.
 */
import * as pulumi from "@pulumi/pulumi";
import { Registered, isSecretWrapped, mockRuntime, unwrap } from "../support/programMocks";
import { ServiceNowApiKeyAuth } from "../../resources/servicenow/components/serviceNowApiKeyAuth";

jest.setTimeout(60_000);

const args = {
  namePrefix: "team",
  integrationUser: { userName: "svc.team.events", create: true, roles: ["evt_mgmt_integration"] },
  policyMode: "attach" as const,
  keepBasicAuth: true,
  apiKey: { expiresInDays: 90, authScopes: ["useraccount"], tokenStrategy: "auto" as const, rotation: { maxAgeDays: 60 } },
  pushConnector: { name: "AWS SNS push connector", create: false, source: "aws" },
};

async function keyInputs(config: Record<string, string>, secretKeys: string[], extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  pulumi.runtime.setAllConfig(config, secretKeys);
  const registered: Registered[] = [];
  await mockRuntime("now_unused", registered);
  const auth = new ServiceNowApiKeyAuth("team", { ...args, ...extra });
  await new Promise<void>((resolve) => auth.keySysId.apply(() => resolve()));
  await new Promise((r) => setTimeout(r, 20));
  return registered.find((r) => r.type.endsWith(":ApiKey"))!.inputs;
}

test("the token set with the printed command reaches the key, secret", async () => {
  const inputs = await keyInputs({ "keywire:apiKeyToken": "now_copied-from-the-form" }, ["keywire:apiKeyToken"]);
  expect(isSecretWrapped(inputs.token)).toBe(true);
  expect(unwrap(inputs.token)).toBe("now_copied-from-the-form");
  expect(inputs.tokenConfigKey).toBe("keywire:apiKeyToken");
});

test("a tokenConfigKey of the program's own is the key read", async () => {
  const inputs = await keyInputs({ "events:token": "now_other" }, ["events:token"], { tokenConfigKey: "events:token" });
  expect(unwrap(inputs.token)).toBe("now_other");
});

test("an operatorToken the program passes wins; nothing set means no token", async () => {
  const passed = await keyInputs({ "keywire:apiKeyToken": "now_from_config" }, ["keywire:apiKeyToken"], { operatorToken: pulumi.secret("now_passed") });
  expect(unwrap(passed.token)).toBe("now_passed");
  const none = await keyInputs({}, []);
  expect(none.token).toBeUndefined();
});

test("the rate limit README promises is on by default (3600/h), and off only when the program says false", async () => {
  const registeredWith = async (extra: Record<string, unknown>) => {
    pulumi.runtime.setAllConfig({}, []);
    const registered: Registered[] = [];
    await mockRuntime("now_unused", registered);
    const auth = new ServiceNowApiKeyAuth("team", { ...args, ...extra });
    await new Promise<void>((resolve) => auth.keySysId.apply(() => resolve()));
    await new Promise((r) => setTimeout(r, 20));
    return registered.filter((r) => r.type.endsWith(":RateLimitRule"));
  };
  const byDefault = await registeredWith({});
  expect(byDefault).toHaveLength(1);
  expect(byDefault[0].inputs.requestsPerHour).toBe(3600);
  expect(await registeredWith({ rateLimit: false })).toHaveLength(0);
  expect((await registeredWith({ rateLimit: { requestsPerHour: 600 } }))[0].inputs.requestsPerHour).toBe(600);
});
