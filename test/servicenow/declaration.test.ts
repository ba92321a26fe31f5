/**
 * A record's declaration is the one place its inputs are written: the engine's fields,
 * the check's schema and the carried and secret inputs follow from it, its resource
 * class has an output for each column whether or not the program gave the input, and
 * its argument type takes each input as its schema does (the type assertions below
 * are checked by `tsc --noEmit -p .`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as zod from "zod";
import { apiKeyRecord } from "../../resources/servicenow/apiKey/apiKey";
import { API_KEY_CARRIED_INPUTS } from "../../resources/servicenow/apiKey/inputs";
import { AccessPolicyArgs, accessPolicyRecord } from "../../resources/servicenow/records/accessPolicy";
import { PushConnector } from "../../resources/servicenow/records/pushConnector";
import { rateLimitRuleRecord } from "../../resources/servicenow/records/rateLimitRule";
import { ServiceNowUser, ServiceNowUserArgs } from "../../resources/servicenow/records/user";

const shapeKeys = (schema: zod.ZodType): string[] => Object.keys((schema as zod.ZodObject<Record<string, zod.ZodType>>).shape);

test("the engine's fields are the declared inputs with a column, in the declared order; the check's schema has every input a program gives", () => {
  expect(Object.keys(apiKeyRecord.fields)).toEqual(["name", "description", "active", "user", "expires", "authScopes"]);
  expect(apiKeyRecord.fields.authScopes).toEqual({ column: "auth_scope", kind: "list", lookup: { table: "sys_auth_scope", by: "name" } });
  expect(shapeKeys(apiKeyRecord.schema(zod))).toEqual(Object.keys(apiKeyRecord.inputs));
  // A column keywire writes itself is a field, not an input.
  expect(rateLimitRuleRecord.fields.type).toEqual({ column: "type", kind: "string", defaultValue: "User" });
  expect(shapeKeys(rateLimitRuleRecord.schema(zod))).toEqual(["name", "active", "user", "requestsPerHour"]);
  // A setting the instance does not hold is an input, not a field.
  expect(accessPolicyRecord.fields.holdsShipped).toBeUndefined();
  expect(shapeKeys(accessPolicyRecord.schema(zod))).toContain("holdsShipped");
});

test("settings the instance does not hold are carried through read, and the token as a secret", () => {
  expect([...apiKeyRecord.carriedInputs].sort()).toEqual(["expiresInDays", "generation", "issuedAt", "probe", "rotation", "tokenConfigKey", "tokenStrategy"]);
  // The drift report's list (read without loading the provider) is the engine's.
  expect(API_KEY_CARRIED_INPUTS).toEqual(apiKeyRecord.carriedInputs);
  expect(apiKeyRecord.secretInputs).toEqual(["token"]);
  expect(accessPolicyRecord.carriedInputs).toEqual(["holdsShipped", "heldBy"]);
});

test("every column is an output of the resource, whether or not the program gave the input", async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args: pulumi.runtime.MockResourceArgs) => ({ id: `${args.name}-id`, state: { ...args.inputs, sysId: "0".repeat(32) } }),
      call: (args: pulumi.runtime.MockCallArgs) => args.inputs as Record<string, unknown>,
    },
    "keywire",
    "test",
    false,
  );
  const connector = new PushConnector("connector", { name: "AWS", source: "aws" });
  const user = new ServiceNowUser("user", { userName: "svc.keywire" });
  const resolved = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));
  for (const output of [connector.description, connector.active, connector.source, connector.recordUrl, user.email, user.webServiceAccessOnly]) {
    expect(pulumi.Output.isInstance(output)).toBe(true);
  }
  expect(await resolved(connector.source)).toBe("aws");
  expect(await resolved(user.sysId)).toBe("0".repeat(32));
});

/** Never called: what the argument types accept and refuse, checked by the compiler. */
function argumentTypes(table: pulumi.Output<string>): Array<ServiceNowUserArgs | AccessPolicyArgs> {
  // @ts-expect-error userName is required: its schema accepts no undefined.
  const noName: ServiceNowUserArgs = { firstName: "a" };
  // A list's items may be outputs; a method is one input of its enumerated values.
  const policy: AccessPolicyArgs = { name: "p", tables: [table, "incident"], httpMethod: pulumi.output("GET" as const) };
  // @ts-expect-error applyGlobal takes only false.
  const global: AccessPolicyArgs = { name: "p", applyGlobal: true };
  return [noName, policy, global];
}
void argumentTypes;
