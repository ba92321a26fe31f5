/**
 * sys_db_object and sys_dictionary rows generated from the schema, so clients can discover
 * tables and columns (including the ones whose names are switches). Their sys_ids are
 * derived from the names, so regenerating them keeps references stable.
 */
import { createHash } from "node:crypto";
import type { Store } from "./store";
import type { WriteContext } from "./writeContext";

const CTX: WriteContext = { userName: "system", trusted: true, acceptToken: false };

function stableId(kind: string, key: string): string {
  return createHash("md5").update(`${kind}:${key}`).digest("hex");
}

export function syncDictionary(store: Store): void {
  const schema = store.schema;
  const dbObject = schema.get("sys_db_object")!;
  const dictionary = schema.get("sys_dictionary")!;
  for (const t of ["sys_dictionary", "sys_db_object"]) {
    for (const r of [...store.scan(t)]) store.delete(t, r.sys_id);
  }
  for (const def of schema.tables.values()) {
    store.insert(
      dbObject,
      {
        sys_id: stableId("sys_db_object", def.name),
        name: def.name,
        label: def.label,
        super_class: def.superClass ? stableId("sys_db_object", def.superClass) : "",
      },
      CTX,
    );
    store.insert(
      dictionary,
      { sys_id: stableId("sys_dictionary", `${def.name}.`), name: def.name, element: "", column_label: def.label, internal_type: "collection", active: true },
      CTX,
    );
    for (const f of def.fields.values()) {
      // Like the platform, a column is listed once, on the table that declares it.
      if (f.declaredOn !== def.name) continue;
      store.insert(
        dictionary,
        {
          sys_id: stableId("sys_dictionary", `${def.name}.${f.name}`),
          name: def.name,
          element: f.name,
          column_label: f.label,
          internal_type: f.type,
          reference: f.reference ?? "",
          mandatory: !!f.mandatory,
          unique: !!f.unique,
          read_only: !!f.readOnly,
          max_length: f.maxLength,
          default_value: typeof f.defaultValue === "string" ? f.defaultValue : "",
          active: true,
        },
        CTX,
      );
    }
  }
}
