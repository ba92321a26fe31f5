/**
 * Route 3: the official installer (get.pulumi.com, or KEYWIRE_PULUMI_INSTALLER_URL),
 * where its host answers: it installs the SDK's version of the CLI, with its own
 * plugins, into keywire's cache.
 */
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { describeFailure, runCommand } from "../../../shared/process";
import { hasBinaries } from "../cache";

const DEFAULT_INSTALLER_URL = "https://get.pulumi.com/";
/** The installer's host answers at once or not at all (a machine that reaches no Pulumi host). */
const INSTALLER_PROBE_TIMEOUT_MS = 5_000;
const INSTALLER_TIMEOUT_MS = 10 * 60_000;

function httpsGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

export async function installOfficial(version: string, dir: string, env: NodeJS.ProcessEnv, log: (l: string) => void): Promise<{ ok: boolean; note: string }> {
  const url = env.KEYWIRE_PULUMI_INSTALLER_URL || DEFAULT_INSTALLER_URL;
  let script: string;
  try {
    const res = await httpsGet(url, INSTALLER_PROBE_TIMEOUT_MS);
    if (res.status !== 200 || !res.body.startsWith("#!")) {
      return { ok: false, note: `official installer ${url} answered HTTP ${res.status}` };
    }
    script = res.body;
  } catch (err) {
    return { ok: false, note: `official installer ${url} unreachable (${(err as Error).message})` };
  }
  log(`installing the official pulumi v${version} into ${dir}`);
  const scriptPath = path.join(dir, "install.sh");
  fs.writeFileSync(scriptPath, script);
  const r = await runCommand("sh", [scriptPath, "--version", version, "--install-root", dir, "--no-edit-path"], {
    env,
    timeoutMs: INSTALLER_TIMEOUT_MS,
    onStderrLine: (l) => l.trim() && log(`  ${l.trim()}`),
  });
  fs.rmSync(scriptPath, { force: true });
  if (r.code !== 0) return { ok: false, note: describeFailure("the official installer", r) };
  if (!hasBinaries(path.join(dir, "bin"))) return { ok: false, note: "the official installer left no pulumi in bin/" };
  return { ok: true, note: "installed by the official installer" };
}
