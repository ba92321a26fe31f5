import { startFreshserviceEmulator, RunningFreshserviceEmulator } from "../../emulator/freshservice";
import {
  FreshserviceAgent,
  FreshserviceAgentInputs,
  FreshserviceAgentOutputs,
  freshserviceAgentProvider as provider,
} from "../../resources/freshservice/agent";
import { KeywireError } from "../../resources/core/errors";
import { roundTrip } from "../support/providerText";
import { registrationOptions } from "../support/registration";
import { rejection } from "../support/rejection";

let emu: RunningFreshserviceEmulator;
let key: string;
const domain = "keywire-test";

beforeAll(async () => {
  emu = await startFreshserviceEmulator({ domain });
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => {
  emu.reset();
  key = emu.addKey().key;
});

function inputs(over: Partial<FreshserviceAgentInputs> = {}): FreshserviceAgentInputs {
  return {
    domain,
    apiKey: key,
    baseUrl: emu.url,
    email: "integration@example.com",
    firstName: "Integration",
    lastName: "Bot",
    roles: [{ roleName: "SD Agent" }],
    ...over,
  };
}

async function create(over: Partial<FreshserviceAgentInputs> = {}) {
  const r = await provider.create(inputs(over));
  return { id: r.id, outs: r.outs as FreshserviceAgentOutputs };
}

/** A change made by a person in the UI (through the API with the admin key). */
async function asAdmin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${emu.url}/api/v2${path}`, {
    method,
    headers: { Authorization: `Basic ${Buffer.from(`${key}:X`).toString("base64")}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return res.status;
}

const roleId = (name: string) => emu.roles().find((r) => r.name === name)!.id;

describe("FreshserviceAgent check", () => {
  const check = (news: object) => provider.check!({}, news);

  test("valid inputs pass", async () => {
    expect((await check({ ...inputs(), domain: "KeyWire-Test" })).failures ?? []).toEqual([]);
  });

  test("messages name the property", async () => {
    const r = await check({ domain, apiKey: "k", email: "nope", firstName: "", roles: [] });
    const reasons = (r.failures ?? []).map((f) => f.reason).join("\n");
    expect((r.failures ?? []).map((f) => f.property).sort()).toEqual(["email", "firstName", "roles"]);
    expect(reasons).toContain("FreshserviceAgent.email: must be an email address");
    expect(reasons).toContain("FreshserviceAgent.roles: needs at least one role");
  });

  test("a role needs exactly one of id or name; specified_groups needs groups", async () => {
    const both = await check(inputs({ roles: [{ roleId: 1, roleName: "Admin" }] }));
    expect(both.failures?.[0].reason).toContain("roles.0: needs exactly one of roleId or roleName");
    const groups = await check(inputs({ roles: [{ roleName: "Admin", assignmentScope: "specified_groups" }] }));
    expect(groups.failures?.[0].reason).toContain("roles.0.groups: must list at least one group id");
    const scope = await check(inputs({ roles: [{ roleName: "Admin", assignmentScope: "everything" as never }] }));
    expect(scope.failures?.[0].property).toBe("roles");
  });

  test("the managing key is never echoed", async () => {
    const r = await check({ ...inputs(), apiKey: "has space secret" });
    expect(JSON.stringify(r.failures)).not.toContain("has space secret");
    expect(r.failures?.[0].property).toBe("apiKey");
  });
});

describe("FreshserviceAgent against the emulator", () => {
  test("create makes the agent with its roles resolved by name", async () => {
    const { id, outs } = await create({ jobTitle: "Integration account" });
    expect(id).toBe(`${domain}/${outs.agentId}`);
    expect(outs).toMatchObject({
      email: "integration@example.com",
      firstName: "Integration",
      lastName: "Bot",
      jobTitle: "Integration account",
      active: true,
      occasional: false,
      adopted: false,
      onDestroy: "deactivate",
      roles: [{ roleId: roleId("SD Agent"), roleName: "SD Agent", assignmentScope: "entire_helpdesk", groups: [] }],
    });
    expect(emu.agent(outs.agentId)).toMatchObject({ email: "integration@example.com", active: true });
  });

  test("create inactive leaves the agent deactivated", async () => {
    const { outs } = await create({ active: false });
    expect(outs.active).toBe(false);
    expect(emu.agent(outs.agentId)!.active).toBe(false);
  });

  test("an existing email fails unless adopt is set; adopting converges it and retains on destroy", async () => {
    const existing = emu.addAgent({ email: "integration@example.com", first_name: "Old", roleNames: ["Admin"] });
    await asAdmin("DELETE", `/agents/${existing.id}`);
    await expect(create()).rejects.toThrow(/adopt: true/);
    const { outs } = await create({ adopt: true });
    expect(outs).toMatchObject({ agentId: existing.id, adopted: true, onDestroy: "retain", active: true, firstName: "Integration" });
    expect(emu.agent(existing.id)).toMatchObject({ active: true, first_name: "Integration", roles: [{ role_id: roleId("SD Agent") }] });
  });

  test("refresh shows changes made in the UI as drift; update puts them back", async () => {
    const { id, outs } = await create({ jobTitle: "Integration" });
    expect(
      await asAdmin("PUT", `/agents/${outs.agentId}`, {
        job_title: "Changed by hand",
        roles: [{ role_id: roleId("Admin"), assignment_scope: "entire_helpdesk" }],
      }),
    ).toBe(200);
    const read = await provider.read!(id, outs);
    expect(read.props).toMatchObject({ jobTitle: "Changed by hand", roles: [{ roleName: "Admin" }] });
    const diff = await provider.diff!(id, read.props, inputs({ jobTitle: "Integration" }));
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    const up = await provider.update!(id, read.props, inputs({ jobTitle: "Integration" }));
    expect(up.outs).toMatchObject({ jobTitle: "Integration", roles: [{ roleName: "SD Agent" }] });
    expect(await provider.diff!(id, up.outs, inputs({ jobTitle: "Integration" }))).toMatchObject({ changes: false });
  });

  test("a role the read has not seen before is named with one roles lookup", async () => {
    const custom = emu.addRole({ name: "Integration Role" });
    const { id, outs } = await create();
    await asAdmin("PUT", `/agents/${outs.agentId}`, { roles: [{ role_id: custom.id, assignment_scope: "assigned_items" }] });
    const read = await provider.read!(id, outs);
    expect(read.props.roles).toEqual([{ roleId: custom.id, roleName: "Integration Role", assignmentScope: "assigned_items", groups: [] }]);
  });

  test("deactivate and reactivate follow `active`; a deactivation in the UI is drift", async () => {
    const { id, outs } = await create();
    const off = await provider.update!(id, outs, inputs({ active: false }));
    expect(off.outs.active).toBe(false);
    expect(emu.agent(outs.agentId)!.active).toBe(false);
    const on = await provider.update!(id, off.outs, inputs({ active: true }));
    expect(on.outs.active).toBe(true);
    expect(emu.agent(outs.agentId)!.active).toBe(true);

    await asAdmin("DELETE", `/agents/${outs.agentId}`);
    const read = await provider.read!(id, on.outs);
    expect(read.props.active).toBe(false);
    expect((await provider.diff!(id, read.props, inputs())).changes).toBe(true);
    await provider.update!(id, read.props, inputs());
    expect(emu.agent(outs.agentId)!.active).toBe(true);
  });

  test("role changes, group scopes and job titles are updated in one PUT", async () => {
    const { id, outs } = await create();
    emu.resetMetrics();
    const news = inputs({
      jobTitle: "Bot",
      roles: [{ roleName: "Admin", assignmentScope: "specified_groups", groups: [5, 3] }, { roleId: roleId("SD Agent") }],
    });
    expect((await provider.diff!(id, outs, news)).changes).toBe(true);
    const up = await provider.update!(id, outs, news);
    expect(emu.metrics().byRoute["PUT /agents/{id}"]).toBe(1);
    expect(up.outs.roles).toEqual([
      { roleId: roleId("Admin"), roleName: "Admin", assignmentScope: "specified_groups", groups: [3, 5] },
      { roleId: roleId("SD Agent"), roleName: "SD Agent", assignmentScope: "entire_helpdesk", groups: [] },
    ]);
    expect((await provider.diff!(id, up.outs, news)).changes).toBe(false);
  });

  test("diff: another domain or base URL replaces; a new managing key or onDestroy updates", async () => {
    const { id, outs } = await create();
    expect((await provider.diff!(id, outs, inputs({ domain: "elsewhere" }))).replaces).toEqual(["domain"]);
    expect((await provider.diff!(id, outs, inputs({ baseUrl: "https://proxy.example.com" }))).replaces).toEqual(["baseUrl"]);
    expect(await provider.diff!(id, outs, inputs({ apiKey: "rotated-key" }))).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.diff!(id, outs, inputs({ onDestroy: "forget" }))).toMatchObject({ changes: true, replaces: [] });
  });

  test("destroy deactivates by default, forgets on request, retains on request", async () => {
    const a = await create();
    await provider.delete!(a.id, a.outs);
    expect(emu.agent(a.outs.agentId)!.active).toBe(false);
    await provider.delete!(a.id, a.outs); // already deactivated: still fine

    const b = await create({ email: "b@example.com", onDestroy: "forget" });
    await provider.delete!(b.id, b.outs);
    expect(emu.agent(b.outs.agentId)).toBeUndefined();
    expect((await provider.read!(b.id, b.outs)).id).toBe("");
    await provider.delete!(b.id, b.outs); // already gone: still fine

    const c = await create({ email: "c@example.com", onDestroy: "retain" });
    emu.resetMetrics();
    await provider.delete!(c.id, c.outs);
    expect(emu.metrics().total).toBe(0);
    expect(emu.agent(c.outs.agentId)!.active).toBe(true);
  });

  test("an unknown role name fails listing the account's roles", async () => {
    await expect(create({ roles: [{ roleName: "Wizard" }] })).rejects.toThrow(/no role named "Wizard".*"SD Agent"/);
  });

  test("a managing key without rights gets the role hint; a revoked one the Permissions hint; neither echoes the key", async () => {
    const plain = emu.addAgent({ email: "plain@example.com", first_name: "Plain", roleNames: ["SD Agent"] });
    const plainKey = emu.addKey({ agentId: plain.id }).key;
    const denied = (await provider.create(inputs({ apiKey: plainKey })).catch((e: unknown) => e)) as KeywireError;
    expect(denied).toBeInstanceOf(KeywireError);
    expect(denied.status).toBe(403);
    expect(denied.message).toContain("access_denied");
    expect(denied.hint).toContain("role that can manage agents");
    expect(JSON.stringify(denied) + denied.message).not.toContain(plainKey);

    const { id, outs } = await create();
    emu.revokeKey(key);
    const refused = (await provider.read!(id, outs).catch((e: unknown) => e)) as KeywireError;
    expect(refused.status).toBe(401);
    expect(refused.hint).toContain("Permissions tab > API Key");
    expect(JSON.stringify(refused) + refused.message).not.toContain(key);
  });

  test("update of a forgotten agent says to refresh", async () => {
    const { id, outs } = await create();
    await asAdmin("DELETE", `/agents/${outs.agentId}/forget`);
    await expect(provider.update!(id, outs, inputs({ jobTitle: "x" }))).rejects.toThrow(/pulumi refresh/);
  });
});

describe("FreshserviceAgent in the state", () => {
  test("the managing key's fingerprint is a secret output, like the key", async () => {
    const opts = await registrationOptions(
      (o) =>
        new FreshserviceAgent(
          "a",
          { domain, apiKey: "a-key-1", email: "integration@example.com", firstName: "Integration", roles: [{ roleName: "SD Agent" }] },
          o,
        ),
    );
    expect(opts.additionalSecretOutputs).toEqual(expect.arrayContaining(["apiKey", "keyFingerprint"]));
  });
});

describe("FreshserviceAgent provider serialization", () => {
  test("round trip: no secret in the text, and the reloaded provider manages an agent", async () => {
    const rt = roundTrip(provider);
    expect(rt.text).not.toContain(key);
    const r = await rt.provider.create(inputs());
    expect(r.outs.active).toBe(true);
    await rt.provider.delete!(r.id, r.outs);
    expect(emu.agent(r.outs.agentId)!.active).toBe(false);
  });

  test("after the round trip, errors keep their message and transport failures are retried", async () => {
    const rt = roundTrip(provider);
    const dup = await rejection(rt.provider.create(inputs({ email: `admin@${domain}.example` })));
    expect(dup.message).toMatch(/already has this email.*adopt: true/);
    emu.revokeKey(key);
    const refused = await rejection(rt.provider.create(inputs()));
    expect(refused.message).toContain("invalid_credentials");
    expect(refused.message).toContain("Permissions tab > API Key");
    expect(refused.message).not.toContain(key);
    const unreachable = await rejection(rt.provider.read!("x/1", { domain, apiKey: key, baseUrlInput: "http://127.0.0.1:9", agentId: 1, roles: [] }));
    expect(unreachable.message).toMatch(/connection failed \(ECONNREFUSED\)/);
    expect(unreachable.retryable).toBe(true);
    expect(unreachable.attempts).toBe(5);
  });
});
