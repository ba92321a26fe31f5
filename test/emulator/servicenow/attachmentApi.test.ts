import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServiceNowEmulator } from "../../../emulator/servicenow";
import { HELP, parseArgs } from "../../../emulator/servicenow/cli";
import { ADMIN, allStrings, basic, call, client, GLIDE_DATE, makeKey, makeKeyProfile, makeUser, mapProfile, one, SYS_ID } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

const NOT_AUTH = { error: { message: "User Not Authenticated", detail: "Required to provide Auth information" }, status: "failure" };
const NOT_FOUND = { error: { message: "No Record found", detail: "Record doesn't exist or ACL restricts the record retrieval" }, status: "failure" };
const ATT = "/api/now/attachment";
const BOUNDARY = "----keywire-test-boundary-7MA4YWxkTrZu0gW";

/** Every byte value twice, so any text decoding on the way would show. */
const BINARY = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i))]);

interface FormField {
  name: string;
  value?: string;
  filename?: string;
  type?: string;
  data?: Buffer;
}

function multipart(fields: FormField[], boundary = BOUNDARY): Buffer {
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

const FORM_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

describe("Attachment API", () => {
  const em = useServiceNowEmulator({}, { resetAfterEach: false });
  let incidentId: string;
  beforeEach(() => {
    em.setOptions({ maxAttachmentBytes: 25 * 1024 * 1024 });
    em.reset();
    incidentId = one(em, "incident", (r) => r.short_description === "Email server is not responding").sys_id;
  });

  const listPath = (id: string) => `${ATT}?table_name=incident&table_sys_id=${id}&sysparm_limit=10000&sysparm_offset=0`;

  function uploadRaw(fileName: string, data: Buffer | string, contentType = "text/plain", auth = ADMIN, tableSysId = incidentId, tableName = "incident") {
    const q = new URLSearchParams({ table_name: tableName, table_sys_id: tableSysId, file_name: fileName });
    return call(em.url, "POST", `${ATT}/file?${q}`, { auth, rawBody: data, headers: { "Content-Type": contentType } });
  }

  function uploadForm(fields: FormField[], auth = ADMIN) {
    return call(em.url, "POST", `${ATT}/upload`, { auth, rawBody: multipart(fields), headers: { "Content-Type": FORM_TYPE } });
  }

  const formFor = (file: FormField, tableSysId = incidentId): FormField[] => [
    { name: "table_name", value: "incident" },
    { name: "table_sys_id", value: tableSysId },
    file,
  ];

  describe("listing", () => {
    test("the list request a widely used client sends on every incident read answers 200, [] and X-Total-Count: 0", async () => {
      const res = await client(em.url).get(listPath(incidentId));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ result: [] });
      expect(res.headers["x-total-count"]).toBe("0");
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
    });

    test("an empty list is 200 [] with X-Total-Count on /v1/ and through sysparm_query too; other versions are no resource", async () => {
      for (const path of [`/api/now/v1/attachment?table_name=incident&table_sys_id=${incidentId}`, `${ATT}?sysparm_query=file_name=nothing.txt`, ATT]) {
        const res = await client(em.url).get(path);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ result: [] });
        expect(res.headers["x-total-count"]).toBe("0");
      }
      expect((await client(em.url).get("/api/now/v2/attachment")).status).toBe(400);
    });

    test("uploads show in the list with their count; sysparm_query and plain filters narrow it", async () => {
      expect((await uploadRaw("a.txt", "first")).status).toBe(201);
      expect((await uploadForm(formFor({ name: "uploadFile", filename: "b.bin", type: "application/octet-stream", data: BINARY }))).status).toBe(201);
      const other = one(em, "incident", (r) => r.short_description === "Unable to connect to VPN").sys_id;
      expect((await uploadRaw("c.txt", "elsewhere", "text/plain", ADMIN, other)).status).toBe(201);

      const res = await client(em.url).get(listPath(incidentId));
      expect(res.status).toBe(200);
      expect(res.headers["x-total-count"]).toBe("2");
      expect(res.body.result.map((a: { file_name: string }) => a.file_name)).toEqual(["a.txt", "b.bin"]);
      expect(res.body.result.every((a: { table_sys_id: string }) => a.table_sys_id === incidentId)).toBe(true);

      const byQuery = await client(em.url).get(`${ATT}?sysparm_query=${encodeURIComponent(`table_sys_id=${incidentId}^file_name=b.bin`)}`);
      expect(byQuery.headers["x-total-count"]).toBe("1");
      expect(byQuery.body.result[0].size_bytes).toBe(String(BINARY.length));

      const all = await client(em.url).get(`${ATT}?sysparm_query=table_name=incident^ORDERBYDESCfile_name`);
      expect(all.headers["x-total-count"]).toBe("3");
      expect(all.body.result.map((a: { file_name: string }) => a.file_name)).toEqual(["c.txt", "b.bin", "a.txt"]);
    });

    test("sysparm_limit and sysparm_offset page the list; X-Total-Count is the whole count and Link points at the pages", async () => {
      for (let i = 0; i < 5; i++) expect((await uploadRaw(`f${i}.txt`, `n${i}`)).status).toBe(201);
      const res = await client(em.url).get(`${ATT}?table_sys_id=${incidentId}&sysparm_limit=2&sysparm_offset=2`);
      expect(res.headers["x-total-count"]).toBe("5");
      expect(res.body.result.map((a: { file_name: string }) => a.file_name)).toEqual(["f2.txt", "f3.txt"]);
      const rels = Object.fromEntries(
        String(res.headers.link)
          .split(",")
          .map((part) => {
            const m = /<([^>]+)>;rel="(\w+)"/.exec(part)!;
            return [m[2], new URL(m[1]).searchParams.get("sysparm_offset")];
          }),
      );
      expect(rels).toEqual({ first: "0", prev: "0", next: "4", last: "4" });
      expect(String(res.headers.link)).toContain(`${em.url}${ATT}?`);
      const bare = await client(em.url).get(`${ATT}?table_sys_id=${incidentId}&sysparm_suppress_pagination_header=true`);
      expect(bare.headers.link).toBeUndefined();
      expect(bare.headers["x-total-count"]).toBe("5");
    });
  });

  describe("upload, metadata, download, delete", () => {
    test("a raw upload answers 201 with Location and the sys_attachment metadata", async () => {
      const res = await uploadRaw("notes.txt", "hello attachment", "text/plain");
      expect(res.status).toBe(201);
      const a = res.body.result;
      expect(a.sys_id).toMatch(SYS_ID);
      expect(res.headers.location).toBe(`${em.url}${ATT}/${a.sys_id}`);
      expect(a).toMatchObject({
        file_name: "notes.txt",
        content_type: "text/plain",
        size_bytes: String(Buffer.byteLength("hello attachment")),
        table_name: "incident",
        table_sys_id: incidentId,
        download_link: `${em.url}${ATT}/${a.sys_id}/file`,
        sys_created_by: "admin",
        hash: createHash("sha256").update("hello attachment").digest("hex"),
      });
      expect(a.sys_created_on).toMatch(GLIDE_DATE);
      expect(allStrings(a)).toBe(true);
      const meta = await client(em.url).get(`${ATT}/${a.sys_id}`);
      expect(meta.status).toBe(200);
      expect(meta.body.result).toEqual(a);
    });

    test("download returns the same bytes with the stored content type and the metadata header", async () => {
      const up = await uploadRaw("bytes.bin", BINARY, "application/x-custom");
      const id = up.body.result.sys_id;
      const res = await client(em.url).get(`${ATT}/${id}/file`, { headers: { Accept: "*/*" } });
      expect(res.status).toBe(200);
      expect(res.raw.equals(BINARY)).toBe(true);
      expect(res.headers["content-type"]).toBe("application/x-custom");
      expect(res.headers["content-length"]).toBe(String(BINARY.length));
      expect(JSON.parse(String(res.headers["x-attachment-metadata"]))).toEqual(up.body.result);
      expect((await client(em.url).get(`/api/now/v1/attachment/${id}/file`)).raw.equals(BINARY)).toBe(true);
    });

    test("a multipart upload stores the file part with its name and type", async () => {
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), BINARY]);
      const res = await uploadForm(formFor({ name: "uploadFile", filename: "screen.png", type: "image/png", data: png }));
      expect(res.status).toBe(201);
      const a = res.body.result;
      expect(res.headers.location).toBe(`${em.url}${ATT}/${a.sys_id}`);
      expect(a).toMatchObject({ file_name: "screen.png", content_type: "image/png", size_bytes: String(png.length), table_name: "incident", table_sys_id: incidentId });
      const file = await client(em.url).get(`${ATT}/${a.sys_id}/file`);
      expect(file.raw.equals(png)).toBe(true);
      expect(file.headers["content-type"]).toBe("image/png");
    });

    test("a file name beyond ASCII survives, and the metadata header stays valid", async () => {
      const name = "résumé ✓ 日本.txt";
      const res = await uploadForm(formFor({ name: "uploadFile", filename: name, type: "text/plain", data: Buffer.from("x") }));
      expect(res.status).toBe(201);
      expect(res.body.result.file_name).toBe(name);
      const file = await client(em.url).get(`${ATT}/${res.body.result.sys_id}/file`);
      expect(file.status).toBe(200);
      expect(JSON.parse(String(file.headers["x-attachment-metadata"])).file_name).toBe(name);
    });

    test("multipart details: a quoted boundary, a preamble, an RFC 5987 file name, a file that contains CRLF and dashes", async () => {
      const data = Buffer.from(`line one\r\n--not-the-boundary\r\n\r\nline three`);
      const body = Buffer.concat([
        Buffer.from("preamble to ignore\r\n"),
        multipart([
          { name: "table_name", value: "incident" },
          { name: "table_sys_id", value: incidentId },
        ]).subarray(0, -`--${BOUNDARY}--\r\n`.length),
        Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="plain.txt"; filename*=UTF-8''na%C3%AFve%20file.txt\r\nContent-Type: text/plain\r\n\r\n`),
        data,
        Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
      ]);
      const res = await call(em.url, "POST", `${ATT}/upload`, { auth: ADMIN, rawBody: body, headers: { "Content-Type": `multipart/form-data; boundary="${BOUNDARY}"` } });
      expect(res.status).toBe(201);
      expect(res.body.result.file_name).toBe("naïve file.txt");
      expect((await client(em.url).get(`${ATT}/${res.body.result.sys_id}/file`)).raw.equals(data)).toBe(true);
    });

    test("without a usable Content-Type the file is stored as application/octet-stream", async () => {
      const res = await uploadRaw("any.dat", "data", "*/*");
      expect(res.body.result.content_type).toBe("application/octet-stream");
      const form = await uploadForm(formFor({ name: "f", filename: "typeless.dat", data: Buffer.from("d") }));
      expect(form.body.result.content_type).toBe("application/octet-stream");
    });

    test("an empty file is accepted and downloads empty", async () => {
      const res = await uploadRaw("empty.txt", Buffer.alloc(0));
      expect(res.status).toBe(201);
      expect(res.body.result.size_bytes).toBe("0");
      const file = await client(em.url).get(`${ATT}/${res.body.result.sys_id}/file`);
      expect(file.status).toBe(200);
      expect(file.raw.length).toBe(0);
    });

    test("DELETE answers 204 without a body; the attachment is then gone everywhere", async () => {
      const id = (await uploadRaw("bye.txt", "bye")).body.result.sys_id;
      const res = await client(em.url).del(`${ATT}/${id}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe("");
      expect((await client(em.url).get(`${ATT}/${id}`)).body).toEqual(NOT_FOUND);
      expect((await client(em.url).get(`${ATT}/${id}/file`)).status).toBe(404);
      const list = await client(em.url).get(listPath(incidentId));
      expect(list.headers["x-total-count"]).toBe("0");
      expect(em.store.query("sys_attachment_doc", (d) => d.sys_attachment === id)).toEqual([]);
      expect((await client(em.url).del(`${ATT}/${id}`)).status).toBe(404);
    });

    test.each(["0".repeat(32), "not-a-sys-id"])("an unknown attachment id (%s) is 404 with the envelope for metadata, file and delete", async (id) => {
      for (const res of [await client(em.url).get(`${ATT}/${id}`), await client(em.url).get(`${ATT}/${id}/file`), await client(em.url).del(`${ATT}/${id}`)]) {
        expect(res.status).toBe(404);
        expect(res.body).toEqual(NOT_FOUND);
      }
    });

    test("methods a path does not support answer 405", async () => {
      const id = (await uploadRaw("m.txt", "m")).body.result.sys_id;
      expect((await client(em.url).put(`${ATT}/${id}`, { file_name: "x" })).status).toBe(405);
      expect((await client(em.url).post(ATT, {})).status).toBe(405);
      expect((await client(em.url).get(`${ATT}/file`)).status).toBe(405);
      expect((await client(em.url).del(`${ATT}/${id}/file`)).status).toBe(405);
    });
  });

  describe("upload errors", () => {
    test.each(["table_name", "table_sys_id", "file_name"])("a raw upload without %s is 400 with the envelope", async (name) => {
      const q = new URLSearchParams({ table_name: "incident", table_sys_id: incidentId, file_name: "x.txt" });
      q.delete(name);
      const res = await call(em.url, "POST", `${ATT}/file?${q}`, { auth: ADMIN, rawBody: "x", headers: { "Content-Type": "text/plain" } });
      expect(res.status).toBe(400);
      expect(res.body.status).toBe("failure");
      expect(res.body.error.message).toContain(name);
    });

    test("an upload to a record that does not exist, or to an unknown table, is 404 with the envelope and stores nothing", async () => {
      for (const res of [
        await uploadRaw("x.txt", "x", "text/plain", ADMIN, "0".repeat(32)),
        await uploadRaw("x.txt", "x", "text/plain", ADMIN, incidentId, "u_no_such_table"),
        await uploadRaw("x.txt", "x", "text/plain", ADMIN, incidentId, "problem"),
        await uploadForm(formFor({ name: "f", filename: "x.txt", data: Buffer.from("x") }, "f".repeat(32))),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body.status).toBe("failure");
        expect(res.body.error.message).toBe("No Record found");
      }
      expect(em.store.query("sys_attachment")).toEqual([]);
    });

    test("naming a parent table finds the record; the attachment records the record's own class", async () => {
      const res = await uploadRaw("via-task.txt", "t", "text/plain", ADMIN, incidentId, "task");
      expect(res.status).toBe(201);
      expect(res.body.result.table_name).toBe("incident");
      expect((await client(em.url).get(listPath(incidentId))).headers["x-total-count"]).toBe("1");
    });

    test("multipart: no file part, no table_name, a body that is not multipart, or a broken body are 400 with the envelope", async () => {
      const cases = [
        await uploadForm([{ name: "table_name", value: "incident" }, { name: "table_sys_id", value: incidentId }]),
        await uploadForm([{ name: "table_sys_id", value: incidentId }, { name: "f", filename: "x.txt", data: Buffer.from("x") }]),
        await call(em.url, "POST", `${ATT}/upload`, { auth: ADMIN, rawBody: "x", headers: { "Content-Type": "text/plain" } }),
        await call(em.url, "POST", `${ATT}/upload`, { auth: ADMIN, rawBody: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end`, headers: { "Content-Type": FORM_TYPE } }),
      ];
      for (const res of cases) {
        expect(res.status).toBe(400);
        expect(res.body.status).toBe("failure");
        expect(typeof res.body.error.message).toBe("string");
      }
      expect(cases[0].body.error.message).toBe("Failed to create the attachment. File part might be missing in the request.");
      expect(cases[1].body.error.message).toContain("table_name");
      expect(em.store.query("sys_attachment")).toEqual([]);
    });
  });

  describe("size limit", () => {
    test("the default limit is 25 MiB, and uploads above the general body limit are accepted", async () => {
      const opts = await call(em.url, "GET", "/__emulator/options");
      expect(opts.body.maxAttachmentBytes).toBe(25 * 1024 * 1024);
      const big = Buffer.alloc(2 * 1024 * 1024 + 3, 7);
      const res = await uploadRaw("big.bin", big, "application/octet-stream");
      expect(res.status).toBe(201);
      expect(res.body.result.size_bytes).toBe(String(big.length));
      expect((await client(em.url).get(`${ATT}/${res.body.result.sys_id}/file`)).raw.equals(big)).toBe(true);
    });

    test("a file over maxAttachmentBytes is 413 with the envelope, raw or multipart; one at the limit is stored", async () => {
      em.setOptions({ maxAttachmentBytes: 1000 });
      expect((await uploadRaw("limit.bin", Buffer.alloc(1000, 1))).status).toBe(201);
      const raw = await uploadRaw("over.bin", Buffer.alloc(1001, 1));
      expect(raw.status).toBe(413);
      expect(raw.body).toEqual({ error: { message: "Request entity too large", detail: expect.stringContaining("1000") }, status: "failure" });
      const form = await uploadForm(formFor({ name: "f", filename: "over.bin", data: Buffer.alloc(1001, 1) }));
      expect(form.status).toBe(413);
      expect(form.body.status).toBe("failure");
      // A body far past the limit is refused before it is parsed, with the same envelope.
      const huge = await uploadRaw("huge.bin", Buffer.alloc(1000 + 64 * 1024 + 1, 1));
      expect(huge.status).toBe(413);
      expect(huge.body.status).toBe("failure");
      expect(em.store.query("sys_attachment").map((a) => a.file_name)).toEqual(["limit.bin"]);
    });

    test("--max-attachment-bytes sets the option", () => {
      expect(HELP).toContain("--max-attachment-bytes");
      expect(parseArgs(["--max-attachment-bytes", "4096"])).toEqual({ maxAttachmentBytes: 4096 });
    });
  });

  describe("attachments belong to their record", () => {
    test("deleting the record deletes its attachments and their content", async () => {
      const id = (await uploadRaw("gone-with-record.txt", "x")).body.result.sys_id;
      const kept = one(em, "incident", (r) => r.short_description === "Unable to connect to VPN").sys_id;
      const other = (await uploadRaw("kept.txt", "k", "text/plain", ADMIN, kept)).body.result.sys_id;
      expect((await client(em.url).del(`/api/now/table/incident/${incidentId}`)).status).toBe(204);
      expect((await client(em.url).get(`${ATT}/${id}`)).status).toBe(404);
      const list = await client(em.url).get(listPath(incidentId));
      expect(list.body).toEqual({ result: [] });
      expect(list.headers["x-total-count"]).toBe("0");
      expect(em.store.query("sys_attachment_doc", (d) => d.sys_attachment === id)).toEqual([]);
      expect((await client(em.url).get(`${ATT}/${other}/file`)).text).toBe("k");
    });

    test("reset removes every attachment", async () => {
      await uploadRaw("r.txt", "r");
      em.reset();
      expect(em.store.query("sys_attachment")).toEqual([]);
      expect(em.store.query("sys_attachment_doc")).toEqual([]);
    });

    test("attachments persist in the data file with their content, and a deletion persists too", async () => {
      const dir = mkdtempSync(join(tmpdir(), "sn-attach-"));
      const file = join(dir, "sn.json");
      try {
        const first = await startServiceNowEmulator({ dataFile: file });
        let id: string;
        let doomed: string;
        try {
          const inc = one(first, "incident", (r) => r.short_description === "Email server is not responding").sys_id;
          const q = (name: string) => new URLSearchParams({ table_name: "incident", table_sys_id: inc, file_name: name });
          id = (await call(first.url, "POST", `${ATT}/file?${q("kept.bin")}`, { auth: ADMIN, rawBody: BINARY, headers: { "Content-Type": "application/x-kept" } })).body.result.sys_id;
          doomed = (await call(first.url, "POST", `${ATT}/file?${q("doomed.txt")}`, { auth: ADMIN, rawBody: "d", headers: { "Content-Type": "text/plain" } })).body.result.sys_id;
          expect((await client(first.url).del(`${ATT}/${doomed}`)).status).toBe(204);
        } finally {
          await first.stop();
        }
        const second = await startServiceNowEmulator({ dataFile: file });
        try {
          const res = await client(second.url).get(`${ATT}/${id}/file`);
          expect(res.status).toBe(200);
          expect(res.raw.equals(BINARY)).toBe(true);
          expect(res.headers["content-type"]).toBe("application/x-kept");
          expect((await client(second.url).get(`${ATT}/${doomed}`)).status).toBe(404);
        } finally {
          await second.stop();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("the Table API shows sys_attachment to admin and refuses writes to it", async () => {
      const id = (await uploadRaw("t.txt", "t")).body.result.sys_id;
      const res = await client(em.url).get(`/api/now/table/sys_attachment/${id}`);
      expect(res.status).toBe(200);
      expect(res.body.result.file_name).toBe("t.txt");
      expect((await client(em.url).patch(`/api/now/table/sys_attachment/${id}`, { file_name: "renamed" })).status).toBe(403);
      expect((await client(em.url).del(`/api/now/table/sys_attachment/${id}`)).status).toBe(403);
    });
  });

  describe("authentication, roles and policies", () => {
    test("no credentials, or wrong ones, get 401 with the envelope on every endpoint", async () => {
      const id = (await uploadRaw("secret.txt", "s")).body.result.sys_id;
      for (const auth of [undefined, basic("admin", "wrong")]) {
        const answers = [
          await call(em.url, "GET", listPath(incidentId), { auth }),
          await call(em.url, "GET", `${ATT}/${id}`, { auth }),
          await call(em.url, "GET", `${ATT}/${id}/file`, { auth }),
          await call(em.url, "POST", `${ATT}/file?table_name=incident&table_sys_id=${incidentId}&file_name=x.txt`, { auth, rawBody: "x", headers: { "Content-Type": "text/plain" } }),
          await call(em.url, "DELETE", `${ATT}/${id}`, { auth }),
        ];
        for (const res of answers) {
          expect(res.status).toBe(401);
          expect(res.body).toEqual(NOT_AUTH);
        }
      }
      expect(em.store.query("sys_attachment")).toHaveLength(1);
    });

    test("access follows the record's table: itil reads and writes incident attachments; a user without it sees none", async () => {
      const id = (await uploadRaw("itil.txt", "i")).body.result.sys_id;
      makeUser(em, "fulfiller", ["itil"]);
      makeUser(em, "nobody.special", []);
      const itil = basic("fulfiller", "pw");
      const none = basic("nobody.special", "pw");

      const listed = await client(em.url, itil).get(listPath(incidentId));
      expect(listed.headers["x-total-count"]).toBe("1");
      const up = await uploadRaw("by-itil.txt", "b", "text/plain", itil);
      expect(up.status).toBe(201);
      expect(up.body.result.sys_created_by).toBe("fulfiller");

      const hidden = await client(em.url, none).get(listPath(incidentId));
      expect(hidden.status).toBe(200);
      expect(hidden.body).toEqual({ result: [] });
      expect(hidden.headers["x-total-count"]).toBe("0");
      expect((await client(em.url, none).get(`${ATT}/${id}`)).status).toBe(404);
      expect((await client(em.url, none).get(`${ATT}/${id}/file`)).status).toBe(404);
      expect((await client(em.url, none).del(`${ATT}/${id}`)).status).toBe(404);
      expect((await uploadRaw("no.txt", "n", "text/plain", none)).status).toBe(404);
      expect((await client(em.url, itil).del(`${ATT}/${id}`)).status).toBe(204);
    });

    test("reading a record's table without writing it: the attachment can be read, not added or deleted", async () => {
      const caller = one(em, "sys_user", (u) => u.user_name === "abel.tuter").sys_id;
      const id = (await uploadRaw("user.txt", "u", "text/plain", ADMIN, caller, "sys_user")).body.result.sys_id;
      makeUser(em, "reader", []);
      const reader = basic("reader", "pw");
      expect((await client(em.url, reader).get(`${ATT}/${id}/file`)).text).toBe("u");
      const up = await uploadRaw("no.txt", "n", "text/plain", reader, caller, "sys_user");
      expect(up.status).toBe(403);
      expect(up.body.status).toBe("failure");
      const del = await client(em.url, reader).del(`${ATT}/${id}`);
      expect(del.status).toBe(403);
      expect(del.body.status).toBe("failure");
    });

    test("a policy on the Attachment API (by api_path) that admits only OAuth refuses basic there, and only there", async () => {
      const oauth = one(em, "std_http_auth", (p) => p.type === "oauth");
      const policy = em.store.insert("sys_api_access_policy", { name: "attachments by OAuth only", api_path: "now/attachment" });
      mapProfile(em, policy.sys_id, oauth.sys_id);
      const refused = await client(em.url).get(listPath(incidentId));
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual(NOT_AUTH);
      expect((await uploadRaw("x.txt", "x")).status).toBe(401);
      expect((await client(em.url).get(`/api/now/table/incident/${incidentId}`)).status).toBe(200);
      em.store.update("sys_api_access_policy", policy.sys_id, { active: false });
      expect((await client(em.url).get(listPath(incidentId))).status).toBe(200);
    });

    test("a policy given by the seeded Attachment API definition (api) governs it too; Table API policies do not", async () => {
      const tableOnlyOauth = em.store.insert("sys_api_access_policy", { name: "table by OAuth only", api_path: "now/table", apply_global: false });
      const oauth = one(em, "std_http_auth", (p) => p.type === "oauth");
      mapProfile(em, tableOnlyOauth.sys_id, oauth.sys_id);
      em.setOptions({ shippedPolicies: "inactive" });
      try {
        expect((await client(em.url).get("/api/now/table/incident")).status).toBe(401);
        expect((await client(em.url).get(listPath(incidentId))).status).toBe(200);
        const def = one(em, "sys_ws_definition", (d) => d.name === "Attachment API");
        expect(def.base_uri).toBe("/api/now/attachment");
        const byRef = em.store.insert("sys_api_access_policy", { name: "attachments by ref", api: def.sys_id });
        mapProfile(em, byRef.sys_id, oauth.sys_id);
        expect((await client(em.url).get(listPath(incidentId))).status).toBe(401);
      } finally {
        em.setOptions({ shippedPolicies: "active" });
      }
    });

    test("API keys: refused where no policy covers the Attachment API; admitted once one maps the key profile", async () => {
      const svc = makeUser(em, "svc.attach", ["itil"]);
      const { token } = makeKey(em, svc.sys_id);
      const byKey = () => call(em.url, "GET", listPath(incidentId), { headers: { "x-sn-apikey": token } });
      const refused = await byKey();
      expect(refused.status).toBe(401);
      expect(refused.body.error.detail).toBe("Token Based Auth isn't allowed in the Global REST API Policy");
      const policy = em.store.insert("sys_api_access_policy", { name: "attachments by key", api_path: "now/attachment" });
      mapProfile(em, policy.sys_id, makeKeyProfile(em, "header").sys_id);
      const ok = await byKey();
      expect(ok.status).toBe(200);
      expect(ok.headers["x-total-count"]).toBe("0");
    });
  });

  describe("metrics and faults", () => {
    test("attachment requests are counted per route, per method and under sys_attachment", async () => {
      em.resetMetrics();
      await client(em.url).get(listPath(incidentId));
      const id = (await uploadRaw("m.txt", "m")).body.result.sys_id;
      await uploadForm(formFor({ name: "f", filename: "m2.txt", data: Buffer.from("m2") }));
      await client(em.url).get(`${ATT}/${id}`);
      await client(em.url).get(`${ATT}/${id}/file`);
      await client(em.url).del(`${ATT}/${id}`);
      await call(em.url, "GET", ATT); // refused (no credentials), still counted
      const m = em.metrics();
      expect(m.total).toBe(7);
      expect(m.byRoute).toEqual({
        "GET now/attachment": 2,
        "POST now/attachment/file": 1,
        "POST now/attachment/upload": 1,
        "GET now/attachment/{sys_id}": 1,
        "GET now/attachment/{sys_id}/file": 1,
        "DELETE now/attachment/{sys_id}": 1,
      });
      expect(m.byTable).toEqual({ sys_attachment: { GET: 4, POST: 2, DELETE: 1 } });
      expect(m.byMethod).toEqual({ GET: 4, POST: 2, DELETE: 1 });
      const admin = await call(em.url, "GET", "/__emulator/metrics");
      expect(admin.body.byRoute["GET now/attachment/{sys_id}/file"]).toBe(1);
    });

    test("a fault filtered on table sys_attachment hits Attachment API requests, not Table API ones", async () => {
      em.setFaults({ failNext: { count: 1, status: 503, table: "sys_attachment" } });
      try {
        expect((await client(em.url).get(`/api/now/table/incident/${incidentId}`)).status).toBe(200);
        const res = await client(em.url).get(listPath(incidentId));
        expect(res.status).toBe(503);
        expect(res.body.status).toBe("failure");
        expect((await client(em.url).get(listPath(incidentId))).status).toBe(200);
      } finally {
        em.setFaults({});
      }
    });
  });
});
