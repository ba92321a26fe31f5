/**
 * A record's form, the page a person opens in a browser: `/<table>.do?sys_id=<id>`, also
 * reached through `/nav_to.do?uri=<table>.do%3Fsys_id%3D<id>`, the record URL keywire prints
 * (`recordUrl`). keywire tells a person to copy a parked API key's token "from" that URL, so
 * the api_key form shows the token, as the platform's form does behind its lock icon ("Integrate
 * AWS with REST API key token"). A minimal read-only page: no list views, no saving.
 *
 * Sign-in is HTTP Basic with a challenge, so a browser asks for the user name and password (the
 * platform's UI would send it to its login page instead). REST API access policies, rate limits
 * and API keys do not apply to UI pages; the table's read roles do.
 */
import { rolesAllow, type Directory } from "./auth/directory";
import type { Emulator } from "./emulator";
import { isSysId } from "./glide";
import { errorReply, type Reply } from "./http/reply";

export interface FormRoute {
  kind: "form";
  table: string;
  sysId: string;
}

export type FormContext = Pick<Emulator, "schema" | "store" | "renderer" | "baseUrl" | "tableDef" | "visibleClasses"> & {
  readonly directory: Pick<Directory, "verifyBasic" | "rolesOf">;
};

const FORM_PATH = /^\/([a-z0-9_]+)\.do$/;
/** Pages that are not record forms, though their paths look like one. */
const NOT_FORMS = new Set(["nav_to", "oauth_token"]);
const HTML_HEADERS = {
  "Content-Type": "text/html;charset=UTF-8",
  // The api_key form carries a secret: never cached, framed, scripted or leaked through a referrer.
  "Cache-Control": "no-store",
  "X-Frame-Options": "DENY",
  "Content-Security-Policy": "default-src 'none'",
  "Referrer-Policy": "no-referrer",
};
const MASK = "••••••••";

/** The form a path (and, for nav_to.do, its `uri` parameter) asks for; undefined when it is no form URL. */
export function formRoute(path: string, query: URLSearchParams): FormRoute | undefined {
  let target = path;
  let params = query;
  if (path === "/nav_to.do") {
    const uri = query.get("uri");
    if (!uri) return undefined;
    const q = uri.indexOf("?");
    target = `/${(q < 0 ? uri : uri.slice(0, q)).replace(/^\/+/, "")}`;
    params = new URLSearchParams(q < 0 ? "" : uri.slice(q + 1));
  }
  const m = FORM_PATH.exec(target);
  if (!m || NOT_FORMS.has(m[1])) return undefined;
  const sysId = params.get("sys_id");
  if (sysId === null) return undefined;
  return { kind: "form", table: m[1], sysId };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(status: number, title: string, body: string, headers: Record<string, string> = {}): Reply {
  const html = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body>\n${body}\n</body></html>\n`;
  return { status, headers: { ...HTML_HEADERS, ...headers }, body: html };
}

function message(status: number, title: string, text: string, headers?: Record<string, string>): Reply {
  return page(status, title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(text)}</p>`, headers);
}

export function handleForm(em: FormContext, method: string, authorization: string | undefined, route: FormRoute): Reply {
  if (method !== "GET") return errorReply(405, "Method not Supported", "The emulator's forms are read-only: use GET");
  const user = authorization && /^basic /i.test(authorization) ? em.directory.verifyBasic(authorization) : undefined;
  if (!user) {
    return message(401, "Sign in", "Sign in with your ServiceNow user name and password.", { "WWW-Authenticate": 'BASIC realm="Service-now"' });
  }
  const def = em.tableDef(route.table);
  if (!def) return message(404, "Not found", `No table ${route.table} on this instance.`);
  if (!rolesAllow(em.directory.rolesOf(user.sys_id), def.access.read)) {
    return message(403, "Insufficient rights", `Security constraints prevent access to ${def.label} records.`);
  }
  const record = isSysId(route.sysId) ? em.store.get(def.name, route.sysId) : undefined;
  if (!record || !em.visibleClasses(def.name).includes(record.sys_class_name)) {
    return message(404, "Record not found", `No ${def.label} record with sys_id ${route.sysId}.`);
  }
  const cls = em.schema.get(record.sys_class_name) ?? def;
  // Only the api_key form reveals its secret (the token); other password2 values stay masked.
  const reveal = cls.name === "api_key";
  const values = em.renderer.render(cls, record, { displayValue: "true", excludeReferenceLink: true, baseUrl: em.baseUrl, revealSecrets: reveal });
  const rows: string[] = [];
  for (const f of cls.fields.values()) {
    if (!(f.name in values)) continue;
    const shown = f.type === "password2" && !reveal ? (record[f.name] ? MASK : "") : String(values[f.name] ?? "");
    rows.push(`<tr><th scope="row">${escapeHtml(f.label)}</th><td id="${escapeHtml(`${cls.name}.${f.name}`)}">${escapeHtml(shown)}</td></tr>`);
  }
  const title = `${cls.label}: ${em.schema.displayOf(cls, record) || record.sys_id}`;
  return page(200, title, `<h1>${escapeHtml(title)}</h1>\n<table>\n${rows.join("\n")}\n</table>`);
}
