/**
 * What guards the Attachment API: the size limit, attachments belonging to their record,
 * authentication, roles and access policies, and its metrics and faults.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServiceNowEmulator } from "../../../emulator/servicenow";
import { HELP, parseArgs } from "../../../emulator/servicenow/cli";
import { ADMIN, basic, call, client, makeKey, makeKeyProfile, makeUser, mapProfile, one } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";
import { NOT_AUTH, ATT, BINARY, freshIncident, attachmentCalls } from "./attachmentFixture";

describe("Attachment API", () => {
  const em = useServiceNowEmulator({}, { resetAfterEach: false });
  let incidentId: string;
  beforeEach(() => {
    incidentId = freshIncident(em);
  });
  const { listPath, uploadRaw, uploadForm, formFor } = attachmentCalls(em, () => incidentId);

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
          id = (
            await call(first.url, "POST", `${ATT}/file?${q("kept.bin")}`, { auth: ADMIN, rawBody: BINARY, headers: { "Content-Type": "application/x-kept" } })
          ).body.result.sys_id;
          doomed = (await call(first.url, "POST", `${ATT}/file?${q("doomed.txt")}`, { auth: ADMIN, rawBody: "d", headers: { "Content-Type": "text/plain" } }))
            .body.result.sys_id;
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
          await call(em.url, "POST", `${ATT}/file?table_name=incident&table_sys_id=${incidentId}&file_name=x.txt`, {
            auth,
            rawBody: "x",
            headers: { "Content-Type": "text/plain" },
          }),
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
