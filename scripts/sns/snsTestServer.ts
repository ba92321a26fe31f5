/**
 * An Amazon SNS API service on this machine: goaws (github.com/Admiral-Piett/goaws)
 * behind keywire's own small Go program, tools/sns-test-server, built on first use into
 * `${KEYWIRE_TOOLS_DIR:-~/.cache/keywire/tools}/sns-test-server/` (scripts/go/goTool.ts).
 * It listens on 127.0.0.1 only, checks no credentials, keeps everything in memory and
 * delivers to http(s) subscribers as SNS does, with the differences docs/local-sns.md
 * lists. The one that matters most: Publish answers with a MessageId whether or not the
 * subscriber accepted the message.
 *
 * `env` is for child processes (spread it over process.env) and works for AWS SDK v3
 * clients in a process whose process.env it is part of: the SDK reads
 * AWS_ENDPOINT_URL_SNS, the region and the credentials from process.env when a client
 * first resolves its configuration. A client in a process whose environment is
 * someone else's passes them instead:
 *
 *   new SNSClient({ endpoint: s.endpoint, region: s.region,
 *                   credentials: { accessKeyId: "keywire-test", secretAccessKey: "keywire-test-secret" } })
 *
 * goaws' delivery errors (refused connections, answers of 500 and up) are passed on to
 * this process's stderr, with every URL's query values and userinfo blanked by the
 * server, since subscriber endpoints carry credentials.
 */
import { ensureGoTool, startGoServer } from "../go/goTool";

const TOOL = "sns-test-server";
const REGION = "us-east-1";
/** The account id goaws' example configuration uses; goaws puts it in every topic ARN. */
const ACCOUNT_ID = "100010001000";

export interface SnsTestServer {
  endpoint: string; // http://127.0.0.1:PORT
  region: string; // e.g. "us-east-1"
  accountId: string; // goaws' account id
  /** Env for AWS SDK v3 clients and child processes: dummy credentials, region, AWS_ENDPOINT_URL_SNS=endpoint, no profile/IMDS lookups. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Builds tools/sns-test-server when the cache lacks this version of it; resolves to the binary. */
export function ensureSnsTestServer(): Promise<string> {
  return ensureGoTool(TOOL);
}

/** Starts the server on a free loopback port. */
export async function startSnsTestServer(): Promise<SnsTestServer> {
  let pending = "";
  const server = await startGoServer(TOOL, ["-region", REGION, "-account-id", ACCOUNT_ID], {
    onStderr(text) {
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) process.stderr.write(`[${TOOL}] ${line}\n`);
    },
  });
  return {
    endpoint: server.endpoint,
    region: REGION,
    accountId: ACCOUNT_ID,
    env: {
      AWS_ACCESS_KEY_ID: "keywire-test",
      AWS_SECRET_ACCESS_KEY: "keywire-test-secret",
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ENDPOINT_URL_SNS: server.endpoint,
      // Never read a developer's ~/.aws files or ask an instance metadata service.
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_EC2_METADATA_DISABLED: "true",
      // Over a developer's environment, these neutralize what would win over the lines
      // above: a profile makes the SDK skip the key pair in the environment, a session
      // token would be sent beside the dummy key, and the flag would drop the endpoint.
      // Empty strings rather than undefined: assigned into process.env, undefined
      // becomes the string "undefined".
      AWS_PROFILE: "",
      AWS_SESSION_TOKEN: "",
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "false",
    },
    stop: server.stop,
  };
}
