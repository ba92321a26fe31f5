/** Identifiers, dates and tokens in the platform's formats. */
import { randomBytes } from "node:crypto";

const SYS_ID = /^[0-9a-f]{32}$/;

export function newSysId(): string {
  return randomBytes(16).toString("hex");
}

export function isSysId(s: string): boolean {
  return SYS_ID.test(s);
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `YYYY-MM-DD HH:MM:SS` in UTC. */
export function glideDateTime(d: Date = new Date()): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const GDT = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Parses `YYYY-MM-DD HH:MM:SS` (UTC); undefined when the text is not such a date. */
export function parseGlideDateTime(s: string): Date | undefined {
  const m = GDT.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  // Reject impossible dates such as 2024-02-31, which Date.UTC would roll over.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return undefined;
  return date;
}

/** An API key token: `now_` and 86 crypto-random base64url characters. */
export function newApiKeyToken(): string {
  // 65 random bytes encode to 87 base64url characters; keep 86.
  return `now_${randomBytes(65).toString("base64url").slice(0, 86)}`;
}

/** An opaque OAuth token or client secret. */
export function newOpaqueToken(bytes = 48): string {
  return randomBytes(bytes).toString("base64url");
}
