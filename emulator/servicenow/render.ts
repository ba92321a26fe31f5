/**
 * Records as the Table API shows them: every value a string, references as {link, value},
 * display values on request, unreadable fields left out, password2 values encrypted.
 */
import { createCipheriv, createHash } from "node:crypto";
import { resolvePath, walk, type FieldPath } from "./fieldPath";
import type { FieldDef, Schema, TableDef } from "./schema";
import type { Store } from "./store";
import type { GlideRecord } from "./types";

export type DisplayMode = "false" | "true" | "all";

export interface RenderOptions {
  displayValue: DisplayMode;
  excludeReferenceLink: boolean;
  /** Columns to show (already resolved); undefined = every readable column of the table. */
  fields?: Array<{ name: string; path: FieldPath }>;
  baseUrl: string;
  /** Show the real value of password2 fields as their display value. */
  revealSecrets: boolean;
}

/** sysparm_fields: unknown names are dropped silently; dot-walked names are kept as flat keys. */
export function resolveFieldList(schema: Schema, table: string, list: string | null): RenderOptions["fields"] {
  if (list === null || list.trim() === "") return undefined;
  const out: Array<{ name: string; path: FieldPath }> = [];
  for (const raw of list.split(",")) {
    const name = raw.trim();
    if (!name) continue;
    const path = resolvePath(schema, table, name);
    if (path && path.last.type !== "password") out.push({ name, path });
  }
  return out;
}

const blobCache = new Map<string, string>();

/**
 * A stable, encrypted-looking stand-in for a stored secret: AES-256-CBC of the value under a
 * per-store key, with an IV derived from the record. It is not the secret and does not reveal it.
 */
function encryptedBlob(secret: string, sysId: string, value: string): string {
  if (!value) return "";
  const cacheKey = `${secret}|${sysId}|${value}`;
  const hit = blobCache.get(cacheKey);
  if (hit) return hit;
  const key = createHash("sha256").update(secret).digest();
  const iv = createHash("md5").update(sysId).digest();
  const cipher = createCipheriv("aes-256-cbc", key, iv);
  const blob = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]).toString("base64");
  if (blobCache.size > 10_000) blobCache.clear();
  blobCache.set(cacheKey, blob);
  return blob;
}

export class Renderer {
  /** Readable columns per table, computed once: the default column list of every answer. */
  private readonly readable = new Map<string, FieldDef[]>();

  constructor(
    private readonly store: Store,
    private readonly schema: Schema,
  ) {}

  private readableFields(def: TableDef): FieldDef[] {
    let list = this.readable.get(def.name);
    if (!list) {
      list = [...def.fields.values()].filter((f) => f.type !== "password"); // one-way hashes are never readable
      this.readable.set(def.name, list);
    }
    return list;
  }

  private displayOfRef(refTable: string, id: string): string {
    const r = this.store.get(refTable, id);
    if (!r) return "";
    const def = this.schema.get(r.sys_class_name) ?? this.schema.get(refTable);
    return def ? this.schema.displayOf(def, r) : "";
  }

  private fieldValue(f: FieldDef, holder: GlideRecord | undefined, o: RenderOptions): unknown {
    const v = holder ? (holder[f.name] ?? "") : "";
    let display = v;
    switch (f.type) {
      case "reference": {
        if (v === "") return o.displayValue === "all" ? { display_value: "", value: "" } : "";
        if (o.displayValue === "false" && o.excludeReferenceLink) return v;
        const link = `${o.baseUrl}/api/now/table/${f.reference}/${v}`;
        if (o.displayValue === "false") return { link, value: v };
        display = this.displayOfRef(f.reference!, v);
        if (o.displayValue === "true") return o.excludeReferenceLink ? display : { display_value: display, link };
        return o.excludeReferenceLink ? { display_value: display, value: v } : { display_value: display, link, value: v };
      }
      case "glide_list":
        if (f.reference && v)
          display = v
            .split(",")
            .map((id) => this.displayOfRef(f.reference!, id) || id)
            .join(", ");
        break;
      case "password2": {
        const blob = holder ? encryptedBlob(this.store.secret, holder.sys_id, v) : "";
        display = o.revealSecrets ? v : blob;
        if (o.displayValue === "false") return blob;
        if (o.displayValue === "true") return display;
        return { display_value: display, value: blob };
      }
      default:
        if (f.choices && Object.hasOwn(f.choices, v)) display = f.choices[v];
        break;
    }
    if (o.displayValue === "false") return v;
    if (o.displayValue === "true") return display;
    return { display_value: display, value: v };
  }

  render(def: TableDef, record: GlideRecord, o: RenderOptions): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (o.fields) {
      for (const { name, path } of o.fields) {
        const holder = path.steps.length === 1 ? record : walk(this.store, path, record);
        out[name] = this.fieldValue(path.last, holder, o);
      }
      return out;
    }
    for (const f of this.readableFields(def)) out[f.name] = this.fieldValue(f, record, o);
    return out;
  }
}
