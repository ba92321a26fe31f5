/**
 * How a write turns client input into a stored row: type coercion, reference resolution,
 * defaults, system fields, and the per-table rules (numbers, user names, generated tokens).
 */
import { createHash, randomBytes } from "node:crypto";
import { glideDateTime, isSysId, newApiKeyToken, newOpaqueToken, newSysId, parseGlideDateTime } from "./glide";
import { applyPriorityLookup } from "./incident";
import type { FieldDef, Schema, TableDef } from "./schema";
import type { GlideRecord } from "./types";
import type { WriteContext } from "./writeContext";

/** What the rules read from the store: references are resolved and numbers drawn through it. */
export interface RecordSource {
  readonly schema: Schema;
  get(table: string, sysId: string): GlideRecord | undefined;
  scan(table: string): Iterable<GlideRecord>;
  nextNumber(prefix: string): string;
}

/** Turns any JSON value into the string the platform would store. */
function coerce(raw: unknown): string {
  if (raw === null || raw === undefined) return "";
  if (typeof raw === "string") return raw;
  if (typeof raw === "number" || typeof raw === "boolean" || typeof raw === "bigint") return String(raw);
  if (Array.isArray(raw)) return raw.map(coerce).join(",");
  if (typeof raw === "object" && "value" in raw) return coerce((raw as { value: unknown }).value);
  return JSON.stringify(raw);
}

function hashPassword(pw: string): string {
  const salt = randomBytes(8).toString("hex");
  return `sha256$${salt}$${createHash("sha256")
    .update(salt + pw)
    .digest("hex")}`;
}

export function verifyPassword(stored: string, pw: string): boolean {
  const [alg, salt, hex] = stored.split("$");
  if (alg !== "sha256" || !salt || !hex) return false;
  return (
    createHash("sha256")
      .update(salt + pw)
      .digest("hex") === hex
  );
}

function resolveReference(store: RecordSource, refTable: string, value: string): string {
  const v = value.trim();
  if (!v) return "";
  if (isSysId(v) && store.get(refTable, v)) return v;
  const def = store.schema.get(refTable);
  if (def && !def.virtual) {
    for (const r of store.scan(refTable)) {
      const cls = store.schema.get(r.sys_class_name) ?? def;
      if (store.schema.displayOf(cls, r) === v) return r.sys_id;
    }
  }
  // Unresolvable references are stored as given, as the platform does.
  return v;
}

function normalize(store: RecordSource, f: FieldDef, raw: unknown): string {
  const s = coerce(raw);
  switch (f.type) {
    case "boolean": {
      const t = s.trim().toLowerCase();
      return t === "true" || t === "1" ? "true" : "false";
    }
    case "integer": {
      const t = s.trim();
      if (t === "") return "";
      const n = Number(t);
      return Number.isFinite(n) ? String(Math.trunc(n)) : "";
    }
    case "glide_date_time":
      // Anything but `YYYY-MM-DD HH:MM:SS` is stored empty, as a real instance does.
      return parseGlideDateTime(s.trim()) ? s.trim() : "";
    case "reference":
      return resolveReference(store, f.reference!, s);
    case "glide_list": {
      const parts = s
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean);
      return (f.reference ? parts.map((p) => resolveReference(store, f.reference!, p)) : parts).join(",");
    }
    case "password":
      return s === "" ? "" : hashPassword(s);
    case "password2":
      return s;
    default:
      return s.length > f.maxLength ? s.slice(0, f.maxLength) : s;
  }
}

const SYSTEM_FIELDS = new Set(["sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "sys_mod_count", "sys_class_name"]);

/** Builds the next version of a row (a new object; `current` is left untouched). */
export function applyWrite(
  store: RecordSource,
  def: TableDef,
  current: GlideRecord | undefined,
  fields: Record<string, unknown>,
  ctx: WriteContext,
): GlideRecord {
  const insert = current === undefined;
  const now = glideDateTime();
  const rec: GlideRecord = insert ? {} : { ...current };
  if (insert) {
    for (const f of def.fields.values()) {
      const d = f.defaultValue;
      rec[f.name] = d === undefined ? "" : typeof d === "function" ? d() : d;
    }
    const given = coerce(fields.sys_id).trim();
    rec.sys_id = isSysId(given) ? given : newSysId();
    rec.sys_created_on = now;
    rec.sys_created_by = ctx.userName;
    rec.sys_mod_count = "0";
    rec.sys_class_name = def.name;
  } else {
    rec.sys_mod_count = String(Number(rec.sys_mod_count || "0") + 1);
  }
  rec.sys_updated_on = now;
  rec.sys_updated_by = ctx.userName;

  for (const [name, raw] of Object.entries(fields)) {
    const f = def.fields.get(name);
    if (!f) continue; // unknown fields are ignored silently
    if (SYSTEM_FIELDS.has(name)) {
      if (ctx.trusted && name !== "sys_id" && name !== "sys_class_name") rec[name] = coerce(raw);
      continue;
    }
    if (f.readOnly && !ctx.trusted) {
      if (!(insert && ctx.acceptToken && def.name === "api_key" && name === "token")) continue;
    }
    rec[name] = f.readOnly ? coerce(raw) : normalize(store, f, raw);
  }

  applyTableRules(store, def, rec, insert);
  return rec;
}

function applyTableRules(store: RecordSource, def: TableDef, rec: GlideRecord, insert: boolean): void {
  if (def.name === "sys_user") {
    rec.name = [rec.first_name, rec.last_name].filter(Boolean).join(" ");
  }
  if (insert && def.numberPrefix && !rec.number) rec.number = store.nextNumber(def.numberPrefix);
  if (insert && def.name === "api_key" && !rec.token) rec.token = newApiKeyToken();
  if (def.name === "oauth_entity") {
    if (!rec.client_id) rec.client_id = newSysId();
    if (!rec.client_secret) rec.client_secret = newOpaqueToken(12);
  }
  if (insert && store.schema.extendsTable(def.name, "task") && !rec.opened_at) rec.opened_at = rec.sys_created_on;
  if (store.schema.extendsTable(def.name, "incident")) applyPriorityLookup(rec);
}
