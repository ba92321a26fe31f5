/**
 * The program's wiring under Pulumi's mocks: the endpoint, its secrecy and
 * encoding, the SNS settings ServiceNow needs, and the local stack's lack of AWS.
 */
import * as pulumi from "@pulumi/pulumi";
import { Registered, isSecretWrapped, mockRuntime, settle, unwrap } from "../support/programMocks";
import { loadStackConfig } from "../../config/stackConfig";
import { keywireStack } from "../../config/keywireStack";

const baseConfig: Record<string, string> = {
  "servicenow:instance": "dev12345",
  "servicenow:username": "deployer",
  "servicenow:password": "not-read-by-the-program",
  "keywire:integrationUser": JSON.stringify({ userName: "svc.keywire.events" }),
  "keywire:pushConnector": JSON.stringify({ name: "AWS SNS push connector" }),
  "keywire:apiKey": JSON.stringify({ expiresInDays: 90 }),
  "keywire:sns": JSON.stringify({ enabled: true, topicName: "alarms" }),
};

async function runProgram(config: Record<string, string>, token: string) {
  const registered: Registered[] = [];
  await mockRuntime(token, registered);
  const cfg = loadStackConfig({
    get: (k) => config[k],
    has: (k) => config[k] !== undefined,
    keys: () => Object.keys(config),
    origin: (k) => (config[k] === undefined ? undefined : k === "servicenow:password" ? "secret" : "plain"),
    length: (k) => config[k]?.length,
  });
  const program = keywireStack(cfg) as unknown as Record<string, pulumi.Output<unknown> | unknown>;
  // Let every registration settle.
  for (const out of Object.values(program)) if (pulumi.Output.isInstance(out)) await settle(out as pulumi.Output<unknown>);
  await new Promise((r) => setTimeout(r, 20));
  return { registered, program };
}

// Loading the AWS SDK and registering every resource is slow on a busy machine.
jest.setTimeout(180_000);

const TOKEN = "now_ABCdef-_123";

test("the endpoint has the documented format, is secret, and reaches the subscription secret", async () => {
  const { registered, program } = await runProgram(baseConfig, TOKEN);
  const endpoint = await settle(program.inboundEndpoint as pulumi.Output<string>);
  const connector = registered.find((r) => r.type.endsWith(":PushConnector"))!;
  expect(connector).toBeDefined();
  const connectorId = (registered.indexOf(connector) + 1).toString(16).padStart(32, "0");
  expect(endpoint.secret).toBe(true);
  expect(endpoint.value).toBe(`https://dev12345.service-now.com/api/sn_em_connector/em/inbound_event?source=aws&sys_id=${connectorId}&x-sn-apikey=${TOKEN}`);
  const sub = registered.find((r) => r.type === "aws:sns/topicSubscription:TopicSubscription")!;
  expect(sub.inputs.protocol).toBe("https");
  expect(isSecretWrapped(sub.inputs.endpoint)).toBe(true);
  expect(unwrap(sub.inputs.endpoint)).toBe(endpoint.value);
  expect(sub.inputs.rawMessageDelivery).toBe(false);
  expect(sub.inputs.endpointAutoConfirms).toBe(true);
  expect(sub.inputs.confirmationTimeoutInMinutes).toBe(5);
  expect(JSON.parse(String(sub.inputs.deliveryPolicy)).healthyRetryPolicy.numRetries).toBe(10);
  const policy = registered.find((r) => r.type === "aws:sns/topicPolicy:TopicPolicy")!;
  expect(JSON.parse(String(policy.inputs.policy)).Statement[0].Principal.Service).toBe("cloudwatch.amazonaws.com");
  // SHA256 signatures (SignatureVersion 2) rather than the SHA1 that topics get by default.
  const topic = registered.find((r) => r.type === "aws:sns/topic:Topic")!;
  expect(topic.inputs.signatureVersion).toBe(2);
  // The chain verification proves the very endpoint the subscription posts to: its source and connector.
  const verification = registered.find((r) => r.type.endsWith(":ApiKeyVerification"))!;
  expect(verification.inputs.event).toEqual({ source: "aws", pushConnectorSysId: connectorId });
  // No output carries the token in clear text.
  for (const [name, out] of Object.entries(program)) {
    if (!pulumi.Output.isInstance(out)) continue;
    const s = await settle(out as pulumi.Output<unknown>);
    if (JSON.stringify(s.value ?? "").includes(TOKEN)) expect([name, s.secret]).toEqual([name, true]);
  }
});

test("a token with characters that need it is URL-encoded in the endpoint", async () => {
  const odd = "now_a+b/c=d&e?f g#h";
  const { program } = await runProgram(baseConfig, odd);
  const endpoint = await settle(program.inboundEndpoint as pulumi.Output<string>);
  const url = new URL(endpoint.value as string);
  expect(url.searchParams.get("x-sn-apikey")).toBe(odd);
  expect(endpoint.value).toContain("x-sn-apikey=now_a%2Bb%2Fc%3Dd%26e%3Ff+g%23h");
});

test("the local stack creates no AWS resource but still produces the endpoint", async () => {
  const local = {
    ...baseConfig,
    "servicenow:instanceUrl": "http://127.0.0.1:18080",
    "keywire:sns": JSON.stringify({ enabled: false }),
  };
  delete (local as Record<string, string>)["servicenow:instance"];
  const { registered, program } = await runProgram(local, TOKEN);
  expect(registered.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
  const endpoint = await settle(program.inboundEndpoint as pulumi.Output<string>);
  expect(endpoint.value).toMatch(/^http:\/\/127\.0\.0\.1:18080\/api\/sn_em_connector\/em\/inbound_event\?source=aws&sys_id=[0-9a-f]{32}&x-sn-apikey=/);
  expect(program.topicArn).toBeUndefined();
});

test("attach mode adopts both shipped Table policies; dedicated mode owns one and parks the shipped ones", async () => {
  const attach = await runProgram(baseConfig, TOKEN);
  const policies = attach.registered.filter((r) => r.type.endsWith(":AccessPolicy"));
  expect(
    policies
      .filter((p) => p.inputs.adopt === true)
      .map((p) => p.inputs.name)
      .sort(),
  ).toEqual(["Table GET API Access Policy", "Table POST API Access Policy"]);
  expect(attach.registered.filter((r) => r.type.endsWith(":AccessPolicyProfileLink"))).toHaveLength(3);

  const dedicated = await runProgram({ ...baseConfig, "keywire:policyMode": "dedicated" }, TOKEN);
  const own = dedicated.registered.filter((r) => r.type.endsWith(":AccessPolicy") && !r.inputs.adopt);
  expect(own.map((p) => p.inputs.apiPath).sort()).toEqual(["now/table", "sn_em_connector/em"]);
  const parked = dedicated.registered.filter((r) => r.type.endsWith(":AccessPolicy") && r.inputs.adopt);
  expect(parked.every((p) => p.inputs.active === false)).toBe(true);
  // Basic auth stays admitted on keywire's own Table API policy.
  expect(dedicated.registered.some((r) => r.type.endsWith(":BasicAuthProfile"))).toBe(true);
  const keyInputs = dedicated.registered.find((r) => r.type.endsWith(":ApiKey"))!.inputs;
  expect(keyInputs.user).toBe("svc.keywire.events");
  expect(keyInputs.authScopes).toEqual(["useraccount"]);
  expect(dedicated.program.policyMode).toBe("dedicated");
});

test("every dynamic resource stores its provider as a reference of at most 300 bytes, and nothing is serialized", async () => {
  const serialize = jest.spyOn(pulumi.runtime, "serializeFunction");
  try {
    const { registered } = await runProgram({ ...baseConfig, "keywire:policyMode": "dedicated" }, TOKEN);
    const dynamic = registered.filter((r) => r.type.startsWith("pulumi-nodejs:"));
    expect(dynamic.length).toBeGreaterThan(5);
    for (const r of dynamic) {
      const stored = String(r.inputs.__provider);
      expect(stored).toMatch(
        /^exports\.handler=\(\)=>require\("module"\)\.createRequire\(process\.cwd\(\)\+"\/"\)\("keywire\/loadProvider"\)\(\{"m":"keywire\/servicenow","e":"[A-Za-z]+Provider"(,"a":\["[a-z_]+"\])?\}\);\n$/,
      );
      expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(300);
    }
    expect(serialize).not.toHaveBeenCalled();
  } finally {
    serialize.mockRestore();
  }
});

describe("taking an earlier deployment's chain over (keywire:adopt)", () => {
  /**
   * The records keywire makes itself: not the checks (Preflight, ApiKeyVerification), the key's cleanup (KeyLeftovers) or the
   * policies' handover on destroy (PolicyHandover), nor
   * what it always takes over as shipped (the Table policies, the Basic profile, a push
   * connector it does not create).
   */
  const created = (registered: Registered[]) =>
    registered.filter((r) => {
      const kind = r.type.split(":").pop();
      if (
        !r.type.startsWith("pulumi-nodejs:") ||
        ["Preflight", "ApiKeyVerification", "KeyLeftovers", "PolicyHandover", "BasicAuthProfile"].includes(kind ?? "")
      )
        return false;
      if (kind === "AccessPolicy" && String(r.inputs.name).startsWith("Table ")) return false;
      return !(kind === "PushConnector" && r.inputs.onDestroy === "retain");
    });

  test("without it every record is created, and said to be deleted on destroy", async () => {
    const { registered } = await runProgram(
      { ...baseConfig, "keywire:policyMode": "dedicated", "keywire:pushConnector": JSON.stringify({ name: "c", create: true }) },
      TOKEN,
    );
    const own = created(registered);
    expect(own.length).toBeGreaterThan(8);
    for (const r of own) expect([r.name, r.inputs.adopt, r.inputs.onDestroy]).toEqual([r.name, undefined, "delete"]);
  });

  test("true takes every record over, each kept as keywire's own", async () => {
    const config = {
      ...baseConfig,
      "keywire:policyMode": "dedicated",
      "keywire:pushConnector": JSON.stringify({ name: "c", create: true }),
      "keywire:adopt": "true",
    };
    const { registered } = await runProgram(config, TOKEN);
    const own = created(registered);
    expect(own.map((r) => r.type.split(":").pop()).sort()).toEqual([
      "AccessPolicy",
      "AccessPolicy",
      "AccessPolicyProfileLink",
      "AccessPolicyProfileLink",
      "AccessPolicyProfileLink",
      "ApiKey",
      "InboundProfile",
      "PushConnector",
      "RateLimitRule",
      "ServiceNowUser",
      "UserRoleGrant",
    ]);
    for (const r of own) expect([r.name, r.inputs.adopt, r.inputs.onDestroy]).toEqual([r.name, true, "delete"]);
  });

  test("a part at a time, the key by sys_id", async () => {
    const sysId = "f".repeat(32);
    const { registered } = await runProgram({ ...baseConfig, "keywire:adopt": JSON.stringify({ key: sysId, profile: true }) }, TOKEN);
    const adopted = created(registered).filter((r) => r.inputs.adopt !== undefined);
    expect(adopted.map((r) => [r.type.split(":").pop(), r.inputs.adopt])).toEqual([
      ["InboundProfile", true],
      ["ApiKey", sysId],
    ]);
  });
});

test("every dynamic resource has its own type token", async () => {
  const { registered } = await runProgram({ ...baseConfig, "keywire:policyMode": "dedicated" }, TOKEN);
  const dynamic = registered.filter((r) => r.type.startsWith("pulumi-nodejs:"));
  expect(dynamic.length).toBeGreaterThan(5);
  for (const r of dynamic) expect(r.type).toMatch(/^pulumi-nodejs:dynamic\/keywire\/servicenow:[A-Z][A-Za-z]+$/);
  expect(dynamic.some((r) => r.type === "pulumi-nodejs:dynamic:Resource")).toBe(false);
});
