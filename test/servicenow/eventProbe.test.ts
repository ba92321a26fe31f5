/**
 * The event probe's strict rule, answer by answer, and the access-policy resolution
 * keywire's diagnosis uses to name a policy that outranks its own.
 */
import { judgeEventAnswer } from "../../resources/servicenow/checks/eventProbe";
import { winningPolicy } from "../../resources/servicenow/checks/policyResolution";
import { isMarker, newMarker } from "../../resources/servicenow/checks/syntheticAlarm";
import { CHAIN_LINK_IDS } from "../../resources/servicenow/checks/chainLinks";
import * as fs from "fs";
import * as path from "path";

const json = { "content-type": "application/json;charset=UTF-8" };
const envelope = (message: string) => ({ error: { message, detail: "" }, status: "failure" });

test.each([
  [{ status: 200, headers: json, data: { result: { status: "accepted" } } }, "delivered"],
  [{ status: 200, headers: { "content-type": "text/html" }, data: "<html>login</html>" }, "unknown"],
  [{ status: 200, headers: json, data: { ok: true } }, "unknown"],
  [{ status: 401, headers: json, data: envelope("User is not authenticated") }, "refused"],
  [{ status: 401, headers: { "content-type": "text/html" }, data: "<html/>" }, "refused"],
  [{ status: 403, headers: json, data: envelope("Insufficient rights") }, "forbidden"],
  [{ status: 403, headers: { "content-type": "text/html" }, data: "Forbidden by proxy" }, "unknown"],
  [{ status: 403, headers: json, data: envelope("Blocked") }, "unknown"],
  [{ status: 400, headers: json, data: envelope("Requested URI does not represent any resource") }, "rejected"],
  [{ status: 404, headers: json, data: envelope("Push connector not found") }, "rejected"],
  [{ status: 404, headers: { "content-type": "text/html" }, data: "<html>Not Found</html>" }, "unknown"],
  [{ status: 502, headers: json, data: envelope("Bad gateway") }, "unknown"],
])("an answer %j is %s", (res, outcome) => {
  expect(judgeEventAnswer(res).outcome).toBe(outcome);
});

const policy = (sysId: string, fields: Record<string, string>) => ({
  sys_id: sysId,
  name: sysId,
  active: "true",
  sys_created_on: "2026-01-01 00:00:00",
  ...fields,
});

const EVENT = { apiPath: "sn_em_connector/em", method: "POST", resource: "/sn_em_connector/em/inbound_event", version: "v1" };

test("a method-specific policy outranks an all-methods one on the same API; other APIs and inactive ones never win", () => {
  const all = policy("all", { api_path: "sn_em_connector/em", apply_all_methods: "true", apply_all_resources: "true", apply_all_versions: "true" });
  const post = policy("post", { api_path: "/api/sn_em_connector/v1/em", http_method: "post", apply_all_resources: "true", apply_all_versions: "true" });
  const table = policy("table", { api_path: "now/table", http_method: "POST", apply_all_resources: "true" });
  const off = policy("off", { api_path: "sn_em_connector/em", http_method: "POST", api_resource: "/sn_em_connector/em/inbound_event", active: "false" });
  expect(winningPolicy([all, post, table, off], EVENT)?.sys_id).toBe("post");
  expect(winningPolicy([all, table], EVENT)?.sys_id).toBe("all");
  expect(winningPolicy([table], EVENT)).toBeUndefined();
});

test("method+resource beats resource+version; a global policy wins only when nothing else applies", () => {
  const mr = policy("mr", { api_path: "sn_em_connector/em", http_method: "POST", api_resource: "/sn_em_connector/em/{action}" });
  const rv = policy("rv", { api_path: "sn_em_connector/em", apply_all_methods: "true", api_resource: "/sn_em_connector/em/inbound_event", version: "v1" });
  const global = policy("global", { apply_global: "true" });
  expect(winningPolicy([rv, mr, global], EVENT)?.sys_id).toBe("mr");
  expect(winningPolicy([global], EVENT)?.sys_id).toBe("global");
  const getOnly = policy("get", { api_path: "sn_em_connector/em", http_method: "GET" });
  expect(winningPolicy([getOnly, global], EVENT)?.sys_id).toBe("global");
});

test("a Table API policy limited to tables applies only to those tables, and outranks a broader one there", () => {
  const broad = policy("broad", { api_path: "now/table", apply_all_methods: "true", apply_all_tables: "true" });
  const shipped = policy("shipped", { api_path: "now/table", http_method: "GET", apply_all_resources: "true", api_tablename: "incident,problem" });
  const req = (table: string) => ({ apiPath: "now/table", method: "GET", resource: `/now/table/${table}`, version: "v2", table });
  expect(winningPolicy([broad, shipped], req("incident"))?.sys_id).toBe("shipped");
  expect(winningPolicy([broad, shipped], req("sys_user"))?.sys_id).toBe("broad");
});

test("markers are unique and recognisable", () => {
  const a = newMarker("verify");
  expect(isMarker(a)).toBe(true);
  expect(a).not.toBe(newMarker("verify"));
  expect(isMarker("keywire-delivery-check-verify-x")).toBe(false);
  expect(isMarker(`${a}^ORactive=true`)).toBe(false);
});

test("docs/delivery.md lists every broken-link id the verification can record, and no other", () => {
  const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "delivery.md"), "utf8");
  const table = doc.slice(doc.indexOf("| id | what broke | what to run |"), doc.indexOf("The ids and their remedies"));
  const listed = new Set([...table.matchAll(/`([a-z]+\.[A-Za-z]+)`/g)].map((m) => m[1]));
  expect([...listed].sort()).toEqual([...CHAIN_LINK_IDS].sort());
});
