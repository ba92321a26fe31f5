/**
 * The API-key audit library against the emulator: every finding and its severity, the
 * report's shape, a bounded number of calls, paging, and no token anywhere.
 */
import { ServiceNowConnection, TableClient } from "../../resources/servicenow/client";
import { AuditReport, auditKeys } from "../../scripts/audit/auditKeys";
import { formatMarkdown, formatTable } from "../../scripts/audit/format";
import { ADMIN_PASSWORD } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const DAY_MS = 24 * 60 * 60 * 1000;
const glide = (d: Date): string => d.toISOString().slice(0, 19).replace("T", " ");

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD });

function client(pageSize?: number): TableClient {
  const conn = new ServiceNowConnection({ instance: emu.url, credentials: { kind: "basic", username: "admin", password: ADMIN_PASSWORD } });
  return new TableClient(conn, pageSize ? { pageSize } : {});
}

function roleId(name: string): string {
  return emu.store.query("sys_user_role", (r) => r.name === name)[0].sys_id;
}

function user(userName: string, roles: string[], fields: Record<string, string> = {}): string {
  const u = emu.store.insert("sys_user", { user_name: userName, ...fields });
  for (const r of roles) emu.store.insert("sys_user_has_role", { user: u.sys_id, role: roleId(r) });
  return u.sys_id;
}

function key(name: string, owner: string, expires: Date | undefined, scoped = true, active = true): string {
  const scope = emu.store.query("sys_auth_scope", (r) => r.name === "useraccount")[0].sys_id;
  return emu.store.insert("api_key", { name, user: owner, active, expires: expires ? glide(expires) : "", auth_scope: scoped ? scope : "" }).sys_id;
}

/** The mix the issue names; every key but "unmanaged" is managed by stack dev. */
function seedMix(now: Date): { ids: Record<string, string>; managed: Map<string, string> } {
  const events = user("svc.events", ["evt_mgmt_integration"]);
  const legacy = user("svc.legacy", ["evt_mgmt_integration"], { active: "false" });
  const admin = emu.store.query("sys_user", (r) => r.user_name === "admin")[0].sys_id;
  const in90 = new Date(now.getTime() + 90 * DAY_MS);
  const ids: Record<string, string> = {
    healthy: key("managed-healthy", events, in90),
    unmanaged: key("unmanaged", events, in90),
    expired: key("expired-active", events, new Date(now.getTime() - 2 * DAY_MS)),
    expiring: key("expiring-in-3-days", events, new Date(now.getTime() + 3 * DAY_MS)),
    admin: key("admin-owned", admin, in90),
    noExpiry: key("no-expiry", events, undefined),
    inactiveUser: key("inactive-owner", legacy, in90),
    noScope: key("no-auth-scope", events, in90, false),
  };
  const managed = new Map(
    Object.entries(ids)
      .filter(([k]) => k !== "unmanaged")
      .map(([, id]) => [id, "dev"] as [string, string]),
  );
  return { ids, managed };
}

function findingsOf(report: AuditReport, sysId: string): string[] {
  return report.findings.filter((f) => f.keySysId === sysId).map((f) => `${f.code}:${f.severity}`);
}

describe("findings", () => {
  test("each seeded key gets exactly its finding, with its severity and a remediation", async () => {
    const now = new Date();
    const { ids, managed } = seedMix(now);
    const report = await auditKeys(client(), { managed, now });

    expect(findingsOf(report, ids.healthy)).toEqual([]);
    expect(findingsOf(report, ids.unmanaged)).toEqual(["unmanaged:high"]);
    expect(findingsOf(report, ids.expired)).toEqual(["expired-active:high"]);
    expect(findingsOf(report, ids.expiring)).toEqual(["expiring-soon:medium"]);
    expect(findingsOf(report, ids.admin)).toEqual(["admin-owned:high"]);
    expect(findingsOf(report, ids.noExpiry)).toEqual(["no-expiry:medium"]);
    expect(findingsOf(report, ids.inactiveUser)).toEqual(["inactive-owner:high"]);
    expect(findingsOf(report, ids.noScope)).toEqual(["no-auth-scope:low"]);
    expect(report.findings.find((f) => f.keySysId === ids.expiring)!.message).toMatch(/expires in 3 days/);
    for (const f of report.findings) expect(f.remediation).toMatch(/^[A-Z].{10,}[^\n]$/);
    // Most severe first.
    expect(report.findings.map((f) => f.severity)).toEqual(["high", "high", "high", "high", "medium", "medium", "low"]);
  });

  test("the report's shape: keys with owner, roles, expiry and stack; a summary that adds up", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    emu.reset();
    const events = user("svc.events", ["evt_mgmt_integration", "itil"]);
    const id = key("k", events, new Date("2030-04-01T12:00:00Z"));
    const report = await auditKeys(client(), { managed: new Map([[id, "prod"]]), now });
    expect(report).toEqual({
      instance: emu.url,
      generatedAt: "2030-01-01T00:00:00.000Z",
      keys: [
        {
          sysId: id,
          name: "k",
          active: true,
          expires: "2030-04-01T12:00:00Z",
          createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
          updatedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
          owner: { sysId: events, found: true, userName: "svc.events", active: true, lockedOut: false, roles: ["evt_mgmt_integration", "itil"] },
          authScopes: ["UserAccount"],
          managedBy: "prod",
        },
      ],
      findings: [],
      summary: { keys: 1, managed: 1, unmanaged: 0, high: 0, medium: 0, low: 0 },
    });
  });

  test("summary counts the mix", async () => {
    const now = new Date();
    const { managed } = seedMix(now);
    const report = await auditKeys(client(), { managed, now });
    expect(report.summary).toEqual({ keys: 8, managed: 7, unmanaged: 1, high: 4, medium: 2, low: 1 });
  });

  test("a missing or locked-out owner is high; an unmanaged inactive key is low and gets nothing else", async () => {
    const now = new Date();
    const locked = user("svc.locked", ["evt_mgmt_integration"], { locked_out: "true" });
    const gone = "0123456789abcdef0123456789abcdef";
    const a = key("gone-owner", gone, new Date(now.getTime() + 90 * DAY_MS));
    const b = key("locked-owner", locked, new Date(now.getTime() + 90 * DAY_MS));
    const c = key("old-inactive", locked, undefined, false, false);
    const report = await auditKeys(client(), {
      managed: new Map([
        [a, "dev"],
        [b, "dev"],
      ]),
      now,
    });
    expect(findingsOf(report, a)).toEqual(["inactive-owner:high"]);
    expect(report.findings.find((f) => f.keySysId === a)!.message).toMatch(/does not exist/);
    expect(report.keys.find((k) => k.sysId === a)!.owner).toMatchObject({ found: false, userName: null, roles: [] });
    expect(findingsOf(report, b)).toEqual(["inactive-owner:high"]);
    expect(report.findings.find((f) => f.keySysId === b)!.message).toMatch(/locked out/);
    expect(findingsOf(report, c)).toEqual(["unmanaged:low"]);
  });

  test("--expiring-within-days moves the threshold", async () => {
    const now = new Date();
    const { ids, managed } = seedMix(now);
    const narrow = await auditKeys(client(), { managed, now, expiringWithinDays: 2 });
    expect(findingsOf(narrow, ids.expiring)).toEqual([]);
    const wide = await auditKeys(client(), { managed, now, expiringWithinDays: 100 });
    expect(findingsOf(wide, ids.healthy)).toEqual(["expiring-soon:medium"]);
  });

  test("when the instance does not return the auth-scope column, no scope finding is guessed", async () => {
    const now = new Date();
    const { ids, managed } = seedMix(now);
    emu.setOptions({ authScopeColumn: "u_scopes" });
    try {
      const report = await auditKeys(client(), { managed, now });
      expect(report.findings.some((f) => f.code === "no-auth-scope")).toBe(false);
      expect(report.keys.find((k) => k.sysId === ids.noScope)!.authScopes).toBeNull();
    } finally {
      emu.setOptions({ authScopeColumn: "auth_scope" });
    }
  });

  test("without the API-key plugin the audit fails with the plugin's name", async () => {
    emu.setOptions({ plugin: "absent" });
    try {
      await expect(auditKeys(client(), { managed: new Map() })).rejects.toThrow(/com\.glide\.tokenbased_auth/);
    } finally {
      emu.setOptions({ plugin: "active" });
    }
  });
});

describe("calls", () => {
  function seedMany(n: number): void {
    const in90 = new Date(Date.now() + 90 * DAY_MS);
    for (let i = 0; i < n; i++) key(`key-${i}`, user(`svc.${i}`, ["evt_mgmt_integration", "itil"]), in90);
  }

  test("5 keys and 50 keys (each with its own owner) cost the same 3 calls", async () => {
    seedMany(5);
    emu.resetMetrics();
    const small = await auditKeys(client(), { managed: new Map() });
    const smallCalls = emu.metrics().total;

    emu.reset();
    seedMany(50);
    emu.resetMetrics();
    const large = await auditKeys(client(), { managed: new Map() });
    const largeCalls = emu.metrics().total;

    expect(small.keys).toHaveLength(5);
    expect(large.keys).toHaveLength(50);
    expect(large.keys.every((k) => k.owner.roles.join() === "evt_mgmt_integration,itil")).toBe(true);
    expect(smallCalls).toBe(3);
    expect(largeCalls).toBe(smallCalls);
    expect(emu.metrics().byTable).toEqual({ api_key: { GET: 1 }, sys_user: { GET: 1 }, sys_user_has_role: { GET: 1 } });
  });

  test("more keys than a page: the listing pages and no key is lost or repeated", async () => {
    const owner = user("svc.events", ["evt_mgmt_integration"]);
    const in90 = new Date(Date.now() + 90 * DAY_MS);
    for (let i = 0; i < 25; i++) key(`k-${String(i).padStart(2, "0")}`, owner, in90);
    emu.resetMetrics();
    const report = await auditKeys(client(10), { managed: new Map() });
    expect(new Set(report.keys.map((k) => k.sysId)).size).toBe(25);
    expect(report.keys.map((k) => k.name)).toEqual([...Array(25).keys()].map((i) => `k-${String(i).padStart(2, "0")}`));
    expect(emu.metrics().byTable.api_key.GET).toBe(3);
  });

  test("1001 keys with the default page size: two pages of api_key, one call each for owners and roles", async () => {
    const owner = user("svc.events", ["evt_mgmt_integration"]);
    for (let i = 0; i < 1001; i++) emu.store.insert("api_key", { name: `bulk-${i}`, user: owner, active: true });
    emu.resetMetrics();
    const report = await auditKeys(client(), { managed: new Map() });
    expect(report.keys).toHaveLength(1001);
    expect(emu.metrics().byTable).toEqual({ api_key: { GET: 2 }, sys_user: { GET: 1 }, sys_user_has_role: { GET: 1 } });
  });
});

test("no token appears in the report, the table or the Markdown, even when the instance would reveal tokens", async () => {
  // With this variant a privileged read that asked for `token` would get the real value.
  emu.setOptions({ tokenReadback: "display_value" });
  try {
    const now = new Date();
    const { ids, managed } = seedMix(now);
    const report = await auditKeys(client(), { managed, now });
    const texts = [JSON.stringify(report), formatTable(report), formatMarkdown(report)];
    for (const id of Object.values(ids)) {
      const token = emu.tokenOf(id)!;
      expect(token).toMatch(/^now_/);
      for (const t of texts) expect(t).not.toContain(token);
    }
    for (const t of texts) expect(t).not.toContain("now_");
  } finally {
    emu.setOptions({ tokenReadback: "none" });
  }
});

test("text from the instance cannot add lines to the log or markup to the CI comment", async () => {
  const hostile = "evil|name\n::warning::x \u001b[31m@team [x](https://e.example)";
  emu.store.insert("api_key", { name: hostile, user: emu.store.query("sys_user", (r) => r.user_name === "admin")[0].sys_id, active: true });
  const report = await auditKeys(client(), { managed: new Map() });
  const table = formatTable(report);
  const lines = table.split("\n");
  expect(lines.some((l) => l.startsWith("::warning::"))).toBe(false);
  expect(table).not.toContain("\u001b");
  // Title, summary, blank, header, one key row, blank, findings header, 2 lines per finding (4 findings), final newline.
  expect(lines).toHaveLength(7 + 2 * report.findings.length + 1);

  const markdown = formatMarkdown(report);
  expect(markdown).not.toMatch(/@team|\]\(https:\/\//);
  const keyRow = markdown.split("\n").find((l) => l.startsWith("| evil"))!;
  // Eight cells: the | in the name is escaped, so it does not open a ninth.
  expect(keyRow.split(/(?<!\\)\|/).length - 2).toBe(8);
  expect(markdown).toContain(`### API-key audit of \`${emu.url}\``);
});
