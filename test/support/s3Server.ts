/**
 * An S3-compatible server on loopback for the end-to-end suites that keep Pulumi
 * state in a bucket (the DIY backend a team shares: `pulumi login s3://…`).
 *
 * The server is keywire's own small Go program (tools/s3-test-server, an in-memory
 * gofakes3 with committed go.mod/go.sum), built on first use into
 * `${KEYWIRE_TOOLS_DIR:-~/.cache/keywire/tools}/s3-test-server/` beside the Pulumi
 * toolchain and rebuilt only when its sources change. It listens on 127.0.0.1 only,
 * checks no credentials (the dummy ones below only satisfy the AWS SDK inside the
 * CLI), and keeps nothing once stopped.
 */
import { spawn, type ChildProcess } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT, runCommand, toolsDir, which } from "../../scripts/pulumi/toolchain";

const SOURCE_DIR = path.join(REPO_ROOT, "tools", "s3-test-server");
/** A cold module cache downloads gofakes3 and one small dependency; a warm one builds in seconds. */
export const S3_SERVER_BUILD_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
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

function fingerprint(): string {
  const h = createHash("sha256");
  for (const f of ["main.go", "go.mod", "go.sum"]) {
    h.update(f).update("\0").update(fs.readFileSync(path.join(SOURCE_DIR, f))).update("\0");
  }
  return h.digest("hex").slice(0, 16);
}

let pendingBuild: Promise<string> | undefined;

/** The server's executable, built first when the cache lacks this version of it. */
export function ensureS3TestServer(): Promise<string> {
  pendingBuild ??= build().catch((err: unknown) => {
    pendingBuild = undefined; // let a later call try again
    throw err;
  });
  return pendingBuild;
}

async function build(): Promise<string> {
  const dir = path.join(toolsDir(), "s3-test-server");
  const bin = path.join(dir, `s3-test-server-${fingerprint()}`);
  if (fs.existsSync(bin)) return bin;
  const go = which("go");
  if (!go) throw new Error("building tools/s3-test-server needs `go` (1.24 or newer) on PATH");
  fs.mkdirSync(dir, { recursive: true });
  // Built under a name of its own and renamed: two jest workers building at once
  // each finish with a whole binary, and the last rename wins.
  const tmp = `${bin}.tmp-${process.pid}`;
  process.stderr.write(`[s3-test-server] building tools/s3-test-server into ${dir}\n`);
  // -mod=readonly: go.mod and go.sum are committed and must not change here.
  const r = await runCommand(go, ["build", "-mod=readonly", "-buildvcs=false", "-trimpath", "-o", tmp, "."], {
    cwd: SOURCE_DIR,
    env: process.env,
    timeoutMs: S3_SERVER_BUILD_TIMEOUT_MS,
  });
  if (r.code !== 0) {
    fs.rmSync(tmp, { force: true });
    const why = r.timedOut ? `timed out after ${S3_SERVER_BUILD_TIMEOUT_MS / 1000} s` : `exited ${r.code ?? r.signal}`;
    throw new Error(`go build of tools/s3-test-server ${why}:\n${(r.stderr || r.stdout).trim().split("\n").slice(-10).join("\n")}`);
  }
  fs.renameSync(tmp, bin);
  // Older builds of the server are of no further use.
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith("s3-test-server-") && path.join(dir, f) !== bin && !f.includes(".tmp-")) fs.rmSync(path.join(dir, f), { force: true });
  }
  return bin;
}

/** Starts the server on a free loopback port with `bucket` created. */
export async function startS3TestServer(bucket: string): Promise<S3TestServer> {
  const bin = await ensureS3TestServer();
  // stdin stays an open pipe: the server stops when it closes, so a test runner that
  // dies without calling stop() takes the server with it.
  const child = spawn(bin, ["-bucket", bucket], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`s3-test-server did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /^listening (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`s3-test-server exited ${code} before listening: ${stderr}`));
    });
  });

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
    stop: () => stopChild(child),
  };
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+);/g, (_m, e: string) =>
    e === "lt" ? "<" : e === "gt" ? ">" : e === "quot" ? '"' : e === "apos" ? "'" : e === "amp" ? "&" : String.fromCharCode(Number(e.slice(1))),
  );
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
