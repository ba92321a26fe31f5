/**
 * Attachments: metadata and content, written only through the Attachment API
 * (sys_attachment, sys_attachment_doc).
 */
import { type TableSpec, ADMIN_ONLY } from "./definitions";

export function attachmentTables(): TableSpec[] {
  return [
    {
      // Written only through the Attachment API, so metadata and content stay together.
      name: "sys_attachment",
      label: "Attachment",
      displayField: "file_name",
      access: { read: ADMIN_ONLY },
      columns: [
        ["file_name", "string", { maxLength: 100 }],
        ["content_type", "string", { maxLength: 100 }],
        ["size_bytes", "integer"],
        ["table_name", "string", { maxLength: 80 }],
        ["table_sys_id", "string", { maxLength: 32 }],
        ["hash", "string", { maxLength: 64 }],
      ],
    },
    {
      name: "sys_attachment_doc",
      label: "Attachment Document",
      access: { read: ADMIN_ONLY },
      columns: [
        ["sys_attachment", "reference", { reference: "sys_attachment" }],
        ["position", "integer"],
        ["length", "integer"],
        // The whole file as base64 in one row; read-only so no write path truncates it.
        ["data", "string", { readOnly: true, maxLength: 2_147_483_647 }],
      ],
    },
  ];
}
