/**
 * The drift report on what `pulumi preview --refresh --json` prints now that keywire's
 * reads leave the inputs alone: each refreshed resource keeps the inputs the program
 * gave at the last up, and the instance's values are in its outputs only. The report
 * still names each change, and whose it is.
 */
import { PreviewJson, buildDriftReport } from "../../scripts/drift/driftReport";

const T = "pulumi-nodejs:dynamic/keywire/servicenow:";
const urn = (type: string, name: string) => `urn:pulumi:dev::keywire::keywire:servicenow:ApiKeyAuth$${type}::${name}`;
const ID = "a".repeat(32);

/**
 * A resource's refresh step and the step after it. The refresh keeps `stored` (the
 * inputs of the last up) and replaces the outputs `before` with `after`; the program
 * now asks for `wanted` (by default what it asked before).
 */
function refreshed(
  op: string,
  type: string,
  name: string,
  state: { stored: Record<string, unknown>; before: Record<string, unknown>; after: Record<string, unknown>; wanted?: Record<string, unknown> },
): NonNullable<PreviewJson["steps"]> {
  const u = urn(type, name);
  return [
    { op: "refresh", urn: u, oldState: { type, inputs: state.stored, outputs: state.before }, newState: { type, inputs: state.stored, outputs: state.after } },
    {
      op,
      urn: u,
      oldState: { type, inputs: state.stored, outputs: state.after },
      newState: { type, inputs: { ...(state.wanted ?? state.stored), __provider: "x" } },
    },
  ];
}

/** A record's outputs as the record engine writes them: the fields, and the live columns beside them. */
function record(fields: Record<string, unknown>, columns: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...extra, ...fields, sysId: ID, columns, resolved: {}, recordUrl: `https://x.service-now.com/nav_to.do?uri=x.do%3Fsys_id%3D${ID}` };
}

const keyStored = {
  name: "k",
  user: "svc.k",
  active: true,
  expiresInDays: 90,
  generation: 1,
  issuedAt: "2026-12-01 00:00:00",
  identity: "keywire/dev/ApiKey/k",
};
const keyCarried = {
  expiresInDays: 90,
  generation: 1,
  issuedAt: "2026-12-01 00:00:00",
  expiresAt: "2027-03-01 00:00:00",
  createdAt: "2026-12-01 00:00:00",
  identity: "keywire/dev/ApiKey/k",
};

test("an expiry changed on the instance, which the program leaves to expiresInDays and never stored, is the instance's change", () => {
  const steps = refreshed("update", `${T}ApiKey`, "keywire-key", {
    stored: keyStored,
    before: record(
      { name: "k", user: "svc.k", active: true, expires: "2027-03-01 00:00:00" },
      { name: "k", active: "true", expires: "2027-03-01 00:00:00" },
      keyCarried,
    ),
    after: record(
      { name: "k", user: "svc.k", active: true, expires: "2031-01-01 00:00:00" },
      { name: "k", active: "true", expires: "2031-01-01 00:00:00" },
      keyCarried,
    ),
  });
  const [item] = buildDriftReport("dev", { steps }).items;
  expect(item.properties).toEqual([{ property: "expires", expected: "2027-03-01 00:00:00", actual: "2031-01-01 00:00:00", source: "instance" }]);
  expect(item.summary).toBe("expires changed on the instance");
  expect(item.fix).toBe("set expires back to 2027-03-01 00:00:00");
});

test("a deactivated record is the instance's change; a value the program changed is the program's", () => {
  const stored = { name: "p", keyLocation: "query", active: true, description: "old" };
  const steps = refreshed("update", `${T}InboundProfile`, "keywire-profile", {
    stored,
    before: record({ name: "p", keyLocation: "query", active: true, description: "old" }, { active: "true", description: "old" }),
    after: record({ name: "p", keyLocation: "query", active: false, description: "old" }, { active: "false", description: "old" }),
    wanted: { ...stored, description: "new" },
  });
  const [item] = buildDriftReport("dev", { steps }).items;
  expect(item.properties).toEqual([
    { property: "active", expected: true, actual: false, source: "instance" },
    { property: "description", expected: "new", actual: "old", source: "program" },
  ]);
  expect(item.fix).toBe("set active back to true and set description to new");
});

test("a number the program gives is the instance's string of it: a rate limit left alone is no drift beside a real one", () => {
  const stored = { name: "limit", user: "svc.k", active: true, type: "User", requestsPerHour: 3600 };
  const steps = refreshed("update", `${T}RateLimitRule`, "keywire-rate-limit", {
    stored,
    before: record({ name: "limit", user: "svc.k", active: true, type: "User", requestsPerHour: "3600" }, { active: "true", max_requests_per_hour: "3600" }),
    after: record({ name: "limit", user: "svc.k", active: false, type: "User", requestsPerHour: "3600" }, { active: "false", max_requests_per_hour: "3600" }),
  });
  expect(buildDriftReport("dev", { steps }).items[0].properties).toEqual([{ property: "active", expected: true, actual: false, source: "instance" }]);

  const raised = refreshed("update", `${T}RateLimitRule`, "keywire-rate-limit", {
    stored,
    before: record({ name: "limit", user: "svc.k", active: true, type: "User", requestsPerHour: "3600" }, { active: "true", max_requests_per_hour: "3600" }),
    after: record({ name: "limit", user: "svc.k", active: true, type: "User", requestsPerHour: "999999" }, { active: "true", max_requests_per_hour: "999999" }),
  });
  expect(buildDriftReport("dev", { steps: raised }).items[0].properties).toEqual([
    { property: "requestsPerHour", expected: 3600, actual: "999999", source: "instance" },
  ]);
});

test("a rotated key's record name carries its generation: that is no drift, a deactivation is", () => {
  const stored = { ...keyStored, generation: 2 };
  const carried = { ...keyCarried, generation: 2 };
  const steps = refreshed("update", `${T}ApiKey`, "keywire-key", {
    stored,
    before: record({ name: "k #2", user: "svc.k", active: true, expires: "2027-03-01 00:00:00" }, { name: "k #2", active: "true" }, carried),
    after: record({ name: "k #2", user: "svc.k", active: false, expires: "2027-03-01 00:00:00" }, { name: "k #2", active: "false" }, carried),
  });
  expect(buildDriftReport("dev", { steps }).items[0].properties).toEqual([{ property: "active", expected: true, actual: false, source: "instance" }]);
  const renamed = refreshed("update", `${T}ApiKey`, "keywire-key", {
    stored,
    before: record({ name: "k #2", user: "svc.k", active: true }, { name: "k #2", active: "true" }, carried),
    after: record({ name: "someone's", user: "svc.k", active: true }, { name: "someone's", active: "true" }, carried),
  });
  expect(buildDriftReport("dev", { steps: renamed }).items[0].properties).toEqual([
    { property: "name", expected: "k #2", actual: "someone's", source: "instance" },
  ]);
});

test("a shipped record keywire adopted is kept only in what the program states, even when the refresh sees more", () => {
  const adoption = { sysId: ID, original: { active: "true" } };
  const stored = { name: "Table GET API Access Policy", adopt: true, active: true };
  const steps = refreshed("update", `${T}AccessPolicy`, "keywire-table-get", {
    stored,
    before: record({ name: "Table GET API Access Policy", active: true, httpMethod: "GET" }, { active: "true", http_method: "GET" }, { adopt: true, adoption }),
    after: record(
      { name: "Table GET API Access Policy", active: false, httpMethod: "PUT" },
      { active: "false", http_method: "PUT" },
      { adopt: true, adoption },
    ),
  });
  expect(buildDriftReport("dev", { steps }).items[0].properties.map((p) => p.property)).toEqual(["active"]);
});

test("a check's refreshed report is its verdict, not a list of properties: only `passed` is named", () => {
  const type = `${T}Preflight`;
  const stored = { requiredColumns: ["max_requests_per_hour"], pushConnectorName: "AWS SNS push connector" };
  const steps = refreshed("update", type, "keywire-preflight", {
    stored,
    before: { ...stored, passed: true, problems: [] },
    after: { ...stored, passed: false, problems: ["the column max_requests_per_hour is gone"] },
  });
  expect(buildDriftReport("dev", { steps }).items[0].properties).toEqual([
    { property: "passed", expected: true, actual: "false (the column max_requests_per_hour is gone)", source: "instance" },
  ]);
});

test("an untouched stack is no drift: every refresh step keeps inputs and outputs, and the steps after them are the same", () => {
  const stored = { name: "p", keyLocation: "query", active: true };
  const outputs = record({ name: "p", keyLocation: "query", active: true }, { active: "true" });
  const [refresh, after] = refreshed("same", `${T}InboundProfile`, "keywire-profile", { stored, before: outputs, after: outputs });
  expect(buildDriftReport("dev", { steps: [refresh, after] })).toEqual({ stack: "dev", drifted: false, items: [] });
});
