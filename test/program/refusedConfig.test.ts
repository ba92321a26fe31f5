/**
 * The program itself (index.ts) under Pulumi's mocks: a stack configuration with
 * problems stops the run before any resource is registered, so no provider is
 * asked to do anything and no request leaves for the instance.
 */
import * as pulumi from "@pulumi/pulumi";
import { Registered, mockRuntime } from "../support/programMocks";
import { HttpStub, sendSnError, startHttpStub } from "../support/httpStub";

jest.setTimeout(120_000);

let stub: HttpStub;
beforeAll(async () => {
  stub = await startHttpStub((_req, res) => sendSnError(res, 500, "no request was expected"));
});
afterAll(async () => {
  await stub.stop();
});

function runProgram(): unknown {
  let thrown: unknown;
  jest.isolateModules(() => {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program, run afresh inside isolateModules
      require("../../index");
    } catch (e) {
      thrown = e;
    }
  });
  return thrown;
}

test("bad configuration is one RunError naming every key, and nothing is registered or called", async () => {
  const registered: Registered[] = [];
  await mockRuntime("unused", registered);
  pulumi.runtime.setAllConfig(
    {
      "servicenow:instanceUrl": stub.url,
      "servicenow:username": "deployer",
      "servicenow:password": "hunter2-deployer",
      "keywire:integrationUser": JSON.stringify({ userName: "svc.events" }),
      "keywire:pushConnector": JSON.stringify({ name: "javascript:gs.getUserID()" }),
      "keywire:sns": JSON.stringify({ enabled: false }),
      "keywire:sns.enabled": "false",
      "keywire:keepBasicAuth": "yes",
      "keywire:apiKey": JSON.stringify({ expiresInDays: 30, rotation: { rotateBeforeExpiryDays: 30 } }),
    },
    ["servicenow:password"],
  );
  const thrown = runProgram();
  expect(pulumi.RunError.isInstance(thrown)).toBe(true);
  const message = (thrown as Error).message;
  for (const key of ["keywire:pushConnector.name", "keywire:sns.enabled", "keywire:keepBasicAuth", "keywire:apiKey.rotation.rotateBeforeExpiryDays"]) {
    expect(message).toContain(`${key}:`);
  }
  expect(message).not.toContain("hunter2-deployer");
  await new Promise((r) => setTimeout(r, 50));
  expect(registered).toEqual([]);
  expect(stub.requests).toEqual([]);
});

test("a token or password set without --secret stops the run with the command that encrypts it, and nothing is registered", async () => {
  const registered: Registered[] = [];
  await mockRuntime("unused", registered);
  pulumi.runtime.setAllConfig(
    {
      "servicenow:instanceUrl": stub.url,
      "servicenow:username": "deployer",
      "servicenow:password": "hunter2-in-clear",
      "keywire:apiKeyToken": "now_clear-text-token-value",
      "keywire:integrationUser": JSON.stringify({ userName: "svc.events" }),
      "keywire:pushConnector": JSON.stringify({ name: "AWS SNS push connector" }),
      "keywire:sns": JSON.stringify({ enabled: false }),
    },
    // Neither key is in the secret keys Pulumi hands the program: both were set without --secret.
    [],
  );
  const thrown = runProgram();
  expect(pulumi.RunError.isInstance(thrown)).toBe(true);
  const message = (thrown as Error).message;
  expect(message).toContain("pulumi config set --secret keywire:apiKeyToken");
  expect(message).toContain("pulumi config set --secret servicenow:password");
  expect(message).not.toContain("hunter2-in-clear");
  expect(message).not.toContain("clear-text-token-value");
  await new Promise((r) => setTimeout(r, 50));
  expect(registered).toEqual([]);
  expect(stub.requests).toEqual([]);
});

test("the same settings stored as secrets pass this check", async () => {
  const registered: Registered[] = [];
  await mockRuntime("unused", registered);
  pulumi.runtime.setAllConfig(
    {
      "servicenow:instanceUrl": stub.url,
      "servicenow:username": "deployer",
      "servicenow:password": "hunter2-as-secret",
      "keywire:apiKeyToken": "now_secret-token-value",
      "keywire:integrationUser": JSON.stringify({ userName: "svc.events" }),
      "keywire:pushConnector": JSON.stringify({ name: "AWS SNS push connector" }),
      "keywire:sns": JSON.stringify({ enabled: false }),
      "keywire:keepBasicAuth": "yes",
    },
    ["servicenow:password", "keywire:apiKeyToken"],
  );
  const thrown = runProgram();
  expect(pulumi.RunError.isInstance(thrown)).toBe(true);
  // Refused for the one bad setting only: the secrets are not among the problems.
  expect((thrown as Error).message).toMatch(/has 1 problem:\n {2}- keywire:keepBasicAuth:/);
});
