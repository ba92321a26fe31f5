/**
 * The Event Management inbound endpoint judged as thoroughly as the Table API, part one:
 * who may post to it. Which access policy governs it, the profile mappings, the key and
 * its user, the user's roles, and the push connector it names.
 */
import type { GlideRecord } from "../../../emulator/servicenow/types";
import { snsHeaders } from "../../../resources/servicenow/checks/syntheticAlarm";
import { basic, call, makeKey, makeKeyProfile, makeUser, mapProfile, one, type Res } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";
import { EM_API, alarmNotification, expectEnvelope, expectKeyRefused, basicProfileId, makeEventChain, endpointCalls } from "./eventEndpointFixture";

describe("Event Management inbound endpoint contract", () => {
  const em = useServiceNowEmulator({}, { resetAfterEach: false });
  let user: GlideRecord;
  let token: string;
  let keyRow: GlideRecord;
  let queryProfile: GlideRecord;
  let eventPolicy: GlideRecord;
  let instanceId: string;

  beforeEach(() => {
    ({ user, token, keyRow, queryProfile, eventPolicy, instanceId } = makeEventChain(em));
  });
  const { endpoint, deliverAlarm, tableRead, events } = endpointCalls(em, () => ({ token, instanceId }));

  describe("1. access-policy precedence on sn_em_connector/em", () => {
    /** A policy of someone else's for the same API, narrowed as given (more specific than keywire's whole-API one). */
    const foreignPolicy = (narrowing: Record<string, unknown>): GlideRecord =>
      em.store.insert("sys_api_access_policy", { name: "Someone else's event policy", api_path: EM_API, ...narrowing });
    const NARROWER = {
      "http_method POST": { http_method: "POST", apply_all_methods: false },
      "the inbound_event resource": { api_resource: "/sn_em_connector/em/inbound_event", apply_all_resources: false },
      "version v1": { version: "v1", apply_all_versions: false },
      "POST on the resource in v1": {
        http_method: "POST",
        apply_all_methods: false,
        api_resource: "/sn_em_connector/em/inbound_event",
        apply_all_resources: false,
        version: "v1",
        apply_all_versions: false,
      },
    };

    test("keywire's policy admits its query-parameter profile: the key posts events and reads tables", async () => {
      const res = await deliverAlarm("precedence-baseline", "ALARM");
      expect(res.status).toBe(200);
      expect((await tableRead()).status).toBe(200);
    });

    test.each(Object.entries(NARROWER))(
      "a more specific active policy (%s) without keywire's profile governs: 401 on inbound_event, the Table API still 200",
      async (_name, narrowing) => {
        const foreign = foreignPolicy(narrowing);
        mapProfile(em, foreign.sys_id, basicProfileId(em));
        const res = await deliverAlarm("precedence-foreign", "ALARM");
        expectKeyRefused(res);
        expect(events()).toHaveLength(0);
        expect((await tableRead()).status).toBe(200);
        // Basic auth, which that policy does map, is admitted there.
        const viaBasic = await call(em.url, "POST", endpoint({ "x-sn-apikey": null }), {
          auth: basic("svc.events", "pw"),
          rawBody: JSON.stringify(alarmNotification("precedence-basic", "ALARM")),
          headers: { "x-amz-sns-message-type": "Notification" },
        });
        expect(viaBasic.status).toBe(200);
      },
    );

    test("a more specific policy with no mappings at all refuses the key too", async () => {
      foreignPolicy(NARROWER["http_method POST"]);
      expectKeyRefused(await deliverAlarm("precedence-unmapped", "ALARM"));
      expect((await tableRead()).status).toBe(200);
    });

    test("once the foreign policy is deactivated, keywire's policy governs again: 200", async () => {
      const foreign = foreignPolicy(NARROWER["http_method POST"]);
      mapProfile(em, foreign.sys_id, basicProfileId(em));
      expectKeyRefused(await deliverAlarm("precedence-off", "ALARM"));
      em.store.update("sys_api_access_policy", foreign.sys_id, { active: false });
      expect((await deliverAlarm("precedence-off", "ALARM")).status).toBe(200);
    });

    test("once the foreign policy links keywire's profile, the key is admitted: 200", async () => {
      const foreign = foreignPolicy(NARROWER["http_method POST"]);
      mapProfile(em, foreign.sys_id, basicProfileId(em));
      expectKeyRefused(await deliverAlarm("precedence-link", "ALARM"));
      mapProfile(em, foreign.sys_id, queryProfile.sys_id);
      expect((await deliverAlarm("precedence-link", "ALARM")).status).toBe(200);
    });

    test.each([
      ["another method (GET)", { http_method: "GET", apply_all_methods: false }],
      ["another version (v2)", { version: "v2", apply_all_versions: false }],
      ["another resource", { api_resource: "/sn_em_connector/em/other", apply_all_resources: false }],
      ["another API (now/table, POST)", { api_path: "now/table", http_method: "POST", apply_all_methods: false }],
    ])("a specific policy that does not match the call (%s) does not govern it", async (_name, narrowing) => {
      mapProfile(em, foreignPolicy(narrowing).sys_id, basicProfileId(em));
      expect((await deliverAlarm("precedence-unmatched", "ALARM")).status).toBe(200);
    });

    test("without keywire's policy the global rules refuse token auth", async () => {
      em.store.update("sys_api_access_policy", eventPolicy.sys_id, { active: false });
      const res = await deliverAlarm("precedence-none", "ALARM");
      expectKeyRefused(res);
      expect(res.body.error.detail).toBe("Token Based Auth isn't allowed in the Global REST API Policy");
    });
  });

  describe("2. profile mappings, the key and its user", () => {
    test("a policy with mappings admits only the mapped profiles: a key sent as a header, where only the query profile is mapped, is refused", async () => {
      const body = alarmNotification("profile-header", "ALARM");
      const res = await call(em.url, "POST", endpoint({ "x-sn-apikey": null }), {
        rawBody: JSON.stringify(body),
        headers: { ...snsHeaders(body), "x-sn-apikey": token },
      });
      expectKeyRefused(res);
      // Mapping the header profile admits it.
      mapProfile(em, eventPolicy.sys_id, makeKeyProfile(em, "header").sys_id);
      const again = await call(em.url, "POST", endpoint({ "x-sn-apikey": null }), {
        rawBody: JSON.stringify(body),
        headers: { ...snsHeaders(body), "x-sn-apikey": token },
      });
      expect(again.status).toBe(200);
    });

    test("basic auth is refused by keywire's policy, which maps no basic profile, and admitted once it does", async () => {
      const post = () =>
        call(em.url, "POST", endpoint({ "x-sn-apikey": null }), {
          auth: basic("svc.events", "pw"),
          rawBody: JSON.stringify(alarmNotification("profile-basic", "ALARM")),
          headers: { "x-amz-sns-message-type": "Notification" },
        });
      const refused = await post();
      expectEnvelope(refused, 401, "User Not Authenticated");
      expect(refused.headers["www-authenticate"]).toBe('BASIC realm="Service-now"');
      mapProfile(em, eventPolicy.sys_id, basicProfileId(em));
      expect((await post()).status).toBe(200);
    });

    test("an inactive API-key profile admits nothing", async () => {
      em.store.update("http_key_auth", queryProfile.sys_id, { active: false });
      expectKeyRefused(await deliverAlarm("profile-inactive", "ALARM"));
    });

    test.each([
      ["inactive", { active: false }],
      ["expired", { expires: "2020-01-01 00:00:00" }],
    ])("a key that is %s is refused", async (_name, fields) => {
      em.store.update("api_key", keyRow.sys_id, fields);
      expectKeyRefused(await deliverAlarm("key-state", "ALARM"));
      expect(events()).toHaveLength(0);
    });

    test("a key with a future expiry works", async () => {
      em.store.update("api_key", keyRow.sys_id, { expires: "2999-01-01 00:00:00" });
      expect((await deliverAlarm("key-future", "ALARM")).status).toBe(200);
    });

    test("an unknown token is refused", async () => {
      expectKeyRefused(await deliverAlarm("key-unknown", "ALARM", { "x-sn-apikey": "now_not-a-real-token" }));
    });

    test.each([
      ["inactive", { active: false }],
      ["locked out", { locked_out: true }],
    ])("the key of a user who is %s is refused", async (_name, fields) => {
      em.store.update("sys_user", user.sys_id, fields);
      expectKeyRefused(await deliverAlarm("user-state", "ALARM"));
      expect(events()).toHaveLength(0);
    });
  });

  describe("3. the user's roles", () => {
    const expectNoRights = (res: Res): void => {
      expectEnvelope(res, 403, /Insufficient rights/);
      expect(res.body.error.detail).toMatch(/evt_mgmt_integration/);
    };

    test("an authenticated key whose user lacks evt_mgmt_integration gets 403 in the envelope, and nothing is recorded", async () => {
      const other = makeUser(em, "no.events", ["itil"]);
      expectNoRights(await deliverAlarm("roles-missing", "ALARM", { "x-sn-apikey": makeKey(em, other.sys_id).token }));
      expect(events()).toHaveLength(0);
    });

    test("an inactive role grant does not count", async () => {
      const grant = one(em, "sys_user_has_role", (g) => g.user === user.sys_id);
      em.store.update("sys_user_has_role", grant.sys_id, { state: "inactive" });
      expectNoRights(await deliverAlarm("roles-inactive", "ALARM"));
    });

    test("basic auth is judged the same way", async () => {
      mapProfile(em, eventPolicy.sys_id, basicProfileId(em));
      makeUser(em, "basic.norole", []);
      const res = await call(em.url, "POST", endpoint({ "x-sn-apikey": null }), {
        auth: basic("basic.norole", "pw"),
        rawBody: JSON.stringify(alarmNotification("roles-basic", "ALARM")),
        headers: { "x-amz-sns-message-type": "Notification" },
      });
      expectNoRights(res);
    });

    test("rights are checked before the push connector is looked up", async () => {
      const other = makeUser(em, "no.events", []);
      expectNoRights(await deliverAlarm("roles-first", "ALARM", { "x-sn-apikey": makeKey(em, other.sys_id).token, sys_id: "0".repeat(32) }));
    });
  });

  describe("4. the push connector", () => {
    const definitionId = (): string => em.store.get("sn_em_connector_push_instance", instanceId)!.push_connector_definition;

    test.each([
      ["the instance is gone", () => void em.store.delete("sn_em_connector_push_instance", instanceId), 404, "Push connector not found"],
      ["the definition is gone", () => void em.store.delete("sn_em_connector_listener", definitionId()), 404, "Push connector not found"],
      ["the instance is inactive", () => void em.store.update("sn_em_connector_push_instance", instanceId, { active: false }), 404, "Push connector not found"],
      [
        "the definition is inactive",
        () => void em.store.update("sn_em_connector_listener", definitionId(), { active: false }),
        404,
        "Push connector not found",
      ],
    ])("%s: the error envelope, nothing recorded", async (_name, change, status, message) => {
      change();
      expectEnvelope(await deliverAlarm("connector-state", "ALARM"), status, message);
      expect(events()).toHaveLength(0);
    });

    test("a sys_id that names no push connector instance is 404", async () => {
      expectEnvelope(await deliverAlarm("connector-unknown", "ALARM", { sys_id: "0".repeat(32) }), 404, "Push connector not found");
      expectEnvelope(await deliverAlarm("connector-unknown", "ALARM", { sys_id: "not-a-sys-id" }), 404, "Push connector not found");
    });

    test("a source other than the definition's is 400 Invalid source", async () => {
      const res = await deliverAlarm("connector-source", "ALARM", { source: "azure" });
      expectEnvelope(res, 400, "Invalid source");
      expect(res.body.error.detail).toContain("source=aws");
      expect(events()).toHaveLength(0);
    });

    test("a missing source is 400", async () => {
      expectEnvelope(await deliverAlarm("connector-nosource", "ALARM", { source: null }), 400, "Missing parameter: source");
    });

    test("without sys_id (the basic-auth URL form, ?source=aws) the active definition with that source takes the event", async () => {
      const res = await deliverAlarm("connector-by-source", "ALARM", { sys_id: null });
      expect(res.status).toBe(200);
      expect(em.store.get("em_event", res.body.result.em_event)!.resource).toBe("connector-by-source");
      expectEnvelope(await deliverAlarm("connector-by-source", "ALARM", { sys_id: null, source: "azure" }), 400, "Invalid source");
      em.store.update("sn_em_connector_listener", definitionId(), { active: false });
      expectEnvelope(await deliverAlarm("connector-by-source", "ALARM", { sys_id: null }), 400, "Invalid source");
    });
  });
});
