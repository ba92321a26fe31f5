import { client, one } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

/** The default priority lookup: [impact, urgency, priority]. */
const LOOKUP: Array<[string, string, string]> = [
  ["1", "1", "1"],
  ["1", "2", "2"],
  ["2", "1", "2"],
  ["1", "3", "3"],
  ["2", "2", "3"],
  ["3", "1", "3"],
  ["2", "3", "4"],
  ["3", "2", "4"],
  ["3", "3", "5"],
];

describe("incident columns and priority", () => {
  const em = useServiceNowEmulator();
  let api: ReturnType<typeof client>;
  beforeAll(() => {
    api = client(em.url);
  });

  const INC = "/api/now/table/incident";
  const BARE = "sysparm_exclude_reference_link=true";

  describe("columns", () => {
    test("an incident carries caller, assignment, hold and resolution columns", async () => {
      const res = await api.get(`${INC}?sysparm_limit=1`);
      expect(res.status).toBe(200);
      for (const f of ["caller_id", "assignment_group", "assigned_to", "hold_reason", "close_code", "close_notes", "resolved_at", "resolved_by"]) {
        expect(res.body.result[0]).toHaveProperty(f);
      }
    });

    test("hold_reason, close_code, close_notes, resolved_at and resolved_by round-trip on insert and on update", async () => {
      const resolver = one(em, "sys_user", (u) => u.user_name === "admin");
      const written = {
        state: "3",
        hold_reason: "4",
        close_code: "Solution provided",
        close_notes: "Replaced the power supply.\nSecond line.",
        resolved_at: "2024-05-06 07:08:09",
        resolved_by: resolver.sys_id,
      };
      const created = await api.post(`${INC}?${BARE}`, { short_description: "round trip", ...written });
      expect(created.status).toBe(201);
      expect(created.body.result).toMatchObject(written);
      const read = await api.get(`${INC}/${created.body.result.sys_id}?${BARE}`);
      expect(read.body.result).toMatchObject(written);

      const changed = {
        hold_reason: "5",
        close_code: "Workaround provided",
        close_notes: "Restarted it.",
        resolved_at: "2025-01-02 03:04:05",
        resolved_by: "",
      };
      const patched = await api.patch(`${INC}/${created.body.result.sys_id}?${BARE}`, changed);
      expect(patched.status).toBe(200);
      expect(patched.body.result).toMatchObject(changed);
      expect((await api.get(`${INC}/${created.body.result.sys_id}?${BARE}`)).body.result).toMatchObject(changed);
    });

    test("resolved_by is a sys_user reference", async () => {
      const resolver = one(em, "sys_user", (u) => u.user_name === "abel.tuter");
      const created = await api.post(INC, { resolved_by: resolver.sys_id });
      expect(created.body.result.resolved_by).toEqual({ link: `${em.url}/api/now/table/sys_user/${resolver.sys_id}`, value: resolver.sys_id });
      const shown = await api.get(`${INC}/${created.body.result.sys_id}?sysparm_fields=resolved_by.user_name`);
      expect(shown.body.result).toEqual({ "resolved_by.user_name": "abel.tuter" });
    });

    test.each([
      ["1", "Awaiting Caller"],
      ["3", "Awaiting Problem"],
      ["4", "Awaiting Vendor"],
      ["5", "Awaiting Change"],
    ])("hold_reason %s shows as %s", async (value, label) => {
      const created = await api.post(INC, { state: "3", hold_reason: value });
      const res = await api.get(`${INC}/${created.body.result.sys_id}?sysparm_fields=hold_reason&sysparm_display_value=all`);
      expect(res.body.result.hold_reason).toEqual({ display_value: label, value });
    });

    test("resolved_at accepts only YYYY-MM-DD HH:MM:SS, like other date-times", async () => {
      const created = await api.post(INC, { resolved_at: "yesterday" });
      expect(created.body.result.resolved_at).toBe("");
    });

    test("sys_dictionary describes the new columns on incident", async () => {
      const res = await api.get(
        "/api/now/table/sys_dictionary?sysparm_query=nameINincident,task^elementINhold_reason,close_code,close_notes,resolved_at,resolved_by&sysparm_fields=name,element,internal_type,reference",
      );
      const cols = Object.fromEntries(res.body.result.map((r: Record<string, string>) => [r.element, r]));
      expect(cols.hold_reason).toMatchObject({ name: "incident", internal_type: "integer" });
      expect(cols.close_code).toMatchObject({ name: "incident", internal_type: "choice" });
      expect(cols.close_notes).toMatchObject({ name: "task", internal_type: "string" });
      expect(cols.resolved_at).toMatchObject({ name: "incident", internal_type: "glide_date_time" });
      expect(cols.resolved_by).toMatchObject({ name: "incident", internal_type: "reference", reference: "sys_user" });
    });
  });

  describe("priority from impact and urgency", () => {
    test.each(LOOKUP)("insert with impact %s and urgency %s gives priority %s", async (impact, urgency, priority) => {
      const created = await api.post(INC, { short_description: `i${impact} u${urgency}`, impact, urgency });
      expect(created.status).toBe(201);
      expect(created.body.result).toMatchObject({ impact, urgency, priority });
      expect((await api.get(`${INC}/${created.body.result.sys_id}`)).body.result.priority).toBe(priority);
    });

    test.each(LOOKUP)("update to impact %s and urgency %s gives priority %s", async (impact, urgency, priority) => {
      // Start from a pair whose priority differs from the expected one, so a missed recomputation shows.
      const start = priority === "5" ? { impact: "1", urgency: "1" } : { impact: "3", urgency: "3" };
      const created = await api.post(INC, { short_description: "to update", ...start });
      expect(created.body.result.priority).not.toBe(priority);
      const updated = await api.patch(`${INC}/${created.body.result.sys_id}`, { impact, urgency });
      expect(updated.status).toBe(200);
      expect(updated.body.result.priority).toBe(priority);
      expect((await api.get(`${INC}/${created.body.result.sys_id}`)).body.result.priority).toBe(priority);
    });

    test("changing only urgency recomputes from the stored impact; PUT recomputes like PATCH", async () => {
      const created = await api.post(INC, { impact: 1, urgency: 3 });
      expect(created.body.result.priority).toBe("3");
      const patched = await api.patch(`${INC}/${created.body.result.sys_id}`, { urgency: 1 });
      expect(patched.body.result.priority).toBe("1");
      const put = await api.put(`${INC}/${created.body.result.sys_id}`, { impact: 3 });
      expect(put.body.result.priority).toBe("3");
    });

    test("a new incident without impact or urgency gets the defaults 3/3 and priority 5", async () => {
      const created = await api.post(INC, { short_description: "defaults" });
      expect(created.body.result).toMatchObject({ impact: "3", urgency: "3", priority: "5" });
    });

    test("a priority sent by the client is overwritten by the lookup, on insert and on update", async () => {
      const created = await api.post(INC, { impact: 2, urgency: 2, priority: 1 });
      expect(created.body.result.priority).toBe("3");
      const patched = await api.patch(`${INC}/${created.body.result.sys_id}`, { priority: 5 });
      expect(patched.body.result.priority).toBe("3");
    });

    test("values outside the lookup match no row: priority keeps its value", async () => {
      const created = await api.post(INC, { impact: 4, urgency: 1, priority: 2 });
      expect(created.body.result).toMatchObject({ impact: "4", urgency: "1", priority: "2" });
    });

    test("priority shows its label as display value", async () => {
      const created = await api.post(INC, { impact: 1, urgency: 1 });
      const res = await api.get(`${INC}/${created.body.result.sys_id}?sysparm_fields=priority,impact,urgency&sysparm_display_value=true`);
      expect(res.body.result).toEqual({ priority: "1 - Critical", impact: "1 - High", urgency: "1 - High" });
    });

    test("the lookup is an incident rule: other task tables keep the priority they are given", async () => {
      const created = await api.post("/api/now/table/problem", { impact: 1, urgency: 1, priority: 4 });
      expect(created.body.result.priority).toBe("4");
    });

    test("seeded incidents are consistent with the lookup, and their priorities are 1, 3 and 4", async () => {
      const res = await api.get(`${INC}?sysparm_fields=impact,urgency,priority`);
      const rows: Array<{ impact: string; urgency: string; priority: string }> = res.body.result;
      expect(rows).toHaveLength(3);
      for (const r of rows) {
        expect(LOOKUP.find(([i, u]) => i === r.impact && u === r.urgency)?.[2]).toBe(r.priority);
      }
      expect(rows.map((r) => r.priority).sort()).toEqual(["1", "3", "4"]);
    });

    test("out-of-band writes follow the lookup too", async () => {
      const row = em.store.insert("incident", { impact: 2, urgency: 1 });
      expect(row.priority).toBe("2");
      expect(em.store.update("incident", row.sys_id, { urgency: 3 })!.priority).toBe("4");
    });
  });
});
