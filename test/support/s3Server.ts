/**
 * An S3-compatible server on loopback for the end-to-end suites that keep Pulumi
 * state in a bucket (the DIY backend a team shares: `pulumi login s3://…`).
 *
 * The server is keywire's own small Go program (tools/s3-test-server, an in-memory
 * gofakes3 with committed go.mod/go.sum), built on first use into
 * `${KEYWIRE_TOOLS_DIR:-~/.cache/keywire/tools}/s3-test-server/` beside the Pulumi
 * toolchain and rebuilt only when its sources change (scripts/go/goTool.ts). It listens on 127.0.0.1 only,
 * checks no credentials (the dummy ones below only satisfy the AWS SDK inside the
 * CLI), and keeps nothing once stopped.
 */
import { startGoServer } from "../../scripts/go/goTool";

const REQUEST_TIMEOUT_MS = 10_000;

/** Credentials for the loopback server only: the AWS SDK in the CLI insists on some. */
export const DUMMY_AWS_ENV: NodeJS.ProcessEnv = {
  AWS_ACCESS_KEY_ID: "keywire-test",
  AWS_SECRET_ACCESS_KEY: "keywire-test-secret",
  AWS_REGION: "us-east-1",
  // Never read a developer's ~/.aws profile or ask an instance metadata service.
  AWS_CONFIG_FILE: "/dev/null",
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  AWS_EC2_METADATA_DISABLED: "true",
};

export interface S3TestServer {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  bucket: string;
  /** The `pulumi login` / PULUMI_BACKEND_URL address of the bucket. */
  backendUrl: string;
  /** Keys under `prefix`, in the server's (lexical) order. */
  listKeys(prefix?: string): Promise<string[]>;
  /** An object's body as text; throws if it is not there. */
  getObject(key: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the server on a free loopback port with `bucket` created. */
export async function startS3TestServer(bucket: string): Promise<S3TestServer> {
  const server = await startGoServer("s3-test-server", ["-bucket", bucket]);
  const endpoint = server.endpoint;

  const get = async (query: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`${endpoint}/${bucket}${query}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return { status: res.status, body: await res.text() };
  };

  return {
    endpoint,
    bucket,
    // disableSSL (the CLI turns it into disable_https) and a scheme-less endpoint are
    // the forms the Pulumi docs show for S3-compatible stores; region is required by
    // the SDK although the server ignores it. The server sends no response checksums,
    // and the SDK warns on every read where it validates them by default.
    backendUrl: `s3://${bucket}?endpoint=${endpoint.replace(/^http:\/\//, "")}&disableSSL=true&s3ForcePathStyle=true&region=us-east-1&response_checksum_validation=when_required`,
    async listKeys(prefix = "") {
      const res = await get(`?list-type=2&prefix=${encodeURIComponent(prefix)}`);
      if (res.status !== 200) throw new Error(`listing ${bucket}/${prefix}: HTTP ${res.status} ${res.body}`);
      // The test server answers up to 1000 keys in one page; more would be a bug here.
      if (/<IsTruncated>true<\/IsTruncated>/.test(res.body)) throw new Error(`listing ${bucket}/${prefix}: more than one page`);
      return [...res.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => decodeXml(m[1]));
    },
    async getObject(key) {
      const res = await get(`/${key.split("/").map(encodeURIComponent).join("/")}`);
      if (res.status !== 200) throw new Error(`reading ${bucket}/${key}: HTTP ${res.status}`);
      return res.body;
    },
    stop: server.stop,
  };
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+);/g, (_m, e: string) =>
    e === "lt" ? "<" : e === "gt" ? ">" : e === "quot" ? '"' : e === "apos" ? "'" : e === "amp" ? "&" : String.fromCharCode(Number(e.slice(1))),
  );
}
