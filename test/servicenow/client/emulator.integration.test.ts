/** The client against the bundled ServiceNow emulator, as against a real instance. */
import { ServiceNowConnection } from "../../../resources/servicenow/client/connection";
import { where } from "../../../resources/servicenow/client/encodedQuery";
import { ServiceNowError, TableClient } from "../../../resources/servicenow/client/tableClient";
import { fakeClock } from "../../core/fakeClock";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

const em = useServiceNowEmulator({}, { resetAfterEach: false });

function client(password = "admin"): TableClient {
  const conn = new ServiceNowConnection({ instance: em.url, credentials: { kind: "basic", username: "admin", password } });
  return new TableClient(conn, { retry: fakeClock() });
}

it("lists, gets, creates, updates and deletes incidents", async () => {
  const c = client();
  const name = `keywire client ${Date.now()}`;
  const created = await c.create("incident", { short_description: name, urgency: "2" });
  expect(created.sys_id).toMatch(/^[0-9a-f]{32}$/);
  const id = created.sys_id as string;

  expect((await c.get("incident", id, { fields: ["short_description"] }))?.short_description).toBe(name);
  const listed = await c.list("incident", { query: where({ short_description: name }), fields: ["sys_id"] });
  expect(listed).toEqual([{ sys_id: id }]);
  expect((await c.update("incident", id, { urgency: "1" })).urgency).toBe("1");
  expect(await c.delete("incident", id)).toBe("deleted");
  expect(await c.get("incident", id)).toBeUndefined();
  expect(await c.delete("incident", id)).toBe("absent");
});

it("creates exactly one record when the emulator drops the connection after committing", async () => {
  const c = client();
  const name = `keywire dropped ${Date.now()}`;
  em.resetMetrics();
  em.setFaults({ commitThenFailNext: { count: 1, mode: "drop", methods: ["POST"], table: "incident" } });
  const rec = await c.create("incident", { short_description: name });
  expect(rec.short_description).toBe(name);
  expect(em.store.query("incident", (r) => r.short_description === name)).toHaveLength(1);
  expect(em.metrics().byTable.incident?.POST).toBe(1);
});

it("reports wrong credentials with the Basic Auth hint", async () => {
  const err = await client("wrong-password")
    .list("incident")
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(ServiceNowError);
  expect((err as ServiceNowError).status).toBe(401);
  expect((err as ServiceNowError).message).toContain("snc_basic_auth_api_access");
  expect((err as ServiceNowError).message).not.toContain("wrong-password");
});

it("authenticates with OAuth client credentials and reuses the token", async () => {
  const admin = em.store.query("sys_user", (r) => r.user_name === "admin")[0];
  em.store.insert("oauth_entity", {
    name: "keywire client test",
    client_id: "keywire-client-test",
    client_secret: "client-test-secret-42",
    active: "true",
    oauth_client_credentials_user: admin?.sys_id ?? "",
  });
  const conn = new ServiceNowConnection({
    instance: em.url,
    credentials: { kind: "oauth", clientId: "keywire-client-test", clientSecret: "client-test-secret-42" },
  });
  const c = new TableClient(conn, { retry: fakeClock() });
  em.resetMetrics();
  await c.list("incident", { limit: 1 });
  await c.list("incident", { limit: 1 });
  expect(em.metrics().byRoute["POST /oauth_token.do"]).toBe(1);
  expect(em.metrics().byTable.incident?.GET).toBe(2);
});
