/**
 * Every table the emulator knows, one module per family, in the order the schema builds
 * them.
 */
import { apiAccessTables } from "./apiAccess";
import { attachmentTables } from "./attachments";
import type { SchemaColumns, TableSpec } from "./definitions";
import { dictionaryTables } from "./dictionary";
import { eventManagementTables } from "./eventManagement";
import { identityTables } from "./identity";
import { platformTables } from "./platform";
import { taskTables } from "./tasks";

export function tableSpecs(cols: SchemaColumns): TableSpec[] {
  return [
    ...identityTables(),
    ...platformTables(),
    ...apiAccessTables(cols),
    ...eventManagementTables(),
    ...taskTables(),
    ...attachmentTables(),
    ...dictionaryTables(),
  ];
}
