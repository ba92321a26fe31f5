/** What the Attachment API tests share: answers, request builders, and the incident they attach to. */
import type { RunningEmulator } from "../../../emulator/servicenow";
import { ADMIN, call, one } from "./helpers";

export const NOT_AUTH = { error: { message: "User Not Authenticated", detail: "Required to provide Auth information" }, status: "failure" };
export const NOT_FOUND = { error: { message: "No Record found", detail: "Record doesn't exist or ACL restricts the record retrieval" }, status: "failure" };
export const ATT = "/api/now/attachment";
export const BOUNDARY = "----keywire-test-boundary-7MA4YWxkTrZu0gW";

/** Every byte value twice, so any text decoding on the way would show. */
export const BINARY = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i))]);

export interface FormField {
  name: string;
  value?: string;
  filename?: string;
  type?: string;
  data?: Buffer;
}

export function multipart(fields: FormField[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const f of fields) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"`;
    if (f.filename !== undefined) head += `; filename="${f.filename}"`;
    head += "\r\n";
    if (f.type) head += `Content-Type: ${f.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`), f.data ?? Buffer.from(f.value ?? ""), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export const FORM_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

/**
 * Before each test: attachments of up to 25 MB, the seed back, and the sys_id of the
 * seeded incident the tests attach files to.
 */
export function freshIncident(em: RunningEmulator): string {
  em.setOptions({ maxAttachmentBytes: 25 * 1024 * 1024 });
  em.reset();
  return one(em, "incident", (r) => r.short_description === "Email server is not responding").sys_id;
}

/** The Attachment API's calls on `em`, for the incident `incidentId()` names unless told another record. */
export function attachmentCalls(em: RunningEmulator, incidentId: () => string) {
  const listPath = (id: string) => `${ATT}?table_name=incident&table_sys_id=${id}&sysparm_limit=10000&sysparm_offset=0`;

  function uploadRaw(fileName: string, data: Buffer | string, contentType = "text/plain", auth = ADMIN, tableSysId = incidentId(), tableName = "incident") {
    const q = new URLSearchParams({ table_name: tableName, table_sys_id: tableSysId, file_name: fileName });
    return call(em.url, "POST", `${ATT}/file?${q}`, { auth, rawBody: data, headers: { "Content-Type": contentType } });
  }

  function uploadForm(fields: FormField[], auth = ADMIN) {
    return call(em.url, "POST", `${ATT}/upload`, { auth, rawBody: multipart(fields), headers: { "Content-Type": FORM_TYPE } });
  }

  const formFor = (file: FormField, tableSysId = incidentId()): FormField[] => [
    { name: "table_name", value: "incident" },
    { name: "table_sys_id", value: tableSysId },
    file,
  ];

  return { listPath, uploadRaw, uploadForm, formFor };
}
