/**
 * The record store: one map per table class, indexed by sys_id, with a sys_id -> class index
 * so a record is found through its own table or any table it extends. Values are strings.
 */
import { randomBytes } from "node:crypto";
import type { Schema, TableDef } from "./schema";
import type { GlideRecord } from "./types";
import type { WriteContext } from "./writeContext";

export class StoreConstraintError extends Error {
  constructor(
    readonly table: string,
    readonly detail: string,
  ) {
    super(`Error during insert of ${table} (${detail})`);
  }
}

/** An insert whose sys_id is already taken, in any table: sys_ids are unique across the instance. */
export class DuplicateSysIdError extends StoreConstraintError {}

export interface Snapshot {
  format: "keywire-servicenow-emulator";
  version: 1;
  secret: string;
  counters: Record<string, number>;
  tables: Record<string, GlideRecord[]>;
}

/**
 * The platform behaviour the store applies but does not define, given at construction so the
 * store imports none of it: how client input becomes a row, and what goes with a deleted record.
 */
export interface StoreHooks {
  /** Builds the next version of a row (a new object; `current` is left untouched). */
  write(store: Store, def: TableDef, current: GlideRecord | undefined, fields: Record<string, unknown>, ctx: WriteContext): GlideRecord;
  /** Runs after a record is deleted, with the class it was stored under. */
  afterDelete(store: Store, table: string, sysId: string): void;
}

export class Store {
  private tables = new Map<string, Map<string, GlideRecord>>();
  private classOf = new Map<string, string>();
  private versions = new Map<string, number>();
  private counters: Record<string, number> = {};
  /** Key material for the stable "encrypted" rendering of password2 values. */
  secret = randomBytes(32).toString("hex");
  onChange: (() => void) | undefined;

  constructor(
    public schema: Schema,
    private readonly hooks: StoreHooks,
  ) {}

  private tableMap(table: string): Map<string, GlideRecord> {
    let m = this.tables.get(table);
    if (!m) {
      m = new Map();
      this.tables.set(table, m);
    }
    return m;
  }

  private bump(table: string): void {
    this.versions.set(table, (this.versions.get(table) ?? 0) + 1);
  }

  private touched(table: string): void {
    this.bump(table);
    this.onChange?.();
  }

  /** Changes whenever a record of `table` or of a table extending it changes. */
  version(table: string): number {
    let v = 0;
    for (const t of this.schema.familyOf(table)) v += this.versions.get(t) ?? 0;
    return v;
  }

  /** The record with this sys_id if it belongs to `table` or a table extending it. */
  get(table: string, sysId: string): GlideRecord | undefined {
    const cls = this.classOf.get(sysId);
    if (cls === undefined) return undefined;
    if (cls !== table && !this.schema.extendsTable(cls, table)) return undefined;
    return this.tables.get(cls)?.get(sysId);
  }

  /** Every record of `table` and of the tables extending it, in insertion order per class. */
  *scan(table: string, classes: string[] = this.schema.familyOf(table)): IterableIterator<GlideRecord> {
    for (const t of classes) {
      const m = this.tables.get(t);
      if (m) yield* m.values();
    }
  }

  /** Calls fn for every record of the given classes; a plain loop, cheaper than the generator on hot paths. */
  each(classes: string[], fn: (r: GlideRecord) => void): void {
    for (const t of classes) {
      const m = this.tables.get(t);
      if (m) for (const r of m.values()) fn(r);
    }
  }

  nextNumber(prefix: string): string {
    const n = (this.counters[prefix] ?? 10000) + 1;
    this.counters[prefix] = n;
    return `${prefix}${String(n).padStart(7, "0")}`;
  }

  insert(def: TableDef, fields: Record<string, unknown>, ctx: WriteContext): GlideRecord {
    const record = this.hooks.write(this, def, undefined, fields, ctx);
    if (this.classOf.has(record.sys_id)) throw new DuplicateSysIdError(def.name, this.schema.displayOf(def, record));
    this.checkUnique(def, record);
    this.tableMap(def.name).set(record.sys_id, record);
    this.classOf.set(record.sys_id, def.name);
    this.touched(def.name);
    return record;
  }

  update(def: TableDef, sysId: string, fields: Record<string, unknown>, ctx: WriteContext): GlideRecord | undefined {
    const current = this.get(def.name, sysId);
    if (!current) return undefined;
    const cls = this.classOf.get(sysId)!;
    const clsDef = this.schema.get(cls) ?? def;
    const next = this.hooks.write(this, clsDef, current, fields, ctx);
    this.checkUnique(clsDef, next);
    // Records are replaced, never mutated, so a reader holding the old object sees a consistent row.
    this.tables.get(cls)!.set(sysId, next);
    this.touched(cls);
    return next;
  }

  delete(table: string, sysId: string): boolean {
    const rec = this.get(table, sysId);
    if (!rec) return false;
    const cls = this.classOf.get(sysId)!;
    this.tables.get(cls)!.delete(sysId);
    this.classOf.delete(sysId);
    this.touched(cls);
    this.hooks.afterDelete(this, cls, sysId);
    return true;
  }

  private checkUnique(def: TableDef, record: GlideRecord): void {
    for (const f of def.fields.values()) {
      if (!f.unique) continue;
      const v = record[f.name];
      if (!v) continue;
      for (const other of this.scan(f.declaredOn)) {
        if (other.sys_id !== record.sys_id && other[f.name] === v) {
          throw new StoreConstraintError(def.name, `${f.name} must be unique`);
        }
      }
    }
  }

  clear(): void {
    this.tables.clear();
    this.classOf.clear();
    this.counters = {};
    this.secret = randomBytes(32).toString("hex");
    for (const t of this.schema.tables.keys()) this.bump(t);
  }

  snapshot(): Snapshot {
    const tables: Record<string, GlideRecord[]> = {};
    for (const [t, m] of this.tables) if (m.size) tables[t] = [...m.values()];
    return { format: "keywire-servicenow-emulator", version: 1, secret: this.secret, counters: { ...this.counters }, tables };
  }

  load(s: Snapshot): void {
    if (s.format !== "keywire-servicenow-emulator" || s.version !== 1 || typeof s.tables !== "object" || s.tables === null) {
      throw new Error("not a ServiceNow emulator data file");
    }
    this.tables.clear();
    this.classOf.clear();
    this.secret = typeof s.secret === "string" && s.secret ? s.secret : this.secret;
    this.counters = { ...(s.counters ?? {}) };
    for (const [t, rows] of Object.entries(s.tables)) {
      if (!Array.isArray(rows)) continue;
      const m = this.tableMap(t);
      for (const r of rows) {
        if (!r || typeof r.sys_id !== "string") continue;
        const rec: GlideRecord = {};
        for (const [k, v] of Object.entries(r)) rec[k] = typeof v === "string" ? v : String(v ?? "");
        m.set(rec.sys_id, rec);
        this.classOf.set(rec.sys_id, t);
      }
    }
    for (const t of this.schema.tables.keys()) this.bump(t);
  }
}
