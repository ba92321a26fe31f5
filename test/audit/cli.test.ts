/**
 * `npm run audit` end to end: the CLI is spawned as npm would run it, against the
 * emulator, with `--state` files standing in for Pulumi (so no Pulumi is needed).
 */
import { runCommand } from "../../scripts/shared/process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { brokenDeliveriesOf, managedKeysOf } from "../../scripts/audit/cli";
import { findingsFor, type AuditReport, type AuditedKey } from "../../scripts/audit/auditKeys";
import { chainFromAuditedKey } from "../../scripts/chain/chainDiagram";
import { ADMIN_PASSWORD } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const ROOT = path.resolve(__dirname, "..", "..");
const TS_NODE = path.join(ROOT, "node_modules", ".bin", "ts-node");
const RUN_TIMEOUT_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;
const API_KEY_TYPE = "pulumi-nodejs:dynamic/keywire/servicenow:ApiKey";
const glide = (d: Date): string => d.toISOString().slice(0, 19).replace("T", " ");

jest.setTimeout(3 * RUN_TIMEOUT_MS);

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD });
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-audit-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as `npm run audit` starts it, with only the emulator's connection in its environment. */
async function audit(args: string[], password = ADMIN_PASSWORD): Promise<Run> {
  // Without GITHUB_STEP_SUMMARY: run inside a CI job, the audit would append to that job's summary.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SERVICENOW_") && k !== "GITHUB_STEP_SUMMARY"));
  Object.assign(env, { SERVICENOW_INSTANCE_URL: emu.url, SERVICENOW_USERNAME: "admin", SERVICENOW_PASSWORD: password });
  const res = await runCommand(process.execPath, [TS_NODE, "--transpile-only", "scripts/audit/cli.ts", ...args], { cwd: ROOT, env, timeoutMs: RUN_TIMEOUT_MS });
  if (res.timedOut) throw new Error(`audit ${args.join(" ")} did not finish within ${RUN_TIMEOUT_MS} ms`);
  return { code: res.code, stdout: res.stdout, stderr: res.stderr };
}

/** A `pulumi stack export` document holding the given ApiKeys (and, like a real one, other resources). */
function stateFile(stack: string, keyIds: string[]): string {
  const urn = (type: string, name: string): string => `urn:pulumi:${stack}::keywire::${type}::${name}`;
  const doc = {
    version: 3,
    deployment: {
      manifest: { time: "2030-01-01T00:00:00Z", magic: "x", version: "v3.259.0" },
      resources: [
        { urn: urn("pulumi:pulumi:Stack", `keywire-${stack}`), custom: false, type: "pulumi:pulumi:Stack" },
        ...keyIds.map((id, i) => ({
          urn: urn(API_KEY_TYPE, `key-${i}`),
          custom: true,
          id,
          type: API_KEY_TYPE,
          outputs: { sysId: id, token: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" } },
        })),
      ],
    },
  };
  const file = path.join(dir, `${stack}.json`);
  fs.writeFileSync(file, JSON.stringify(doc));
  return file;
}

function roleId(name: string): string {
  return emu.store.query("sys_user_role", (r) => r.name === name)[0].sys_id;
}

function user(userName: string, roles: string[], fields: Record<string, string> = {}): string {
  const u = emu.store.insert("sys_user", { user_name: userName, ...fields });
  for (const r of roles) emu.store.insert("sys_user_has_role", { user: u.sys_id, role: roleId(r) });
  return u.sys_id;
}

function key(name: string, owner: string, expiresInDays: number | undefined, scoped = true): string {
  const scope = emu.store.query("sys_auth_scope", (r) => r.name === "useraccount")[0].sys_id;
  const expires = expiresInDays === undefined ? "" : glide(new Date(Date.now() + expiresInDays * DAY_MS));
  return emu.store.insert("api_key", { name, user: owner, active: true, expires, auth_scope: scoped ? scope : "" }).sys_id;
}

/** The mix: dev manages the healthy and most flawed keys, prod the admin-owned one; "unmanaged" is nobody's. */
function seedMix(): { ids: Record<string, string>; dev: string; prod: string } {
  const events = user("svc.events", ["evt_mgmt_integration"]);
  const legacy = user("svc.legacy", ["evt_mgmt_integration"], { active: "false" });
  const admin = emu.store.query("sys_user", (r) => r.user_name === "admin")[0].sys_id;
  const ids = {
    healthy: key("managed-healthy", events, 90),
    unmanaged: key("unmanaged", events, 90),
    expired: key("expired-active", events, -2),
    expiring: key("expiring-in-3-days", events, 3),
    admin: key("admin-owned", admin, 90),
    noExpiry: key("no-expiry", events, undefined),
    inactiveUser: key("inactive-owner", legacy, 90),
    noScope: key("no-auth-scope", events, 90, false),
  };
  const dev = stateFile("dev", [ids.healthy, ids.expired, ids.expiring, ids.noExpiry, ids.inactiveUser, ids.noScope]);
  const prod = stateFile("prod", [ids.admin]);
  return { ids, dev, prod };
}

function tableRow(stdout: string, name: string): string {
  const row = stdout.split("\n").find((l) => l.startsWith(`${name} `));
  if (!row) throw new Error(`no table row for ${name} in:\n${stdout}`);
  return row;
}

test("the table, the JSON and the Markdown of the seeded mix; exit 0 by default; no token or password anywhere", async () => {
  const { ids, dev, prod } = seedMix();
  const json = path.join(dir, "out", "audit.json");
  const markdown = path.join(dir, "out", "audit.md");
  const run = await audit(["--state", dev, "--state", prod, "--json", json, "--markdown", markdown]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);

  const out = run.stdout;
  expect(out).toContain(`API-key audit of ${emu.url}`);
  expect(out).toContain("8 keys (7 managed, 1 unmanaged); findings: 4 high, 2 medium, 1 low");
  expect(tableRow(out, "managed-healthy")).toMatch(/svc\.events\s+evt_mgmt_integration\s+yes\s+\d{4}-\d{2}-\d{2}\s+\d{4}-\d{2}-\d{2}\s+dev\s+-$/);
  expect(tableRow(out, "unmanaged")).toMatch(/\s-\s+unmanaged$/);
  expect(tableRow(out, "expired-active")).toMatch(/dev\s+expired-active$/);
  expect(tableRow(out, "expiring-in-3-days")).toMatch(/dev\s+expiring-soon$/);
  expect(tableRow(out, "admin-owned")).toMatch(/admin\s+admin\s+yes .*prod\s+admin-owned$/);
  expect(tableRow(out, "no-expiry")).toMatch(/yes\s+never\s+.*no-expiry$/);
  expect(tableRow(out, "inactive-owner")).toMatch(/svc\.legacy \(inactive\).*inactive-owner$/);
  expect(tableRow(out, "no-auth-scope")).toMatch(/no-auth-scope$/);
  expect(out).toMatch(/^HIGH\s+admin-owned\s+admin-owned\s+the owner admin has the admin role/m);
  expect(out).toMatch(/^MEDIUM\s+expiring-in-3-days\s+expiring-soon\s+the key expires in 3 days/m);
  expect(out).toMatch(/^LOW\s+no-auth-scope\s+no-auth-scope\s+/m);
  expect(out).toMatch(/^\s+fix: Move the key to a dedicated integration user/m);

  const report = JSON.parse(fs.readFileSync(json, "utf8"));
  expect(Object.keys(report).sort()).toEqual(["findings", "generatedAt", "instance", "keys", "summary"]);
  expect(report.instance).toBe(emu.url);
  expect(report.summary).toEqual({ keys: 8, managed: 7, unmanaged: 1, high: 4, medium: 2, low: 1 });
  const byCode = Object.fromEntries(report.findings.map((f: { code: string; severity: string; keySysId: string }) => [f.code, [f.severity, f.keySysId]]));
  expect(byCode).toEqual({
    unmanaged: ["high", ids.unmanaged],
    "expired-active": ["high", ids.expired],
    "admin-owned": ["high", ids.admin],
    "inactive-owner": ["high", ids.inactiveUser],
    "expiring-soon": ["medium", ids.expiring],
    "no-expiry": ["medium", ids.noExpiry],
    "no-auth-scope": ["low", ids.noScope],
  });
  expect(report.keys.find((k: { sysId: string }) => k.sysId === ids.admin).managedBy).toBe("prod");

  const md = fs.readFileSync(markdown, "utf8");
  expect(md).toContain("#### Findings");
  expect(md).toContain("| 🔴 high | admin-owned | `admin-owned` |");
  expect(md).toContain("| 🟡 low | no-auth-scope | `no-auth-scope` |");
  expect(md).toContain("| managed-healthy | svc.events | evt\\_mgmt\\_integration | yes |");

  for (const id of Object.values(ids)) {
    const token = emu.tokenOf(id)!;
    for (const text of [run.stdout, run.stderr, JSON.stringify(report), md]) expect(text).not.toContain(token);
  }
  for (const text of [run.stdout, JSON.stringify(report), md]) expect(text).not.toContain(ADMIN_PASSWORD);
});

test("--summary appends the Markdown and one chain per managed key, its broken link marked", async () => {
  const events = user("svc.events", ["evt_mgmt_integration"]);
  const legacy = user("svc.legacy", ["evt_mgmt_integration"], { active: "false" });
  const state = stateFile("dev", [key("managed-healthy", events, 90), key("inactive-owner", legacy, 90)]);
  key("hand-made", events, 90);
  const summary = path.join(dir, "out", "audit-summary.md");
  fs.mkdirSync(path.dirname(summary), { recursive: true });
  fs.writeFileSync(summary, "before\n\n");
  const run = await audit(["--state", state, "--summary", summary]);
  expect(run.code).toBe(0);
  const text = fs.readFileSync(summary, "utf8");
  expect(text.startsWith("before\n\n### API-key audit of")).toBe(true);
  expect(text).toContain("#### The chains of keywire's keys");
  // Two managed keys, two diagrams; the unmanaged key has no keywire chain.
  const blocks = [...text.matchAll(/##### (.+)\n\n```mermaid\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]);
  expect(blocks.map(([heading]) => heading).sort()).toEqual(["inactive-owner (stack dev)", "managed-healthy (stack dev)"]);
  const diagram = Object.fromEntries(blocks);
  expect(diagram["inactive-owner (stack dev)"]).toMatch(/^ {2}class user broken$/m);
  expect(diagram["managed-healthy (stack dev)"]).not.toContain("broken");
  expect(diagram["managed-healthy (stack dev)"]).toMatch(/^ {2}class user,key ok$/m);
});

test("--fail-on high with the mix: exit 1, and the reason on stderr", async () => {
  const { dev, prod } = seedMix();
  const run = await audit(["--state", dev, "--state", prod, "--fail-on", "high"]);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain("4 findings at or above high");
});

test("--fail-on thresholds with only a low finding: high 0, medium 0, low 1, none 0", async () => {
  const events = user("svc.events", ["evt_mgmt_integration"]);
  const state = stateFile("dev", [key("managed-healthy", events, 90), key("no-auth-scope", events, 90, false)]);
  const codes: Record<string, number | null> = {};
  for (const level of ["high", "medium", "low", "none"]) codes[level] = (await audit(["--state", state, "--fail-on", level])).code;
  expect(codes).toEqual({ high: 0, medium: 0, low: 1, none: 0 });
});

test("--expiring-within-days widens the window", async () => {
  const events = user("svc.events", ["evt_mgmt_integration"]);
  const state = stateFile("dev", [key("managed-healthy", events, 90)]);
  const run = await audit(["--state", state, "--expiring-within-days", "120", "--fail-on", "medium"]);
  expect(run.code).toBe(1);
  expect(tableRow(run.stdout, "managed-healthy")).toMatch(/expiring-soon$/);
});

test("a refused login: exit 2, a message with a hint, and no password", async () => {
  const state = stateFile("dev", []);
  const wrong = "Wr0ng-pa55word-xyz";
  const run = await audit(["--state", state], wrong);
  expect(run.code).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(/^audit: \[servicenow\] list api_key failed \(HTTP 401\): the instance refused the basic-auth login of user "admin"/);
  expect(run.stderr).not.toContain(wrong);
  expect(run.stderr).not.toContain(Buffer.from(`admin:${wrong}`).toString("base64"));
});

test("usage errors exit 2: no stack and no state, an unknown flag, a bad --fail-on, an unreadable state file", async () => {
  const runs = [
    await audit([]),
    await audit(["--stack", "dev", "--bogus"]),
    await audit(["--state", stateFile("dev", []), "--fail-on", "critical"]),
    await audit(["--state", path.join(dir, "missing.json")]),
  ];
  expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
  expect(runs[0].stderr).toMatch(/give --stack, or --state/);
  expect(runs[1].stderr).toMatch(/--bogus/);
  expect(runs[2].stderr).toMatch(/--fail-on takes high, medium, low or none/);
  expect(runs[3].stderr).toMatch(/missing\.json: cannot read it \(ENOENT\)/);
  for (const r of runs) expect(r.stdout).toBe("");
});

describe("managedKeysOf (reading `pulumi stack export`)", () => {
  const a = "a".repeat(32);
  const b = "b".repeat(32);
  test("ApiKeys by outputs.sysId or id, named by the stack in their URN; other resources ignored", () => {
    const doc = {
      version: 3,
      deployment: {
        resources: [
          { urn: "urn:pulumi:staging::keywire::pulumi:pulumi:Stack::keywire-staging", type: "pulumi:pulumi:Stack" },
          { urn: `urn:pulumi:staging::keywire::${API_KEY_TYPE}::k1`, type: API_KEY_TYPE, id: a, outputs: { sysId: a } },
          { urn: `urn:pulumi:staging::keywire::${API_KEY_TYPE}::k2`, type: API_KEY_TYPE, id: b, outputs: {} },
          {
            urn: "urn:pulumi:staging::keywire::pulumi-nodejs:dynamic/keywire/servicenow:InboundProfile::p",
            type: "pulumi-nodejs:dynamic/keywire/servicenow:InboundProfile",
            id: "c".repeat(32),
          },
        ],
      },
    };
    expect([...managedKeysOf(doc, "fallback")]).toEqual([
      [a, "staging"],
      [b, "staging"],
    ]);
  });

  test("a document that is not an export is refused", () => {
    expect(() => managedKeysOf({ hello: 1 }, "x")).toThrow(/not a `pulumi stack export` document \(no deployment\)/);
  });
});

describe("brokenDeliveriesOf (the chain a stack's state recorded broken)", () => {
  const VERIFY_TYPE = "pulumi-nodejs:dynamic/keywire/servicenow:ApiKeyVerification";
  const a = "a".repeat(32);
  const b = "b".repeat(32);
  test("only verifications whose last up or refresh found the chain broken, by key, with link, since and message", () => {
    const doc = {
      deployment: {
        resources: [
          {
            urn: `urn:pulumi:prod::keywire::${VERIFY_TYPE}::v1`,
            type: VERIFY_TYPE,
            outputs: { keySysId: a, verified: false, brokenLinkId: "link.event", brokenSince: "2026-12-01 10:00:00", brokenLink: 'the policy "X" outranks' },
          },
          { urn: `urn:pulumi:prod::keywire::${VERIFY_TYPE}::v2`, type: VERIFY_TYPE, outputs: { keySysId: b, verified: true, brokenLinkId: "" } },
          { urn: `urn:pulumi:prod::keywire::${API_KEY_TYPE}::k1`, type: API_KEY_TYPE, id: a, outputs: { sysId: a, verified: false } },
        ],
      },
    };
    expect([...brokenDeliveriesOf(doc, "fallback")]).toEqual([
      [a, { stack: "prod", linkId: "link.event", since: "2026-12-01 10:00:00", message: 'the policy "X" outranks' }],
    ]);
  });

  test("a recorded break is one high finding on the managed key, saying what to run", () => {
    const key: AuditedKey = {
      sysId: a,
      name: "prod events",
      active: true,
      expires: "2099-01-01T00:00:00Z",
      createdAt: null,
      updatedAt: null,
      owner: { sysId: b, found: true, userName: "svc.events", active: true, lockedOut: false, roles: ["evt_mgmt_integration"] },
      authScopes: ["useraccount"],
      managedBy: "prod",
    };
    const findings = findingsFor(key, new Date("2026-12-07T00:00:00Z"), 14, {
      stack: "prod",
      linkId: "link.event",
      since: "2026-12-01 10:00:00",
      message: 'the policy "X" outranks',
    });
    expect(findings).toEqual([
      expect.objectContaining({
        code: "delivery-broken",
        severity: "high",
        link: "link.event",
        message: expect.stringContaining("since 2026-12-01 10:00:00 UTC"),
      }),
    ]);
    expect(findings[0].remediation).toMatch(/pulumi up --refresh; npm run drift -- --stack prod checks it again$/);
    const report: AuditReport = {
      instance: "https://x",
      generatedAt: "2026-12-07T00:00:00Z",
      keys: [key],
      findings,
      summary: { keys: 1, managed: 1, unmanaged: 0, high: 1, medium: 0, low: 0 },
    };
    const chain = chainFromAuditedKey(report, key);
    expect(chain.nodes.link.status).toBe("broken");
  });
});
