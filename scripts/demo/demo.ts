/**
 * `npm run demo` — keywire end to end on this machine, against the bundled
 * ServiceNow emulator, through the real Pulumi engine:
 *
 * 1. starts the emulator (data in .demo/, on a port kept across runs);
 * 2. selects or creates the `local` stack (file backend in .demo/, a demo-only
 *    passphrase) and points it at the emulator;
 * 3. shows an API-key request refused (401), runs `pulumi up`, and — because the
 *    emulator, like real instances, does not reveal a new key's token — plays the
 *    operator: copies the token "from the form" into secret config and runs `up`
 *    again, as keywire's own error message instructs;
 * 4. shows the same request accepted (200); then, on a local SNS API service (goaws,
 *    scripts/sns/snsTestServer.ts), creates a topic and subscribes the stack's endpoint
 *    with the AWS SDK, lets SNS send the subscription confirmation and the instance
 *    confirm it, publishes a CloudWatch ALARM, and prints the `em_event` the instance
 *    recorded;
 * 5. stops everything. Running it again changes nothing; `-- --destroy` tears it down.
 *
 * No secret is printed: the token and the password only travel to the engine (on
 * stdin, never in a command line) and to the emulator.
 */
import "../../config/requireNode22";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { randomBytes } from "crypto";
import { AddressInfo } from "net";
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { startServiceNowEmulator, RunningEmulator } from "../../emulator/servicenow";
import { DEFAULT_ADMIN_PASSWORD_FILE, readOrCreatePasswordFile } from "../../emulator/servicenow/adminPassword";
import { ensurePulumi } from "../pulumi/toolchain/ensurePulumi";
import { REPO_ROOT } from "../shared/paths";
import { runCommand } from "../shared/process";
import { DEFAULT_TOKEN_CONFIG_KEY } from "../../resources/servicenow/apiKey/tokenPlan";
import { setSecretConfigCommand } from "../pulumi/secretConfig";
import { redact } from "../../resources/core/redact";
import { prepareProject } from "./project";
import { startSnsTestServer } from "../sns/snsTestServer";

const DEMO_DIR = path.join(REPO_ROOT, ".demo");
const STACK = "local";
/** Demo only: protects nothing of value; real stacks use their own passphrase or a KMS. */
export const DEMO_PASSPHRASE = "keywire-demo-only";

function log(line: string): void {
  process.stdout.write(`[demo] ${line}\n`);
}

/** A value kept in .demo/ so that every run uses the same one. */
function persisted(name: string, make: () => string): string {
  const file = path.join(DEMO_DIR, name);
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  const v = make();
  fs.writeFileSync(file, v + "\n", { mode: 0o600 });
  return v;
}

async function freePort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

interface Pulumi {
  /** `input`: what the command reads on stdin (a secret config value). */
  run(args: string[], opts?: { allowFail?: boolean; input?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
}

async function pulumi(secrets: string[]): Promise<Pulumi> {
  const cwd = prepareProject(REPO_ROOT, path.join(DEMO_DIR, "project"), { stack: STACK });
  const backend = path.join(DEMO_DIR, "backend");
  fs.mkdirSync(backend, { recursive: true });
  // The demo's backend goes in before the CLI is chosen, so the line naming the CLI's
  // environment names the backend the demo uses, not a login it does not.
  const tc = await ensurePulumi({ env: { ...process.env, PULUMI_BACKEND_URL: `file://${backend}` } });
  const env = { ...tc.env, PULUMI_CONFIG_PASSPHRASE: DEMO_PASSPHRASE };
  return {
    async run(args, opts = {}) {
      const res = await runCommand(tc.pulumi, [...args, "--stack", STACK, "--non-interactive"], {
        cwd,
        env,
        timeoutMs: 20 * 60_000,
        ...(opts.input !== undefined ? { input: opts.input } : {}),
      });
      const code = res.code ?? 1;
      if (code !== 0 && !opts.allowFail) {
        throw new Error(`pulumi ${args[0]} failed (exit ${code}):\n${redact(res.stderr || res.stdout, secrets).slice(-3000)}`);
      }
      return { code, stdout: res.stdout, stderr: res.stderr };
    },
  };
}

/**
 * The connector guide's curl check, with the key where this stack's profile
 * expects it: in the `x-sn-apikey` query parameter, as SNS will send it.
 */
async function probe(url: string, token: string): Promise<number> {
  const query = new URLSearchParams({ sysparm_limit: "1", "x-sn-apikey": token });
  const res = await fetch(`${url}/api/now/table/incident?${query.toString()}`, { headers: { accept: "application/json" } });
  await res.arrayBuffer();
  return res.status;
}

const ALARM_NAME = "keywire-demo-high-cpu";

/** A CloudWatch alarm notification's message, as CloudWatch publishes it to SNS. */
function alarm(accountId: string): Record<string, unknown> {
  return {
    AlarmName: ALARM_NAME,
    AWSAccountId: accountId,
    NewStateValue: "ALARM",
    NewStateReason: "Threshold Crossed: 1 datapoint [97.0] was greater than the threshold (80.0).",
    StateChangeTime: new Date().toISOString().replace("Z", "+0000"),
    Region: "US East (N. Virginia)",
    OldStateValue: "OK",
    Trigger: {
      MetricName: "CPUUtilization",
      Namespace: "AWS/EC2",
      Statistic: "AVERAGE",
      Dimensions: [{ name: "InstanceId", value: "i-0123456789abcdef0" }],
      Period: 300,
      EvaluationPeriods: 1,
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 80,
    },
  };
}

/** goaws confirms and delivers inside the Subscribe and Publish calls; this bounds the wait for their traces. */
const DELIVERY_WAIT_MS = 30_000;

async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + DELIVERY_WAIT_MS;
  for (let i = 0; i < DELIVERY_WAIT_MS / 100 + 1 && Date.now() <= deadline; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${what} within ${DELIVERY_WAIT_MS / 1000} s`);
}

/**
 * What the stack's SnsEventIntegration sets up in AWS, done here against the local SNS
 * service with the AWS SDK (the local stack has no AWS provider): a topic, an http
 * subscription to the stack's endpoint, which SNS confirms with ServiceNow, then a
 * CloudWatch ALARM published to the topic.
 */
async function deliver(emu: RunningEmulator, endpoint: string): Promise<void> {
  const sns = await startSnsTestServer();
  const client = new SNSClient({
    endpoint: sns.endpoint,
    region: sns.region,
    credentials: { accessKeyId: String(sns.env.AWS_ACCESS_KEY_ID), secretAccessKey: String(sns.env.AWS_SECRET_ACCESS_KEY) },
    maxAttempts: 1,
  });
  try {
    log(`SNS API (goaws) on ${sns.endpoint}`);
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: "keywire-demo" }));
    if (!TopicArn) throw new Error("CreateTopic answered without a TopicArn");
    const { SubscriptionArn } = await client.send(new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: endpoint }));
    log(`SNS CreateTopic ${TopicArn}; Subscribe (http, the stack's inboundEndpoint) → ${SubscriptionArn}`);
    // The subscription's ARN is new with every run of the (in-memory) SNS service.
    const confirmation = await waitFor(
      "subscription confirmation in sn_em_connector_push_log",
      () => emu.store.query("sn_em_connector_push_log", (r) => r.message_type === "SubscriptionConfirmation" && r.subscription_arn === SubscriptionArn)[0],
    );
    log(`SNS sent the SubscriptionConfirmation; ServiceNow visited its SubscribeURL: push log status=${confirmation.status}`);
    if (confirmation.status !== "confirmed") throw new Error(`the subscription was not confirmed: ${confirmation.detail}`);

    const seen = new Set(emu.store.query("em_event").map((r) => r.sys_id));
    const { MessageId } = await client.send(
      new PublishCommand({ TopicArn, Subject: `ALARM: "${ALARM_NAME}" in US East (N. Virginia)`, Message: JSON.stringify(alarm(sns.accountId)) }),
    );
    log(`SNS Publish (CloudWatch ALARM) → MessageId ${MessageId}`);
    const e = await waitFor(
      "em_event for the alarm",
      () => emu.store.query("em_event", (r) => !seen.has(r.sys_id) && r.source === "aws" && r.resource === ALARM_NAME)[0],
    );
    log(
      `em_event recorded: source=${e.source} node=${e.node} resource=${e.resource} metric_name=${e.metric_name} type=${e.type} severity=${e.severity} message_key=${e.message_key}`,
    );
  } finally {
    client.destroy();
    await sns.stop();
  }
}

async function main(): Promise<void> {
  const destroy = process.argv.includes("--destroy");
  fs.mkdirSync(DEMO_DIR, { recursive: true });
  // The same file `npm run emulator` uses by default, so both serve the demo's data with one password.
  const adminPassword = readOrCreatePasswordFile(DEFAULT_ADMIN_PASSWORD_FILE).password;
  const port = Number(persisted("port", () => "0")) || (await freePort());
  fs.writeFileSync(path.join(DEMO_DIR, "port"), `${port}\n`);
  const emu = await startServiceNowEmulator({ port, adminPassword, dataFile: path.join(DEMO_DIR, "servicenow.json") });
  log(`ServiceNow emulator on ${emu.url} (data: .demo/servicenow.json)`);
  const secrets = [adminPassword];
  try {
    const pl = await pulumi(secrets);
    await pl.run(["stack", "select", "--create"]);
    await pl.run(["config", "set", "servicenow:instanceUrl", emu.url]);
    const setPassword = setSecretConfigCommand("servicenow:password", adminPassword);
    await pl.run(setPassword.args, { input: setPassword.input });

    if (destroy) {
      await pl.run(["destroy", "--yes", "--skip-preview"]);
      // The operator's token belonged to the destroyed key: the next demo starts afresh.
      await pl.run(["config", "rm", DEFAULT_TOKEN_CONFIG_KEY], { allowFail: true });
      log("stack destroyed: every record keywire created is gone; adopted records are as they were");
      return;
    }

    const before = await probe(emu.url, `now_${randomBytes(64).toString("base64url")}`);
    log(`before: GET /api/now/table/incident?x-sn-apikey=… → ${before}`);

    log("pulumi up …");
    let up = await pl.run(["up", "--yes", "--skip-preview"], { allowFail: true });
    if (up.code !== 0 && (up.stdout + up.stderr).includes(`pulumi config set --secret ${DEFAULT_TOKEN_CONFIG_KEY}`)) {
      // The manual route, as the error instructs: copy the token from the key's form.
      const parked = emu.store.query("api_key", (r) => r.name.startsWith("keywire-local"))[0];
      const token = parked ? emu.tokenOf(parked.sys_id) : undefined;
      if (!token) throw new Error(redact(up.stdout + up.stderr, secrets).slice(-3000));
      secrets.push(token);
      log("the instance did not reveal the new key's token (as real instances do not): copying it from the key's form");
      const setToken = setSecretConfigCommand(DEFAULT_TOKEN_CONFIG_KEY, token);
      await pl.run(setToken.args, { input: setToken.input });
      log("pulumi up (with the operator-supplied token) …");
      up = await pl.run(["up", "--yes", "--skip-preview"], { allowFail: true });
    }
    if (up.code !== 0) throw new Error(`pulumi up failed:\n${redact(up.stdout + up.stderr, secrets).slice(-3000)}`);

    const outputs = JSON.parse((await pl.run(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, unknown>;
    const endpoint = String(outputs.inboundEndpoint);
    const token = new URL(endpoint).searchParams.get("x-sn-apikey") ?? "";
    secrets.push(token);
    const after = await probe(emu.url, token);
    log(`after:  GET /api/now/table/incident?x-sn-apikey=… → ${after}`);
    if (before !== 401 || after !== 200) throw new Error(`expected 401 before and 200 after, got ${before} and ${after}`);

    await deliver(emu, endpoint);

    log("summary:");
    for (const key of [
      "policyMode",
      "integrationUser",
      "apiKeySysId",
      "tokenSource",
      "inboundProfileSysId",
      "eventPolicySysId",
      "pushConnectorSysId",
      "verified",
    ]) {
      log(`  ${key}: ${JSON.stringify(outputs[key])}`);
    }
    log(`  inboundEndpoint: ${redact(endpoint, [token]).replace(/x-sn-apikey=[^&]*/, "x-sn-apikey=[secret]")}`);
    log("run `npm run demo` again: nothing changes. `npm run demo -- --destroy` removes it all.");
  } finally {
    await emu.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[demo] failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
