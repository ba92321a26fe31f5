/**
 * The Attachment API's operations: listing a record's attachments, uploading (raw and
 * multipart), metadata, download and delete, and the errors an upload can get.
 */
import { createHash } from "node:crypto";
import { ADMIN, allStrings, call, client, GLIDE_DATE, one, SYS_ID } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";
import { NOT_FOUND, ATT, BOUNDARY, BINARY, multipart, FORM_TYPE, freshIncident, attachmentCalls } from "./attachmentFixture";

describe("Attachment API", () => {
  const em = useServiceNowEmulator({}, { resetAfterEach: false });
  let incidentId: string;
  beforeEach(() => {
    incidentId = freshIncident(em);
  });
  const { listPath, uploadRaw, uploadForm, formFor } = attachmentCalls(em, () => incidentId);

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
      expect(a).toMatchObject({
        file_name: "screen.png",
        content_type: "image/png",
        size_bytes: String(png.length),
        table_name: "incident",
        table_sys_id: incidentId,
      });
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
        Buffer.from(
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="plain.txt"; filename*=UTF-8''na%C3%AFve%20file.txt\r\nContent-Type: text/plain\r\n\r\n`,
        ),
        data,
        Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
      ]);
      const res = await call(em.url, "POST", `${ATT}/upload`, {
        auth: ADMIN,
        rawBody: body,
        headers: { "Content-Type": `multipart/form-data; boundary="${BOUNDARY}"` },
      });
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
        await uploadForm([
          { name: "table_name", value: "incident" },
          { name: "table_sys_id", value: incidentId },
        ]),
        await uploadForm([
          { name: "table_sys_id", value: incidentId },
          { name: "f", filename: "x.txt", data: Buffer.from("x") },
        ]),
        await call(em.url, "POST", `${ATT}/upload`, { auth: ADMIN, rawBody: "x", headers: { "Content-Type": "text/plain" } }),
        await call(em.url, "POST", `${ATT}/upload`, {
          auth: ADMIN,
          rawBody: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end`,
          headers: { "Content-Type": FORM_TYPE },
        }),
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
});
