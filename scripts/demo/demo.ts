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
 * 4. shows the same request accepted (200), posts an SNS-shaped subscription
 *    confirmation and a CloudWatch ALARM notification to the stack's endpoint, and
 *    prints the `em_event` the instance recorded;
 * 5. stops everything. Running it again changes nothing; `-- --destroy` tears it down.
 *
 * No secret is printed: the token and the password only travel to the engine (on
 * stdin, never in a command line) and to the emulator.
 */
import "../tools/preflight";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { randomBytes } from "crypto";
import { AddressInfo } from "net";
import { startServiceNowEmulator, RunningEmulator } from "../../emulator/servicenow";
import { DEFAULT_ADMIN_PASSWORD_FILE, readOrCreatePasswordFile } from "../../emulator/servicenow/adminPassword";
import { ensurePulumi, runCommand, REPO_ROOT } from "../pulumi/toolchain";
import { DEFAULT_TOKEN_CONFIG_KEY } from "../../resources/servicenow/apiKey/tokenPlan";
import { setSecretConfigCommand } from "../pulumi/secretConfig";
import { redact } from "../../resources/core/redact";
import { prepareProject } from "./project";

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
  const tc = await ensurePulumi();
  const cwd = prepareProject(REPO_ROOT, path.join(DEMO_DIR, "project"), { stack: STACK });
  const backend = path.join(DEMO_DIR, "backend");
  fs.mkdirSync(backend, { recursive: true });
  const env = {
    ...tc.env,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: DEMO_PASSPHRASE,
  };
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

/** Answers SNS's SubscribeURL on loopback, the way AWS would confirm the subscription. */
async function subscribeUrlServer(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const srv = http.createServer((_req, res) => {
    hits += 1;
    res.writeHead(200, { "content-type": "text/xml" });
    res.end("<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:eu-west-1:123456789012:keywire-demo:1</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>");
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/confirm`, hits: () => hits, close: () => new Promise((r) => srv.close(() => r())) };
}

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:keywire-demo";

async function postSns(endpoint: string, type: "SubscriptionConfirmation" | "Notification", body: Record<string, unknown>): Promise<number> {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "text/plain; charset=UTF-8",
      "x-amz-sns-message-type": type,
      "x-amz-sns-message-id": String(body.MessageId),
      "x-amz-sns-topic-arn": TOPIC,
      "user-agent": "Amazon Simple Notification Service Agent",
    },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

function alarm(): Record<string, unknown> {
  return {
    AlarmName: "keywire-demo-high-cpu",
    AWSAccountId: "123456789012",
    NewStateValue: "ALARM",
    NewStateReason: "Threshold Crossed: 1 datapoint [97.0] was greater than the threshold (80.0).",
    StateChangeTime: new Date().toISOString(),
    Region: "EU (Ireland)",
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

async function deliver(emu: RunningEmulator, endpoint: string): Promise<void> {
  const confirm = await subscribeUrlServer();
  try {
    const now = new Date().toISOString();
    const c = await postSns(endpoint, "SubscriptionConfirmation", {
      Type: "SubscriptionConfirmation",
      MessageId: randomBytes(16).toString("hex"),
      Token: randomBytes(32).toString("hex"),
      TopicArn: TOPIC,
      Message: "You have chosen to subscribe to the topic. To confirm the subscription, visit the SubscribeURL included in this message.",
      SubscribeURL: confirm.url,
      Timestamp: now,
      SignatureVersion: "2",
      Signature: "",
      SigningCertURL: "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService.pem",
    });
    log(`SNS SubscriptionConfirmation → ${c}; ServiceNow visited the SubscribeURL ${confirm.hits()} time(s)`);
    const n = await postSns(endpoint, "Notification", {
      Type: "Notification",
      MessageId: randomBytes(16).toString("hex"),
      TopicArn: TOPIC,
      Subject: 'ALARM: "keywire-demo-high-cpu" in EU (Ireland)',
      Message: JSON.stringify(alarm()),
      Timestamp: now,
      SignatureVersion: "2",
      Signature: "",
      SigningCertURL: "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService.pem",
      UnsubscribeURL: `${confirm.url}?unsubscribe`,
    });
    log(`SNS Notification (CloudWatch ALARM) → ${n}`);
  } finally {
    await confirm.close();
  }
  const events = emu.store.query("em_event", (r) => r.source === "aws").sort((a, b) => (a.sys_created_on < b.sys_created_on ? 1 : -1));
  const e = events[0];
  if (!e) throw new Error("the instance recorded no em_event");
  log(`em_event recorded: source=${e.source} node=${e.node} resource=${e.resource} metric_name=${e.metric_name} type=${e.type} severity=${e.severity} message_key=${e.message_key}`);
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
    for (const key of ["policyMode", "integrationUser", "apiKeySysId", "tokenSource", "inboundProfileSysId", "eventPolicySysId", "pushConnectorSysId", "verified"]) {
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
