import { addressProblem, hostProblem } from "./textRules";

/**
 * Addresses keywire may talk to without TLS: loopback only (the bundled
 * emulators). Every platform's client asks this one function.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return !!m && m.slice(1).every((o) => Number(o) <= 255);
}

/**
 * Why a value is not an acceptable service origin, or undefined when it is: a URL
 * with scheme, host and port only, no credentials, HTTPS unless the host is a
 * loopback address; no white space or invisible character anywhere, and DNS's
 * lengths (textRules.ts), checked before the URL is parsed. `says` words the two
 * problems that differ by platform.
 */
export function originProblem(value: string, says: { notUrl: string; path: (path: string) => string }): string | undefined {
  const raw = addressProblem(value);
  if (raw) return raw;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return says.notUrl;
  }
  if (url.username || url.password) return "must not contain credentials";
  const host = hostProblem(url.hostname);
  if (host) return host;
  if (url.search || url.hash) return "must not have a query or fragment";
  const path = url.pathname.replace(/\/+$/, "");
  if (path !== "") return says.path(path);
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return undefined;
  return "must use https:// (plain http:// is accepted only for a loopback address such as the bundled emulator)";
}
