/** Dot-walked field names (`user.name`): resolution against the schema and value lookup. */
import type { FieldDef, Schema } from "./schema";
import type { Store } from "./store";
import type { GlideRecord } from "./types";

export interface FieldPath {
  /** One field per segment; every segment but the last is a reference. */
  steps: FieldDef[];
  last: FieldDef;
}

/** undefined when any segment is not a column, or a walked-through segment is not a reference. */
export function resolvePath(schema: Schema, table: string, path: string): FieldPath | undefined {
  const segments = path.split(".");
  const steps: FieldDef[] = [];
  let current = schema.get(table);
  for (let i = 0; i < segments.length; i++) {
    if (!current) return undefined;
    const f = current.fields.get(segments[i]);
    if (!f) return undefined;
    steps.push(f);
    if (i < segments.length - 1) {
      if (f.type !== "reference" || !f.reference) return undefined;
      current = schema.get(f.reference);
    }
  }
  return { steps, last: steps[steps.length - 1] };
}

/** The record that holds the last segment (the row itself, or the row reached by walking), if any. */
export function walk(store: Store, path: FieldPath, record: GlideRecord): GlideRecord | undefined {
  let r: GlideRecord | undefined = record;
  for (let i = 0; i < path.steps.length - 1 && r; i++) {
    const f = path.steps[i];
    const id: string | undefined = r[f.name];
    r = id ? store.get(f.reference!, id) : undefined;
  }
  return r;
}

export function valueAt(store: Store, path: FieldPath, record: GlideRecord): string {
  if (path.steps.length === 1) return record[path.last.name] ?? "";
  const r = walk(store, path, record);
  return r ? (r[path.last.name] ?? "") : "";
}
