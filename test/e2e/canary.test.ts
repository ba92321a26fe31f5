/**
 * `npm run canary` end to end: the CLI runs as a child process, as npm starts it, and
 * publishes through a real SNS API (goaws, scripts/sns/snsTestServer.ts) whose http
 * subscription points at the ServiceNow emulator's Event Management endpoint. The chain
 * keywire builds (user with evt_mgmt_integration, API key, query-parameter profile,
 * access policy for sn_em_connector/em, push connector) is made in the emulator directly,
 * and the CLI gets --topic-arn and SERVICENOW_* variables, so no Pulumi stack is needed.
 *
 * The two broken chains are the silent ones: SNS reports success either way, because
 * it counts the endpoint's 4xx answer as delivered.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import type { GlideRecord, RunningEmulator } from "../../emulator/servicenow";
import { CANARY_EXIT } from "../../scripts/canary/exitCodes";
import type { CanaryReport } from "../../scripts/canary/report";
import { runCommand } from "../../scripts/shared/process";
import { SnsTestServer, startSnsTestServer } from "../../scripts/sns/snsTestServer";
import { makeKey, makeKeyProfile, makeUser, mapProfile } from "../emulator/servicenow/helpers";
import { ADMIN_PASSWORD, startEmulator } from "../support/serviceNow";

const ROOT = path.resolve(__dirname, "..", "..");
const TS_NODE = require.resolve("ts-node/dist/bin.js", { paths: [ROOT] });
/** A cold Go module and build cache makes the first start build the SNS server. */
const FIRST_START_TIMEOUT_MS = 10 * 60_000;
const RUN_TIMEOUT_MS = 120_000;
const CONFIRM_TIMEOUT_MS = 15_000;
const INBOUND_ROUTE = "POST em/inbound_event";
const STACK = "e2e";

jest.setTimeout(4 * RUN_TIMEOUT_MS);

let sns: SnsTestServer;
let em: RunningEmulator;
let aws: SNSClient;
let dir: string;

beforeAll(async () => {
  sns = await startSnsTestServer();
  em = await startEmulator();
  // In this process the client is given what `sns.env` gives the CLI.
  aws = new SNSClient({
    endpoint: sns.endpoint,
    region: sns.region,
    credentials: { accessKeyId: "keywire-test", secretAccessKey: "keywire-test-secret" },
    maxAttempts: 1,
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-canary-e2e-"));
}, FIRST_START_TIMEOUT_MS);

afterAll(async () => {
  aws?.destroy();
  await em?.stop();
  await sns?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  em.reset();
});

/** Polls `probe` until it returns a value, for at most `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = CONFIRM_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000; i++) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`waited ${timeoutMs} ms for ${what}`);
}

interface Chain {
  topicArn: string;
  keyId: string;
  token: string;
  profileId: string;
}

let topics = 0;

/** The working chain on the instance, a topic, and its confirmed http subscription to the endpoint. */
async function healthyChain(): Promise<Chain> {
  const user = makeUser(em, "svc.keywire.events", ["evt_mgmt_integration"]);
  const key = makeKey(em, user.sys_id);
  const profile = makeKeyProfile(em, "query");
  const policy = em.store.insert("sys_api_access_policy", { name: "keywire Event Management API key", api_path: "sn_em_connector/em" });
  mapProfile(em, policy.sys_id, profile.sys_id);
  const [connector] = em.store.query("sn_em_connector_push_instance", (r) => r.active === "true");
  const query = new URLSearchParams({ source: "aws", sys_id: connector.sys_id, "x-sn-apikey": key.token });
  const endpoint = `${em.url}/api/sn_em_connector/em/inbound_event?${query.toString()}`;

  const { TopicArn } = await aws.send(new CreateTopicCommand({ Name: `keywire-canary-${++topics}` }));
  if (!TopicArn) throw new Error("CreateTopic returned no ARN");
  await aws.send(new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: endpoint }));
  const confirmed = await waitFor(
    "the subscription's confirmation",
    () => em.store.query("sn_em_connector_push_log", (r) => r.message_type === "SubscriptionConfirmation" && r.topic_arn === TopicArn)[0],
  );
  expect(confirmed.status).toBe("confirmed");
  return { topicArn: TopicArn, keyId: key.row.sys_id, token: key.token, profileId: profile.sys_id };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  report: CanaryReport;
  markdown: string;
  summary: string;
}

/** The CLI as `npm run canary` starts it, with only SNS's and the emulator's settings in its environment. */
async function canary(chain: Chain, timeoutSeconds: number): Promise<Run> {
  const out = fs.mkdtempSync(path.join(dir, "run-"));
  const files = { json: path.join(out, "report.json"), markdown: path.join(out, "report.md"), summary: path.join(out, "summary.md") };
  fs.writeFileSync(files.summary, "earlier step\n\n");
  // Without the developer's or the CI job's AWS, ServiceNow and summary settings.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|SERVICENOW_)/.test(k) && k !== "GITHUB_STEP_SUMMARY"));
  Object.assign(env, sns.env, { SERVICENOW_INSTANCE_URL: em.url, SERVICENOW_USERNAME: "admin", SERVICENOW_PASSWORD: ADMIN_PASSWORD });
  const args = ["--stack", STACK, "--topic-arn", chain.topicArn, "--timeout-seconds", String(timeoutSeconds)];
  const res = await runCommand(
    process.execPath,
    [TS_NODE, "--transpile-only", "scripts/canary/cli.ts", ...args, "--json", files.json, "--markdown", files.markdown, "--summary", files.summary],
    {
      cwd: ROOT,
      env,
      timeoutMs: RUN_TIMEOUT_MS,
    },
  );
  if (res.timedOut) throw new Error(`canary did not finish within ${RUN_TIMEOUT_MS} ms`);
  if (!fs.existsSync(files.json)) throw new Error(`no report (exit ${res.code}): ${res.stderr}`);
  return {
    code: res.code,
    stdout: res.stdout,
    stderr: res.stderr,
    report: JSON.parse(fs.readFileSync(files.json, "utf8")) as CanaryReport,
    markdown: fs.readFileSync(files.markdown, "utf8"),
    summary: fs.readFileSync(files.summary, "utf8"),
  };
}

const eventsFor = (marker: string): GlideRecord[] => em.store.query("em_event", (r) => r.resource === marker);
const inboundRequests = (): number => em.metrics().byRoute[INBOUND_ROUTE] ?? 0;

function expectNoSecret(run: Run, chain: Chain): void {
  for (const text of [run.stdout, run.stderr, JSON.stringify(run.report), run.markdown, run.summary]) {
    expect(text).not.toContain(ADMIN_PASSWORD);
    expect(text).not.toContain(chain.token);
    expect(text).not.toContain("keywire-test-secret");
  }
}

test("a healthy chain: exit 0, delivered, one Clear em_event with the marker, latencies reported", async () => {
  const chain = await healthyChain();
  const run = await canary(chain, 60);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: CANARY_EXIT.delivered, stderr: "" });

  const r = run.report;
  expect(r).toMatchObject({ stack: STACK, instance: em.url, topicArn: chain.topicArn, outcome: "delivered", exitCode: 0, timeoutSeconds: 60, next: null });
  expect(r.marker).toMatch(/^keywire-delivery-check-canary-[0-9a-f]{24}$/);
  expect(r.messageId).toEqual(expect.any(String));
  expect(r.subject).toBe(`OK: "${r.marker}" in ${sns.region}`);

  // Exactly the one event, as the push connector recorded SNS's delivery of the alarm.
  const [event, ...more] = eventsFor(r.marker);
  expect(more).toEqual([]);
  expect(em.store.query("em_event")).toHaveLength(1);
  expect(event).toMatchObject({
    source: "aws",
    severity: "0",
    message_key: `${sns.accountId}:${sns.region}:${r.marker}`,
    sys_created_by: "svc.keywire.events",
  });
  expect(JSON.parse(event.additional_info)).toMatchObject({ sns_topic_arn: chain.topicArn, sns_subject: r.subject, new_state: "OK", alarm_name: r.marker });
  expect(r.event).toEqual({
    sysId: event.sys_id,
    createdOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/),
    severity: "0",
    messageKey: event.message_key,
    state: event.state,
  });
  expect(r.latency).toEqual({ publishToEventCreatedSeconds: expect.any(Number), publishToSeenMs: expect.any(Number) });
  expect(r.leaves).toContain(`one em_event row (${event.sys_id}) with Clear severity and a unique message key, and no alert`);

  expect(run.stdout).toMatch(/^canary e2e: delivered \(seen \d+\.\d s after publishing; created -?\d+ s after publishing by the instance's clock\)\n/);
  expect(run.markdown).toContain("✅ **Delivered**");
  expect(run.markdown).toContain(`| SNS MessageId | \`${r.messageId}\` |`);
  expect(run.summary).toBe(`earlier step\n\n${run.markdown}\n`);
  expectNoSecret(run, chain);
});

test("the key deactivated on the instance: exit 7; SNS accepted the publish, ServiceNow refused it and recorded nothing", async () => {
  const chain = await healthyChain();
  em.store.update("api_key", chain.keyId, { active: false });
  const before = inboundRequests();
  const run = await canary(chain, 3);

  expect(run.code).toBe(CANARY_EXIT.notDelivered);
  const r = run.report;
  expect(r).toMatchObject({ outcome: "not-delivered", exitCode: 7, event: null, next: `npm run drift -- --stack ${STACK}` });
  expect(r.latency).toEqual({ publishToEventCreatedSeconds: null, publishToSeenMs: null });
  expect(r.messageId).toEqual(expect.any(String));
  expect(r.detail).toContain(`SNS accepted the message (MessageId ${r.messageId}) and ServiceNow recorded no event carrying ${r.marker} within 3 s`);
  // SNS did deliver: the endpoint was called, and answered with a refusal.
  expect(inboundRequests()).toBeGreaterThan(before);
  expect(em.store.query("em_event")).toEqual([]);

  expect(run.stdout).toMatch(/^canary e2e: NOT delivered\n/);
  expect(run.stdout).toContain(`  next: npm run drift -- --stack ${STACK}`);
  expect(run.stderr).toBe(
    `canary: NOT delivered: SNS accepted MessageId ${r.messageId} and ServiceNow recorded nothing within 3 s; run npm run drift -- --stack ${STACK} to find the broken link\n`,
  );
  expect(run.markdown).toContain("❌ **Not delivered**");
  expect(run.markdown).toContain(`**Next:** run \`npm run drift -- --stack ${STACK}\``);
  expectNoSecret(run, chain);
});

test("a foreign, more specific access policy for POST on sn_em_connector/em that does not admit the key's profile: exit 7", async () => {
  const chain = await healthyChain();
  // Another team's policy: method-specific, so it governs the POST instead of keywire's,
  // and it admits only its own (header) profile.
  const theirs = em.store.insert("sys_api_access_policy", {
    name: "another team's Event Management policy",
    api_path: "sn_em_connector/em",
    http_method: "POST",
    apply_all_methods: false,
  });
  mapProfile(em, theirs.sys_id, makeKeyProfile(em, "header").sys_id);
  const before = inboundRequests();
  const run = await canary(chain, 3);

  expect(run.code).toBe(CANARY_EXIT.notDelivered);
  expect(run.report).toMatchObject({ outcome: "not-delivered", event: null, messageId: expect.any(String) });
  expect(inboundRequests()).toBeGreaterThan(before);
  expect(eventsFor(run.report.marker)).toEqual([]);
  expectNoSecret(run, chain);

  // The same chain without the foreign policy delivers: the policy was the broken link.
  em.store.update("sys_api_access_policy", theirs.sys_id, { active: false });
  const repaired = await canary(chain, 60);
  expect(repaired.code).toBe(CANARY_EXIT.delivered);
  expect(eventsFor(repaired.report.marker)).toHaveLength(1);
});
