/**
 * The schema the emulator serves: the known tables (declared in tables/, one module per
 * family: columns, types, references, defaults and who may read or write them) built
 * into table definitions, with each table's parents' columns. The schema depends on two
 * options (the names of two columns nobody has confirmed), so it is built per emulator
 * and rebuilt when those options change.
 */
import { tableSpecs } from "./tables";
import type { Col, FieldDef, SchemaColumns, TableDef, TableSpec } from "./tables/definitions";

export type { FieldDef, FieldType, RoleRule, TableDef } from "./tables/definitions";

const SYSTEM_COLUMNS: Col[] = [
  ["sys_id", "GUID", { readOnly: true, maxLength: 32, label: "Sys ID" }],
  ["sys_created_on", "glide_date_time", { readOnly: true, label: "Created" }],
  ["sys_created_by", "string", { readOnly: true, label: "Created by" }],
  ["sys_updated_on", "glide_date_time", { readOnly: true, label: "Updated" }],
  ["sys_updated_by", "string", { readOnly: true, label: "Updated by" }],
  ["sys_mod_count", "integer", { readOnly: true, label: "Updates" }],
  ["sys_class_name", "sys_class_name", { readOnly: true, label: "Class" }],
];

function labelOf(name: string): string {
  return name
    .split("_")
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(" ");
}

export class Schema {
  readonly tables = new Map<string, TableDef>();
  /** table -> itself and every table extending it, transitively */
  private readonly family = new Map<string, string[]>();

  constructor(readonly columns: SchemaColumns) {
    const specs = tableSpecs(columns);
    const byName = new Map(specs.map((s) => [s.name, s]));
    const build = (spec: TableSpec): TableDef => {
      const existing = this.tables.get(spec.name);
      if (existing) return existing;
      const fields = new Map<string, FieldDef>();
      if (spec.superClass) {
        const parent = build(byName.get(spec.superClass)!);
        for (const [k, v] of parent.fields) fields.set(k, v);
      } else {
        for (const c of SYSTEM_COLUMNS) fields.set(c[0], toField(c, spec.name));
      }
      for (const c of spec.columns) fields.set(c[0], toField(c, spec.name));
      const def: TableDef = {
        name: spec.name,
        label: spec.label,
        superClass: spec.superClass,
        fields,
        displayField: spec.displayField,
        display: spec.display,
        access: spec.access,
        tokenPlugin: spec.tokenPlugin,
        connectorPlugin: spec.connectorPlugin,
        virtual: spec.virtual,
        numberPrefix: spec.numberPrefix,
      };
      this.tables.set(spec.name, def);
      return def;
    };
    for (const s of specs) build(s);
    for (const name of this.tables.keys()) {
      const members: string[] = [];
      for (const t of this.tables.values()) if (this.extendsTable(t.name, name)) members.push(t.name);
      this.family.set(name, members);
    }
  }

  get(table: string): TableDef | undefined {
    return this.tables.get(table);
  }

  /** Whether `table` is `ancestor` or extends it. */
  extendsTable(table: string, ancestor: string): boolean {
    for (let t: string | undefined = table; t; t = this.tables.get(t)?.superClass) if (t === ancestor) return true;
    return false;
  }

  familyOf(table: string): string[] {
    return this.family.get(table) ?? [table];
  }

  /** Display value of a record of `table` (as stored in its own class). */
  displayOf(def: TableDef, r: Record<string, string>): string {
    if (def.display) return def.display(r);
    if (def.displayField) return r[def.displayField] ?? "";
    return r.sys_id ?? "";
  }
}

function toField(c: Col, declaredOn: string): FieldDef {
  const [name, type, extra] = c;
  return {
    name,
    type,
    label: extra?.label ?? labelOf(name),
    reference: extra?.reference,
    mandatory: extra?.mandatory,
    unique: extra?.unique,
    maxLength: extra?.maxLength ?? (type === "boolean" ? 40 : type === "reference" || type === "GUID" ? 32 : 255),
    defaultValue: extra?.defaultValue,
    readOnly: extra?.readOnly,
    declaredOn,
    choices: extra?.choices,
  };
}
