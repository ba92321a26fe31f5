/**
 * The packed package in programs made from Pulumi's `typescript` template: its
 * declarations type-check under the template's tsconfig (no esModuleInterop, no
 * skipLibCheck), and @pulumi/aws is needed only by `keywire/aws`. A program with
 * ServiceNow resources only does not install it, loads no AWS package, and so makes
 * Pulumi ask for no AWS plugin; `keywire/aws` without it says what to install.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { runCommand } from "../../scripts/shared/process";
import { NPM_TIMEOUT_MS, packKeywire } from "../../scripts/package/packed";
import { filesImportingZod } from "../../scripts/package/declarations";
import { TEMPLATE_TSCONFIG, checkoutAwsVersion, installTemplateProgram, typeCheck } from "./templateProgram";

jest.setTimeout(5 * 60_000);

let work: string;
/** keywire alone: no @pulumi/aws. */
let serviceNowOnly: string;
/** keywire and @pulumi/aws, as a program with AWS resources installs them. */
let withAws: string;
const env = { ...process.env };

beforeAll(
  async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-installed-"));
    const { tarball } = await packKeywire(work, env);
    serviceNowOnly = path.join(work, "servicenow-only");
    withAws = path.join(work, "with-aws");
    await Promise.all([
      installTemplateProgram(serviceNowOnly, tarball, env),
      installTemplateProgram(withAws, tarball, env, { aws: checkoutAwsVersion(REPO_ROOT) }),
    ]);
  },
  2 * NPM_TIMEOUT_MS + 60_000,
);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Runs a CommonJS script with the program's node_modules, as the program would. */
async function runIn(dir: string, script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = path.join(dir, `script-${Date.now()}-${Math.random().toString(16).slice(2)}.js`);
  fs.writeFileSync(file, script);
  const res = await runCommand(process.execPath, [file], { cwd: dir, env, timeoutMs: 60_000 });
  return { code: res.timedOut ? null : res.code, stdout: res.stdout, stderr: res.stderr };
}

/** Every module a script loaded from node_modules, as paths from the program's directory. */
const LOADED = `
const loadedPackages = (dir) => Object.keys(require.cache)
  .filter((f) => f.includes(require("path").sep + "node_modules" + require("path").sep))
  .map((f) => require("path").relative(dir, f).split(require("path").sep).join("/"));
`;

describe("a program with ServiceNow resources only", () => {
  test("installs keywire without @pulumi/aws, an optional peer dependency", () => {
    expect(fs.existsSync(path.join(serviceNowOnly, "node_modules", "keywire", "dist", "servicenow", "index.js"))).toBe(true);
    expect(fs.existsSync(path.join(serviceNowOnly, "node_modules", "@pulumi", "aws"))).toBe(false);
    const pkg = JSON.parse(fs.readFileSync(path.join(serviceNowOnly, "node_modules", "keywire", "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith("@pulumi/") && d !== "@pulumi/pulumi")).toEqual([]);
    expect(pkg.peerDependencies["@pulumi/aws"]).toBeDefined();
    expect(pkg.peerDependenciesMeta["@pulumi/aws"]).toEqual({ optional: true });
  });

  test("loads keywire and keywire/servicenow and registers the component's resources, loading no AWS package", async () => {
    const res = await runIn(
      serviceNowOnly,
      `${LOADED}
const pulumi = require("@pulumi/pulumi");
const types = [];
pulumi.runtime.setMocks(
  {
    newResource: (args) => { types.push(args.type); return { id: args.name + "-id", state: args.inputs }; },
    call: (args) => args.inputs,
  },
  "program", "test", false,
).then(async () => {
  const { ServiceNowApiKeyAuth } = require("keywire");
  const { InboundProfile } = require("keywire/servicenow");
  const auth = new ServiceNowApiKeyAuth("events", {
    namePrefix: "program",
    integrationUser: { userName: "svc.program.events", create: true, roles: ["evt_mgmt_integration"] },
    policyMode: "attach",
    keepBasicAuth: true,
    apiKey: { expiresInDays: 90, authScopes: ["useraccount"], tokenStrategy: "auto" },
    pushConnector: { name: "AWS SNS push connector", create: false, source: "aws" },
    connection: { instance: "https://dev1.service-now.com", username: "deployer", password: "pw" },
  });
  const profile = new InboundProfile("extra", { name: "program extra profile", keyLocation: "header" });
  // The key and the verification are registered once what they depend on is.
  await new Promise((resolve) => pulumi.all([auth.urn, auth.keySysId, auth.verified, profile.urn]).apply(resolve));
  console.log(JSON.stringify({ types, loaded: loadedPackages(process.cwd()) }));
});
`,
    );
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const { types, loaded } = JSON.parse(res.stdout) as { types: string[]; loaded: string[] };
    expect(types).toEqual(
      expect.arrayContaining([
        "keywire:servicenow:ApiKeyAuth",
        "pulumi-nodejs:dynamic/keywire/servicenow:ApiKey",
        "pulumi-nodejs:dynamic/keywire/servicenow:InboundProfile",
      ]),
    );
    expect(loaded).toEqual(expect.arrayContaining(["node_modules/keywire/dist/index.js", "node_modules/keywire/dist/servicenow/index.js"]));
    expect(loaded.filter((f) => /^node_modules\/(@pulumi\/aws|@aws-sdk)\//.test(f) || f.startsWith("node_modules/keywire/dist/aws/"))).toEqual([]);
  });

  test("keywire/aws without @pulumi/aws fails, saying to install it", async () => {
    const res = await runIn(serviceNowOnly, `require("keywire/aws");\n`);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("keywire/aws needs @pulumi/aws, which is not installed: run `npm install @pulumi/aws` in your program");
  });

  test("type-checks `keywire` and `keywire/servicenow` under the template's tsconfig, without @pulumi/aws", async () => {
    fs.writeFileSync(
      path.join(serviceNowOnly, "index.ts"),
      `import { ServiceNowApiKeyAuth, inputErrorMap } from "keywire";
import { ApiKey, keySettingsSchema, type KeySettings } from "keywire/servicenow";

export const used = [ServiceNowApiKeyAuth, inputErrorMap, ApiKey, keySettingsSchema];
export const settings: KeySettings = { authScopes: ["useraccount"], tokenStrategy: "auto" };
`,
    );
    const tsc = await typeCheck(serviceNowOnly, env);
    expect(tsc.output).toBe("");
    expect(tsc.code).toBe(0);
  });
});

describe("a program with AWS resources", () => {
  test("type-checks `keywire`, `keywire/servicenow` and `keywire/aws` under the template's tsconfig, reading none of zod's declarations", async () => {
    expect(JSON.parse(fs.readFileSync(path.join(withAws, "tsconfig.json"), "utf8"))).toEqual(TEMPLATE_TSCONFIG);
    fs.writeFileSync(
      path.join(withAws, "index.ts"),
      `import * as keywire from "keywire";
import * as servicenow from "keywire/servicenow";
import * as aws from "keywire/aws";
import * as freshservice from "keywire/freshservice";
import * as ivanti from "keywire/ivanti";

export const modules = [keywire, servicenow, aws, freshservice, ivanti];
export const settings: servicenow.KeySettings = { authScopes: ["useraccount"], tokenStrategy: "auto" };
// @ts-expect-error a token strategy keywire does not know (the types are keywire's, not any)
export const wrong: servicenow.KeySettings = { authScopes: [], tokenStrategy: "guess" };
`,
    );
    const tsc = await typeCheck(withAws, env);
    expect(tsc.output).toBe("");
    expect(tsc.code).toBe(0);
    // The cause the template's programs failed on: zod's declarations reached through keywire's.
    const listed = await typeCheck(withAws, env, "tsconfig.json", ["--listFilesOnly"]);
    expect(listed.output).toContain("node_modules/keywire/dist/aws/index.d.ts");
    expect(listed.output.split("\n").filter((f) => f.includes("/node_modules/zod/"))).toEqual([]);
    expect(filesImportingZod(path.join(withAws, "node_modules", "keywire", "dist"))).toEqual([]);
  });

  test("loads keywire/aws", async () => {
    const res = await runIn(withAws, `const aws = require("keywire/aws"); console.log(typeof aws.SnsEventIntegration, typeof aws.KeyDistribution);\n`);
    expect(res.stderr).toBe("");
    expect(res.stdout.trim()).toBe("function function");
  });

  test("a program that uses zod itself composes keywire's schemas into its own and validates with them", async () => {
    // Such a program checks zod's declarations, so it sets esModuleInterop as zod needs.
    const dir = path.join(withAws, "zod-user");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { ...TEMPLATE_TSCONFIG.compilerOptions, esModuleInterop: true, noEmit: true }, files: ["index.ts"] }),
    );
    fs.writeFileSync(
      path.join(dir, "index.ts"),
      `import { z } from "zod";
import { inputErrorMap } from "keywire";
import { adoptSettingSchema, keySettingsSchema, recordName, type AdoptSetting, type KeySettings } from "keywire/servicenow";

export const config = z.object({ apiKey: keySettingsSchema(z), adopt: adoptSettingSchema(z).optional(), name: recordName(z) });
type Config = z.infer<typeof config>;
export function parts(c: Config): [KeySettings, AdoptSetting | undefined, string] {
  return [c.apiKey, c.adopt, c.name];
}
// @ts-expect-error name is required; adopt may be left out
export const missing: Config = { apiKey: { authScopes: [], tokenStrategy: "auto" } };
export function scopes(input: unknown): string[] {
  const parsed = keySettingsSchema(z).safeParse(input, { error: inputErrorMap });
  return parsed.success ? parsed.data.authScopes : parsed.error.issues.map((i) => i.message);
}
export const checked = config.safeParse({}, { error: inputErrorMap });
`,
    );
    const tsc = await typeCheck(withAws, env, path.join("zod-user", "tsconfig.json"));
    expect(tsc.output).toBe("");
    expect(tsc.code).toBe(0);

    const res = await runIn(
      withAws,
      `const { z } = require("zod");
const { inputErrorMap } = require("keywire");
const { keySettingsSchema } = require("keywire/servicenow");
const schema = z.object({ apiKey: keySettingsSchema(z) });
const ok = schema.parse({ apiKey: { expiresInDays: 30 } });
const bad = schema.safeParse({ apiKey: { expiresInDays: "soon" } }, { error: inputErrorMap });
console.log(JSON.stringify({ ok, issues: bad.error.issues.map((i) => [i.path.join("."), i.message]) }));
`,
    );
    expect(res.stderr).toBe("");
    const out = JSON.parse(res.stdout) as { ok: { apiKey: KeySettingsLike }; issues: Array<[string, string]> };
    expect(out.ok.apiKey).toEqual(expect.objectContaining({ expiresInDays: 30, authScopes: expect.any(Array), tokenStrategy: expect.any(String) }));
    // keywire's wording, through the program's zod (zod's own starts "Invalid input").
    expect(out.issues).toEqual([["apiKey.expiresInDays", expect.stringContaining("number")]]);
    expect(out.issues[0][1]).not.toMatch(/^Invalid input/);
  });
});

interface KeySettingsLike {
  expiresInDays?: number;
  authScopes: string[];
  tokenStrategy: string;
}
