import { startServiceNowEmulator } from "../../../emulator/servicenow";
import { parseArgs } from "../../../emulator/servicenow/cli";
import { call, client } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

/** A fresh, valid sys_id per call, so tests never collide with each other or the seed. */
let counter = 0;
function chosenId(): string {
  counter++;
  return `c0ffee${String(counter).padStart(26, "0")}`;
}

describe("a client-chosen sys_id on insert", () => {
  const em = useServiceNowEmulator({}, { resetAfterEach: false });
  let api: ReturnType<typeof client>;
  beforeAll(() => {
    api = client(em.url);
  });
  beforeEach(() => {
    em.setFaults({});
    em.setOptions({ duplicateSysIdStatus: 403 });
  });

  test("a valid 32-hex sys_id in the body becomes the record's sys_id", async () => {
    const id = chosenId();
    const res = await api.post("/api/now/table/incident", { sys_id: id, short_description: "chosen" });
    expect(res.status).toBe(201);
    expect(res.body.result.sys_id).toBe(id);
    expect(res.headers.location).toBe(`${em.url}/api/now/table/incident/${id}`);
    const again = await api.get(`/api/now/table/incident/${id}`);
    expect(again.status).toBe(200);
    expect(again.body.result.short_description).toBe("chosen");
    expect(em.store.get("incident", id)?.short_description).toBe("chosen");
  });

  test("absent, null or empty sys_id lets the instance pick one", async () => {
    for (const body of [{}, { sys_id: null }, { sys_id: "" }]) {
      const res = await api.post("/api/now/table/problem", { ...body, short_description: "picked" });
      expect(res.status).toBe(201);
      expect(res.body.result.sys_id).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  test.each([
    ["upper case", "C0FFEE00000000000000000000000001"],
    ["31 characters", "c0ffee0000000000000000000000001"],
    ["33 characters", "c0ffee000000000000000000000000001"],
    ["not hex", "g0ffee00000000000000000000000001"],
    ["a number", 12345],
    ["an object", { value: "c0ffee00000000000000000000000001" }],
    ["blank", "   "],
  ])("a sys_id that is %s is refused with 400 and nothing is created", async (_what, value) => {
    const before = em.store.query("incident").length;
    const res = await api.post("/api/now/table/incident", { sys_id: value, short_description: "bad id" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { message: "Invalid sys_id", detail: "A sys_id must be 32 lowercase hexadecimal characters" },
      status: "failure",
    });
    expect(em.store.query("incident")).toHaveLength(before);
  });

  describe.each([403, 400, 409] as const)("an insert reusing a taken sys_id, answered %i", (status) => {
    beforeEach(() => em.setOptions({ duplicateSysIdStatus: status }));

    test("is refused with the insert-failure envelope and leaves the first record alone", async () => {
      const id = chosenId();
      const first = await api.post("/api/now/table/incident", { sys_id: id, short_description: "first" });
      expect(first.status).toBe(201);
      const second = await api.post("/api/now/table/incident", { sys_id: id, short_description: "second" });
      expect(second.status).toBe(status);
      expect(second.body).toEqual({
        error: { message: "Operation Failed", detail: expect.stringMatching(/^Error during insert of incident \(INC\d{7}\)$/) },
        status: "failure",
      });
      expect(second.headers.location).toBeUndefined();
      const rows = em.store.query("incident", (r) => r.sys_id === id);
      expect(rows).toHaveLength(1);
      expect(rows[0].short_description).toBe("first");
    });

    test("is refused across tables too: sys_ids are unique on the whole instance", async () => {
      const id = chosenId();
      expect((await api.post("/api/now/table/incident", { sys_id: id, short_description: "owner" })).status).toBe(201);
      const other = await api.post("/api/now/table/sys_user_group", { sys_id: id, name: "Squatters" });
      expect(other.status).toBe(status);
      expect(other.body).toEqual({
        error: { message: "Operation Failed", detail: "Error during insert of sys_user_group (Squatters)" },
        status: "failure",
      });
      expect(em.store.query("sys_user_group", (r) => r.name === "Squatters")).toHaveLength(0);
      expect(em.store.get("incident", id)?.short_description).toBe("owner");
    });
  });

  test("the status variant is a start option, a run-time option and a CLI flag, validated", async () => {
    const other = await startServiceNowEmulator({ duplicateSysIdStatus: 409 });
    try {
      const c = client(other.url);
      const id = chosenId();
      expect((await c.post("/api/now/table/incident", { sys_id: id })).status).toBe(201);
      expect((await c.post("/api/now/table/incident", { sys_id: id })).status).toBe(409);
    } finally {
      await other.stop();
    }
    const patched = await call(em.url, "PATCH", "/__emulator/options", { body: { duplicateSysIdStatus: 400 } });
    expect(patched.status).toBe(200);
    expect(patched.body.duplicateSysIdStatus).toBe(400);
    expect((await call(em.url, "PATCH", "/__emulator/options", { body: { duplicateSysIdStatus: 500 } })).status).toBe(400);
    await expect(startServiceNowEmulator({ duplicateSysIdStatus: 201 as never })).rejects.toThrow(/duplicateSysIdStatus/);
    expect(parseArgs(["--duplicate-sys-id-status", "409"])).toEqual({ duplicateSysIdStatus: 409 });
    expect(() => parseArgs(["--duplicate-sys-id-status", "201"])).toThrow(/403, 400, 409/);
  });
});
