/**
 * The Event Management inbound endpoint, part two: what it does with what it is sent.
 * Whether the plugin exists (the eventManagement switch), how events become alerts, what
 * each answer looks like, and the key's form where a person copies its token.
 */
import { startServiceNowEmulator } from "../../../emulator/servicenow";
import { HELP, parseArgs } from "../../../emulator/servicenow/cli";
import type { GlideRecord } from "../../../emulator/servicenow/types";
import { clearAlarm, findMarkedEvent, newMarker, snsHeaders, snsNotification } from "../../../resources/servicenow/checks/syntheticAlarm";
import { ServiceNowConnection } from "../../../resources/servicenow/client/connection";
import { TableClient } from "../../../resources/servicenow/client/tableClient";
import { recordUrl } from "../../../resources/servicenow/engine/columns";
import { fakeClock } from "../../core/fakeClock";
import { spawnCli } from "./cliProcess";
import { ADMIN, basic, call, makeUser, one, SYS_ID, type CallOptions } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";
import { TOPIC, PATH, NO_RESOURCE, alarmNotification, expectEnvelope, expectKeyRefused, makeEventChain, endpointCalls } from "./eventEndpointFixture";

describe("Event Management inbound endpoint contract", () => {
  const em = useServiceNowEmulator({}, { resetAfterEach: false });
  let token: string;
  let keyRow: GlideRecord;
  let instanceId: string;

  beforeEach(() => {
    ({ token, keyRow, instanceId } = makeEventChain(em));
  });
  const { endpoint, deliverAlarm, tableRead, events, alerts } = endpointCalls(em, () => ({ token, instanceId }));

  describe("5. the eventManagement switch (Event Management Connectors plugin)", () => {
    const expectNoResource = async (o: CallOptions = {}, q: Record<string, string | null> = {}): Promise<void> => {
      const body = alarmNotification("switch", "ALARM");
      const res = await call(em.url, "POST", endpoint(q), { rawBody: JSON.stringify(body), ...o, headers: { ...snsHeaders(body), ...o.headers } });
      expectEnvelope(res, 400, NO_RESOURCE);
      expect(res.body.error.detail).toBeNull();
    };

    test("inactive: the endpoint is an unknown resource to every caller, and nothing is recorded", async () => {
      em.setOptions({ eventManagement: "inactive" });
      await expectNoResource();
      await expectNoResource({ auth: ADMIN }, { "x-sn-apikey": null });
      await expectNoResource({}, { "x-sn-apikey": null });
      await expectNoResource({}, { "x-sn-apikey": "now_garbage" });
      expect(events()).toHaveLength(0);
      em.resetMetrics();
      await expectNoResource();
      expect(em.metrics().byRoute).toEqual({ "POST other": 1 });
    });

    test("inactive: the plugin row says so, the API's definition is inactive, the connector tables do not exist", async () => {
      em.setOptions({ eventManagement: "inactive" });
      const plugin = await call(em.url, "GET", "/api/now/table/sys_plugins?sysparm_query=id=sn_em_connector&sysparm_fields=name,active", { auth: ADMIN });
      expect(plugin.body.result).toEqual([{ name: "Event Management Connectors", active: "inactive" }]);
      const api = await call(em.url, "GET", "/api/now/table/sys_ws_definition?sysparm_query=base_uri=/api/sn_em_connector/em&sysparm_fields=active", {
        auth: ADMIN,
      });
      expect(api.body.result).toEqual([{ active: "false" }]);
      for (const table of ["sn_em_connector_push_instance", "sn_em_connector_listener", "sn_em_connector_push_log"]) {
        expectEnvelope(await call(em.url, "GET", `/api/now/table/${table}`, { auth: ADMIN }), 400, `Invalid table ${table}`);
      }
      // Events and alerts belong to Event Management itself, not to the connectors plugin.
      expect((await call(em.url, "GET", "/api/now/table/em_event", { auth: ADMIN })).status).toBe(200);
      expect((await call(em.url, "GET", "/api/now/table/em_alert", { auth: ADMIN })).status).toBe(200);
    });

    test("active again: the endpoint answers", async () => {
      em.setOptions({ eventManagement: "inactive" });
      await expectNoResource();
      em.setOptions({ eventManagement: "active" });
      expect((await deliverAlarm("switch-back", "ALARM")).status).toBe(200);
      const plugin = await call(em.url, "GET", "/api/now/table/sys_plugins?sysparm_query=id=sn_em_connector&sysparm_fields=active", { auth: ADMIN });
      expect(plugin.body.result).toEqual([{ active: "active" }]);
    });

    test("with the plugin active, a deactivated REST API definition also makes the endpoint unknown", async () => {
      const def = one(em, "sys_ws_definition", (d) => d.base_uri === "/api/sn_em_connector/em");
      const res = await call(em.url, "PATCH", `/api/now/table/sys_ws_definition/${def.sys_id}`, { auth: ADMIN, body: { active: false } });
      expect(res.status).toBe(200);
      await expectNoResource();
    });

    test("settable at start, through the admin API and as a CLI flag", async () => {
      const other = await startServiceNowEmulator({ eventManagement: "inactive" });
      try {
        const res = await call(other.url, "POST", `${PATH}?source=aws`, { auth: ADMIN, rawBody: "{}", headers: { "x-amz-sns-message-type": "Notification" } });
        expectEnvelope(res, 400, NO_RESOURCE);
        const patched = await call(other.url, "PATCH", "/__emulator/options", { body: { eventManagement: "active" } });
        expect(patched.status).toBe(200);
        expect(patched.body.eventManagement).toBe("active");
        const after = await call(other.url, "POST", `${PATH}?source=aws`, {
          auth: ADMIN,
          rawBody: "{}",
          headers: { "x-amz-sns-message-type": "Notification" },
        });
        expect(after.status).toBe(200);
        const bad = await call(other.url, "PATCH", "/__emulator/options", { body: { eventManagement: "absent" } });
        expect(bad.status).toBe(400);
      } finally {
        await other.stop();
      }
      expect(HELP).toContain("--event-management");
      expect(parseArgs(["--event-management", "inactive"])).toEqual({ eventManagement: "inactive" });
      expect(() => parseArgs(["--event-management", "gone"])).toThrow(/active, inactive/);
    });
  });

  describe("6. alerts", () => {
    const name = (label: string): string => `alerts-${label}-${Math.random().toString(16).slice(2, 10)}`;
    const keyOf = (alarm: string): string => `123456789012:EU (Ireland):${alarm}`;

    test("an OK (Clear) alarm with no open alert records the event and creates no alert", async () => {
      const alarm = name("ok");
      const res = await deliverAlarm(alarm, "OK");
      expect(res.status).toBe(200);
      const event = em.store.get("em_event", res.body.result.em_event)!;
      expect(event).toMatchObject({ severity: "0", message_key: keyOf(alarm), state: "Processed", alert: "" });
      expect(alerts()).toHaveLength(0);
    });

    test("an ALARM creates one open alert keyed by the message key; the event names it", async () => {
      const alarm = name("alarm");
      const res = await deliverAlarm(alarm, "ALARM");
      const [alert] = alerts();
      expect(alerts()).toHaveLength(1);
      expect(alert).toMatchObject({ state: "Open", severity: "1", message_key: keyOf(alarm), resource: alarm, source: "aws", node: "i-0123" });
      expect(alert.number).toMatch(/^Alert\d{7}$/);
      expect(em.store.get("em_event", res.body.result.em_event)).toMatchObject({ state: "Processed", alert: alert.sys_id });
    });

    test("a following OK for the same alarm closes that alert and creates none", async () => {
      const alarm = name("close");
      await deliverAlarm(alarm, "ALARM");
      const res = await deliverAlarm(alarm, "OK");
      expect(alerts()).toHaveLength(1);
      const [alert] = alerts();
      expect(alert.state).toBe("Closed");
      expect(em.store.get("em_event", res.body.result.em_event)!.alert).toBe(alert.sys_id);
      // Closed stays closed: a second Clear changes nothing and still creates no alert.
      await deliverAlarm(alarm, "OK");
      expect(alerts()).toEqual([alert]);
    });

    test("further events with the same key update the open alert instead of adding one", async () => {
      const alarm = name("update");
      await deliverAlarm(alarm, "ALARM");
      await deliverAlarm(alarm, "INSUFFICIENT_DATA");
      expect(alerts()).toHaveLength(1);
      expect(alerts()[0]).toMatchObject({ state: "Open", severity: "4" });
    });

    test("an ALARM after the alert closed opens a new alert; other alarms have their own", async () => {
      const alarm = name("again");
      await deliverAlarm(alarm, "ALARM");
      await deliverAlarm(alarm, "OK");
      await deliverAlarm(alarm, "ALARM");
      expect(
        alerts((a) => a.message_key === keyOf(alarm))
          .map((a) => a.state)
          .sort(),
      ).toEqual(["Closed", "Open"]);
      const other = name("other");
      await deliverAlarm(other, "ALARM");
      expect(alerts((a) => a.message_key === keyOf(other))).toHaveLength(1);
      // A Clear for one alarm leaves the other's alert open.
      await deliverAlarm(other, "OK");
      expect(alerts((a) => a.message_key === keyOf(alarm) && a.state === "Open")).toHaveLength(1);
    });

    test("keywire's delivery check: its clearAlarm() notification leaves an em_event carrying the marker and no em_alert", async () => {
      const marker = newMarker("verify");
      const body = snsNotification(JSON.stringify(clearAlarm(marker, new Date())), TOPIC, new Date());
      const res = await call(em.url, "POST", endpoint(), { rawBody: JSON.stringify(body), headers: snsHeaders(body) });
      expect(res.status).toBe(200);
      const marked = events().filter((e) => e.resource === marker);
      expect(marked).toHaveLength(1);
      expect(marked[0]).toMatchObject({ severity: "0", sys_id: res.body.result.em_event });
      expect(marked[0].additional_info).toContain(marker);
      expect(em.store.query("em_alert")).toHaveLength(0);
      // The check's own query finds it through the Table API.
      const conn = new ServiceNowConnection({ instance: em.url, credentials: { kind: "basic", username: "admin", password: "admin" } });
      const found = await findMarkedEvent(new TableClient(conn, { retry: fakeClock() }), marker);
      expect(found?.sys_id).toBe(res.body.result.em_event);
      // And the integration user's key sees no alert for it.
      const viaKey = await call(em.url, "GET", `/api/now/table/em_alert?sysparm_query=resource=${marker}&x-sn-apikey=${encodeURIComponent(token)}`);
      expect(viaKey.status).toBe(200);
      expect(viaKey.body.result).toEqual([]);
    });

    test("em_alert is readable with the em_event roles or admin, not otherwise", async () => {
      await deliverAlarm(name("read"), "ALARM");
      for (const [userName, roles] of [
        ["reader.user", ["evt_mgmt_user"]],
        ["reader.admin", ["evt_mgmt_admin"]],
        ["reader.itil", ["itil"]],
        ["reader.integration", ["evt_mgmt_integration"]],
        ["reader.root", ["admin"]],
      ] as const) {
        makeUser(em, userName, [...roles]);
        const res = await call(em.url, "GET", "/api/now/table/em_alert", { auth: basic(userName, "pw") });
        expect(res.status).toBe(200);
        expect(res.body.result).toHaveLength(1);
      }
      makeUser(em, "reader.none", []);
      expectEnvelope(await call(em.url, "GET", "/api/now/table/em_alert", { auth: basic("reader.none", "pw") }), 403, "Insufficient rights to query records");
    });
  });

  describe("7. answers", () => {
    test("an accepted notification: 200, JSON, a result naming the event", async () => {
      const res = await deliverAlarm("answers-ok", "ALARM");
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("application/json;charset=UTF-8");
      expect(res.body).toEqual({ result: { status: "accepted", em_event: expect.stringMatching(SYS_ID) } });
      expect(res.headers["www-authenticate"]).toBeUndefined();
    });

    test("a refused key: 401 with WWW-Authenticate, exactly as the Table API answers the same key", async () => {
      em.store.update("api_key", keyRow.sys_id, { active: false });
      const event = await deliverAlarm("answers-401", "ALARM");
      const table = await tableRead();
      expectKeyRefused(event);
      expectKeyRefused(table);
      expect(event.body).toEqual(table.body);
    });

    test("no credentials at all: 401 User Not Authenticated with the challenge", async () => {
      const res = await deliverAlarm("answers-anon", "ALARM", { "x-sn-apikey": null });
      expectEnvelope(res, 401, "User Not Authenticated");
      expect(res.headers["www-authenticate"]).toBe('BASIC realm="Service-now"');
    });

    test("another method than POST: 405 in the envelope", async () => {
      expectEnvelope(await call(em.url, "GET", endpoint()), 405, "Method not Supported");
    });

    test("a body that is not an SNS message, or no message-type header: 400 in the envelope", async () => {
      expectEnvelope(
        await call(em.url, "POST", endpoint(), { rawBody: "not json", headers: { "x-amz-sns-message-type": "Notification" } }),
        400,
        "Exception while reading request",
      );
      expectEnvelope(await call(em.url, "POST", endpoint(), { rawBody: "{}" }), 400, "Missing header x-amz-sns-message-type");
      expect(events()).toHaveLength(0);
    });
  });

  describe("8. the key's form, where a person copies the token", () => {
    const keyUrl = (sysId: string): string => {
      const conn = new ServiceNowConnection({ instance: em.url, credentials: { kind: "basic", username: "admin", password: "admin" } });
      return recordUrl(conn, "api_key", sysId);
    };
    const tokenOnPage = (html: string): string | undefined => /id="api_key\.token">([^<]*)</.exec(html)?.[1];

    test("keywire's printed record URL opens the key's form for a signed-in admin, showing the token", async () => {
      const url = keyUrl(keyRow.sys_id);
      expect(url).toContain("/nav_to.do?uri=");
      const res = await call(url, "GET", "", { auth: ADMIN, headers: { Accept: "text/html" } });
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("text/html;charset=UTF-8");
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(tokenOnPage(res.text)).toBe(token);
      expect(res.text).toContain(keyRow.name);
      expect(res.text).toContain("svc.events Test"); // the user, by display value
    });

    test("the form itself (api_key.do?sys_id=) answers the same", async () => {
      const res = await call(em.url, "GET", `/api_key.do?sys_id=${keyRow.sys_id}`, { auth: ADMIN });
      expect(res.status).toBe(200);
      expect(tokenOnPage(res.text)).toBe(token);
    });

    test("no sign-in, a wrong password or an API key: 401 with the Basic challenge, no token", async () => {
      for (const o of [{}, { auth: basic("admin", "wrong") }] as CallOptions[]) {
        const res = await call(keyUrl(keyRow.sys_id), "GET", "", o);
        expect(res.status).toBe(401);
        expect(res.headers["www-authenticate"]).toBe('BASIC realm="Service-now"');
        expect(res.text).not.toContain(token);
      }
      const viaKey = await call(em.url, "GET", `/api_key.do?sys_id=${keyRow.sys_id}&x-sn-apikey=${encodeURIComponent(token)}`);
      expect(viaKey.status).toBe(401);
    });

    test("a signed-in user who may not read api_key gets 403 and no token", async () => {
      const res = await call(keyUrl(keyRow.sys_id), "GET", "", { auth: basic("svc.events", "pw") });
      expect(res.status).toBe(403);
      expect(res.text).not.toContain(token);
    });

    test("an unknown key, or api_key without its plugin: 404", async () => {
      expect((await call(keyUrl("0".repeat(32)), "GET", "", { auth: ADMIN })).status).toBe(404);
      em.setOptions({ plugin: "inactive" });
      const res = await call(keyUrl(keyRow.sys_id), "GET", "", { auth: ADMIN });
      expect(res.status).toBe(404);
      expect(res.text).not.toContain(token);
    });

    test("values are escaped; other tables' secrets stay masked", async () => {
      em.store.update("api_key", keyRow.sys_id, { description: '<script>alert("x")</script>' });
      const page = await call(keyUrl(keyRow.sys_id), "GET", "", { auth: ADMIN });
      expect(page.text).not.toContain("<script>");
      expect(page.text).toContain("&#60;script&#62;");
      const entity = em.store.insert("oauth_entity", { name: "client", client_secret: "very-secret-value" });
      const form = await call(em.url, "GET", `/nav_to.do?uri=${encodeURIComponent(`oauth_entity.do?sys_id=${entity.sys_id}`)}`, { auth: ADMIN });
      expect(form.status).toBe(200);
      expect(form.text).not.toContain("very-secret-value");
      expect(form.text).toContain('id="oauth_entity.client_secret">••••••••<');
    });

    test("the admin API gives a person the token: GET /__emulator/token/<sys_id>", async () => {
      const res = await call(em.url, "GET", `/__emulator/token/${keyRow.sys_id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sys_id: keyRow.sys_id, token });
      expect((await call(em.url, "GET", `/__emulator/token/${"0".repeat(32)}`)).status).toBe(404);
    });

    test("the CLI prints it: npm run emulator -- token <sys_id> --url <emulator>", async () => {
      expect(HELP).toContain("token <api_key sys_id>");
      const cli = spawnCli(["token", keyRow.sys_id, "--url", em.url]);
      expect(await cli.exited).toBe(0);
      expect(cli.stdout()).toBe(`${token}\n`);
      const unknown = spawnCli(["token", "0".repeat(32), "--url", em.url]);
      expect(await unknown.exited).toBe(1);
      expect(unknown.stderr()).toContain("no api_key");
      const remote = spawnCli(["token", keyRow.sys_id, "--url", "http://example.com:8080"]);
      expect(await remote.exited).toBe(2);
      expect(remote.stderr()).toContain("loopback-only");
    }, 60_000);
  });
});
