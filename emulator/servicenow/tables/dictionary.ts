/**
 * The tables generated from the schema itself (sys_dictionary, sys_db_object).
 */
import { type TableSpec, API_ADMIN } from "./definitions";

export function dictionaryTables(): TableSpec[] {
  return [
    {
      name: "sys_dictionary",
      label: "Dictionary Entry",
      displayField: "element",
      virtual: true,
      access: { read: API_ADMIN },
      columns: [
        ["name", "string", { label: "Table" }],
        ["element", "string", { label: "Column name" }],
        ["column_label", "string"],
        ["internal_type", "string", { label: "Type" }],
        ["reference", "string"],
        ["mandatory", "boolean"],
        ["unique", "boolean"],
        ["read_only", "boolean"],
        ["max_length", "integer"],
        ["default_value", "string"],
        ["active", "boolean"],
      ],
    },
    {
      name: "sys_db_object",
      label: "Table",
      displayField: "name",
      virtual: true,
      access: { read: API_ADMIN },
      columns: [
        ["name", "string"],
        ["label", "string"],
        ["super_class", "reference", { reference: "sys_db_object", label: "Extends table" }],
      ],
    },
  ];
}
