/** `page`/`per_page` pagination with its Link header, and the unknown-parameter check every list makes. */
import { validationReply, type Reply } from "./reply";
import type { ApiRequest } from "./request";
import type { FieldError } from "./validation";

const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;

/** One page of `items`; a `Link: rel="next"` header while more follow. */
function paginate<T>(items: T[], query: URLSearchParams, selfUrl: string): { page: T[]; headers: Record<string, string> } | FieldError[] {
  const errors: FieldError[] = [];
  const pageRaw = query.get("page");
  const perRaw = query.get("per_page");
  const page = pageRaw === null ? 1 : /^\d{1,6}$/.test(pageRaw) ? Number(pageRaw) : NaN;
  const per = perRaw === null ? DEFAULT_PER_PAGE : /^\d{1,6}$/.test(perRaw) ? Number(perRaw) : NaN;
  if (!Number.isInteger(page) || page < 1) errors.push({ field: "page", message: "It should be a positive number", code: "invalid_value" });
  if (!Number.isInteger(per) || per < 1 || per > MAX_PER_PAGE) {
    errors.push({ field: "per_page", message: `It should be a number between 1 and ${MAX_PER_PAGE}`, code: "invalid_value" });
  }
  if (errors.length) return errors;
  const start = (page - 1) * per;
  const slice = items.slice(start, start + per);
  const headers: Record<string, string> = {};
  if (start + per < items.length) {
    const next = new URLSearchParams(query);
    next.set("page", String(page + 1));
    next.set("per_page", String(per));
    headers["Link"] = `<${selfUrl}?${next.toString()}>; rel="next"`;
  }
  return { page: slice, headers };
}

/** A 200 with one page of the list under `key`, or a 400 naming the bad paging parameters. */
export function listReply<T>(items: T[], r: ApiRequest, key: string, view: (item: T) => unknown): Reply {
  const p = paginate(items, r.query, r.selfUrl);
  if (Array.isArray(p)) return validationReply(p);
  return { status: 200, body: { [key]: p.page.map(view) }, headers: p.headers };
}

/** Query parameters the list does not take, as the platform reports them (at most 20). */
export function unknownParams(q: URLSearchParams, allowed: string[]): FieldError[] {
  const out: FieldError[] = [];
  for (const k of new Set(q.keys())) {
    if (!allowed.includes(k)) out.push({ field: k.slice(0, 100), message: "Unexpected/invalid field in request", code: "invalid_field" });
  }
  return out.slice(0, 20);
}
