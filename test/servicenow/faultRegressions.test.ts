/**
 * The failures measured under faults, each reproduced through the providers
 * against the emulator: a rotation that lost the live key, a probe that proved
 * too much, active unproven orphan keys, and a 500 after commit taken as final.
 */
import type * as pulumi from "@pulumi/pulumi";
import { apiKeyProvider } from "../../resources/servicenow/apiKey/apiKey";
import { apiKeyVerificationProvider } from "../../resources/servicenow/checks/apiKeyVerification";
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { accessPolicyProfileLinkProvider } from "../../resources/servicenow/records/accessPolicyProfileLink";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { ADMIN_PASSWORD, ProviderDriver } from "../support/serviceNow";
import { HttpStub, sendJson, startHttpStub } from "../support/httpStub";
import { lateWritesLanded, useServiceNowEmulator } from "../support/useServiceNowEmulator";

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD });
let userId: string;
let policyId: string;
let profileId: string;

// Short deadlines keep the fault cases quick; the client's retry policy is the real one.
const fast = { "servicenow:requestTimeoutSeconds": "1" };
const driver = (provider: pulumi.dynamic.ResourceProvider) => new ProviderDriver(provider, emu.url, fast);

beforeEach(async () => {
  emu.setOptions({ tokenReadback: "input_display_value" });
  const profile = await driver(inboundProfileProvider).create({ name: "hdr", keyLocation: "header" });
  profileId = profile.id;
  policyId = emu.store.query("sys_api_access_policy", (r) => r.name === "Table GET API Access Policy")[0].sys_id;
  await driver(accessPolicyProfileLinkProvider).create({ policy: policyId, profile: profile.id });
  userId = (await driver(serviceNowUserProvider).create({ userName: "svc.key" })).id;
  emu.resetMetrics();
});

const keys = () => emu.store.query("api_key", () => true);
const activeKeys = () => keys().filter((k) => k.active === "true");

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected a failure");
}

describe("1. rotation never loses the live key", () => {
  test("the replacement's POST dropped before commit: a new record is made, never the old key returned", async () => {
    const k = driver(apiKeyProvider);
    const live = await k.create({ name: "sns key", user: userId, rotation: { trigger: "1" } });
    emu.setFaults({ dropNext: { count: 1, methods: ["POST"], table: "api_key" } });
    const next = await k.create({ name: "sns key", user: userId, rotation: { trigger: "2" } }, live.inputs);
    expect(next.id).not.toBe(live.id);
    expect(keys()).toHaveLength(2);
    expect(emu.store.get("api_key", live.id)!.active).toBe("true");
    expect(emu.store.get("api_key", next.id)!.name).not.toBe(emu.store.get("api_key", live.id)!.name);
  });

  test("with token read-back off, the proof step parks the replacement, never the key in service", async () => {
    const k = driver(apiKeyProvider);
    const live = await k.create({ name: "sns key", user: userId, rotation: { trigger: "1" } });
    emu.setOptions({ tokenReadback: "none" });
    emu.setFaults({ dropNext: { count: 1, methods: ["POST"], table: "api_key" } });
    await rejection(k.create({ name: "sns key", user: userId, rotation: { trigger: "2" } }, live.inputs));
    expect(emu.store.get("api_key", live.id)!.active).toBe("true");
    expect(activeKeys().map((r) => r.sys_id)).toEqual([live.id]);
    expect(keys()).toHaveLength(2);
  });
});

describe("2. the probe proves only what the instance alone can answer", () => {
  let stub: HttpStub;
  afterEach(async () => {
    await stub?.stop();
  });

  const cases: Array<[string, (res: import("node:http").ServerResponse) => void]> = [
    ["a 403 given before authentication", (res) => sendJson(res, 403, { error: { message: "Request not allowed", detail: "" }, status: "failure" })],
    [
      "a 200 HTML page",
      (res) => {
        res.writeHead(200, { "Content-Type": "text/html" });
        res.end("<html><body>Instance hibernating</body></html>");
      },
    ],
    [
      "a proxy refusing with 403",
      (res) => {
        res.writeHead(403, { "Content-Type": "text/plain" });
        res.end("CONNECT refused by proxy");
      },
    ],
  ];
  test.each(cases)("%s is not proof", async (_name, answer) => {
    stub = await startHttpStub((_req, res) => answer(res));
    const v = new ProviderDriver(apiKeyVerificationProvider, stub.url, fast);
    const inputs = {
      token: "now_" + "a".repeat(86),
      keySysId: "a".repeat(32),
      profileSysId: "b".repeat(32),
      requiredRoles: [],
      probeTable: "incident",
      via: "header",
    };
    // Recorded as unproven (the resource then fails the up from the program), never as verified.
    const created = await v.create(inputs);
    expect(created.outs).toMatchObject({ verified: false, brokenLinkId: "instance.unknown" });
    expect(String(created.outs.brokenLink)).toMatch(/the probe saw .*which neither proves nor refuses the key/);
    const read = await v.read("verify-x", { ...inputs, verified: true, brokenLink: "", probeSaw: "" });
    expect(read.props?.verified).toBe(false);
  });
});

describe("3. no unproven key stays active", () => {
  test.each([
    ["a 500", { failNext: { count: 5, status: 500, methods: ["GET"], table: "sys_user" } }],
    ["a dropped connection", { dropNext: { count: 5, methods: ["GET"], table: "sys_user" } }],
  ])("the probe answered with %s after the key's POST committed: the key is not left active; the rerun leaves one", async (_name, faults) => {
    const k = driver(apiKeyProvider);
    emu.setFaults(faults);
    const message = await rejection(k.create({ name: "sns key", user: userId }));
    expect(message).toMatch(/neither proves nor refuses/);
    expect(activeKeys()).toHaveLength(0);
    emu.setFaults({});
    const again = await k.create({ name: "sns key", user: userId });
    expect(activeKeys().map((r) => r.sys_id)).toEqual([again.id]);
    expect(keys().filter((r) => r.name === "sns key")).toHaveLength(1);
  });
});

describe("4. a 500 after commit is settled by the record's sys_id", () => {
  test("api_key: one key, proven, no orphan", async () => {
    emu.setFaults({ commitThenFailNext: { count: 1, mode: "500", methods: ["POST"], table: "api_key" } });
    const { id, outs } = await driver(apiKeyProvider).create({ name: "sns key", user: userId });
    expect(keys().map((r) => r.sys_id)).toEqual([id]);
    expect(outs.token).toBe(emu.tokenOf(id));
  });

  test("sys_auth_profile_mapping: one row", async () => {
    emu.setFaults({ commitThenFailNext: { count: 1, mode: "500", methods: ["POST"], table: "sys_auth_profile_mapping" } });
    const profile = await driver(inboundProfileProvider).create({ name: "second", keyLocation: "query" });
    await driver(accessPolicyProfileLinkProvider).create({ policy: policyId, profile: profile.id });
    expect(emu.store.query("sys_auth_profile_mapping", (r) => r.inbound_auth_profile === profile.id)).toHaveLength(1);
    expect(profileId).not.toBe(profile.id);
  });

  test("sys_user: one user, and no misleading hint about roles", async () => {
    emu.setFaults({ commitThenFailNext: { count: 1, mode: "500", methods: ["POST"], table: "sys_user" } });
    const { id } = await driver(serviceNowUserProvider).create({ userName: "svc.second" });
    expect(emu.store.query("sys_user", (r) => r.user_name === "svc.second").map((r) => r.sys_id)).toEqual([id]);
  });
});

describe("5. a write that lands after the client gave up is not repeated into a second record", () => {
  test("a POST committed 1.2 s after the client's 1 s deadline: one record", async () => {
    emu.setFaults({ lateCommitNext: { count: 1, delayMs: 2200, methods: ["POST"], table: "sys_user" } });
    const { id } = await driver(serviceNowUserProvider).create({ userName: "svc.late" });
    await lateWritesLanded(emu);
    expect(emu.store.query("sys_user", (r) => r.user_name === "svc.late").map((r) => r.sys_id)).toEqual([id]);
  });
});
