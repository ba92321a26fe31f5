/** The records of each business object: seeded, added to by tests, read through the API. */
import { MAX_RECORDS_PER_OBJECT, OBJECTS, findObject, newRecId, seedRecords, type BoRecord } from "./businessObjects";
import { echo } from "./reply";

export class RecordStore {
  private rows = seedRecords();

  rowsOf(set: string): BoRecord[] {
    return this.rows.get(set) ?? [];
  }

  /** Adds a record to a business object; returns its RecId. */
  add(object: string, fields: Record<string, string | number | boolean | null>): string {
    const def = findObject(object);
    if (!def) throw new Error(`unknown business object; known: ${OBJECTS.map((o) => o.set).join(", ")}`);
    const rows = this.rows.get(def.set)!;
    if (rows.length >= MAX_RECORDS_PER_OBJECT) throw new Error("record limit reached");
    for (const f of Object.keys(fields)) if (!(f in def.fields)) throw new Error(`unknown field ${echo(f)}`);
    const RecId = newRecId();
    rows.push({ ...fields, RecId });
    return RecId;
  }

  reset(): void {
    this.rows = seedRecords();
  }
}
