/**
 * Attachments kept as the platform keeps them: metadata in sys_attachment, content in
 * sys_attachment_doc (here one row per file, as base64). Both are ordinary records, so
 * snapshots, loading and reset treat them exactly like every other record.
 */
import { createHash } from "node:crypto";
import type { TableDef } from "./schema";
import type { Store } from "./store";
import type { GlideRecord } from "./types";
import type { WriteContext } from "./writeContext";

export const ATTACHMENT_TABLE = "sys_attachment";
const ATTACHMENT_DOC_TABLE = "sys_attachment_doc";

export interface NewAttachment {
  tableName: string;
  tableSysId: string;
  fileName: string;
  contentType: string;
  content: Buffer;
}

function tableDef(store: Store, name: string): TableDef {
  const def = store.schema.get(name);
  if (!def) throw new Error(`the schema has no ${name} table`);
  return def;
}

/** Stores the metadata row and its content row; returns the metadata row. */
export function addAttachment(store: Store, a: NewAttachment, userName: string): GlideRecord {
  // Trusted: the content column is read-only to client writes, and this is the server's own write.
  const ctx: WriteContext = { userName, trusted: true, acceptToken: false };
  const meta = store.insert(
    tableDef(store, ATTACHMENT_TABLE),
    {
      file_name: a.fileName,
      content_type: a.contentType,
      size_bytes: a.content.length,
      table_name: a.tableName,
      table_sys_id: a.tableSysId,
      hash: createHash("sha256").update(a.content).digest("hex"),
    },
    ctx,
  );
  store.insert(
    tableDef(store, ATTACHMENT_DOC_TABLE),
    { sys_attachment: meta.sys_id, position: 0, length: a.content.length, data: a.content.toString("base64") },
    ctx,
  );
  return meta;
}

/** The attachment's bytes, from its content rows in position order. */
export function attachmentContent(store: Store, attachmentId: string): Buffer {
  const docs: GlideRecord[] = [];
  for (const d of store.scan(ATTACHMENT_DOC_TABLE)) if (d.sys_attachment === attachmentId) docs.push(d);
  docs.sort((a, b) => Number(a.position) - Number(b.position));
  return Buffer.concat(docs.map((d) => Buffer.from(d.data ?? "", "base64")));
}

/**
 * Called after any record is deleted: a record's attachments go with it, and an
 * attachment's content rows with the attachment.
 */
export function deleteDependents(store: Store, table: string, sysId: string): void {
  if (table === ATTACHMENT_DOC_TABLE) return;
  const [dependentTable, column] = table === ATTACHMENT_TABLE ? [ATTACHMENT_DOC_TABLE, "sys_attachment"] : [ATTACHMENT_TABLE, "table_sys_id"];
  const doomed: string[] = [];
  for (const r of store.scan(dependentTable)) if (r[column] === sysId) doomed.push(r.sys_id);
  for (const id of doomed) store.delete(dependentTable, id);
}
