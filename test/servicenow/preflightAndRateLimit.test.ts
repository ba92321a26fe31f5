/**
 * Preflight (every failure at once, nothing created) and the integration user's
 * RateLimitRule (enforced by the instance once created).
 */
import { preflightProvider } from "../../resources/servicenow/checks/preflight";
import { rateLimitRuleProvider } from "../../resources/servicenow/records/rateLimitRule";
import { serviceNowUserProvider } from "../../resources/servicenow/records/user";
import { ADMIN_PASSWORD, ProviderDriver } from "../support/serviceNow";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const emu = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD });
beforeEach(() => {
  emu.setOptions({ plugin: "active" });
});

const inputs = {
  pushConnectorName: "AWS SNS push connector",
  requiredColumns: ["sys_rate_limit_rules.max_requests_per_hour", "api_key.auth_scope"],
};

test("a ready instance passes", async () => {
  const p = new ProviderDriver(preflightProvider, emu.url);
  const { outs } = await p.create(inputs);
  expect(outs.passed).toBe(true);
});

test("every problem at once: inactive plugin, missing connector, wrong column — each with what to do", async () => {
  emu.setOptions({ plugin: "inactive" });
  const p = new ProviderDriver(preflightProvider, emu.url);
  let message = "";
  try {
    await p.create({ pushConnectorName: "no such connector", requiredColumns: ["sys_rate_limit_rules.rate_limit"] });
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toMatch(/com\.glide\.tokenbased_auth is installed but inactive: activate it/);
  expect(message).toMatch(/no push connector instance is named "no such connector"/);
  expect(message).toMatch(/sys_rate_limit_rules\.rate_limit does not exist \(integer columns there: .*max_requests_per_hour/);
  expect(message).toMatch(/Nothing was created/);
});

test("an absent plugin is named", async () => {
  emu.setOptions({ plugin: "absent" });
  const p = new ProviderDriver(preflightProvider, emu.url);
  await expect(p.create(inputs)).rejects.toThrow(/is not installed/);
});

test("a deploying identity without the security roles is told which roles it needs", async () => {
  const users = new ProviderDriver(serviceNowUserProvider, emu.url);
  await users.create({ userName: "weak.deployer", webServiceAccessOnly: false });
  const row = emu.store.query("sys_user", (r) => r.user_name === "weak.deployer")[0];
  emu.store.update("sys_user", row.sys_id, { user_password: "weak-pw" });
  const p = new ProviderDriver(preflightProvider, emu.url, { "servicenow:username": "weak.deployer", "servicenow:password": "weak-pw" });
  const message = await p.create(inputs).then(
    () => "",
    (e: Error) => e.message,
  );
  expect(message).toMatch(/may not read api_key: give it admin, or api_service_admin and adaptive_auth_policy_admin/);
  // The push connector lives in Event Management's tables, behind its own role.
  expect(message).toMatch(/may not read sn_em_connector_push_instance: give it admin, or evt_mgmt_admin/);
});

test("a refresh re-runs the checks: a plugin deactivated later is drift", async () => {
  const p = new ProviderDriver(preflightProvider, emu.url);
  const { id, outs } = await p.create(inputs);
  emu.setOptions({ plugin: "inactive" });
  const read = await p.read(id, outs);
  expect(read.props!.passed).toBe(false);
  expect((await p.diff(id, read.props!, inputs)).changes).toBe(true);
});

test("a rate-limit rule for the integration user is created and then enforced with a 429", async () => {
  await new ProviderDriver(serviceNowUserProvider, emu.url).create({ userName: "svc.limited", webServiceAccessOnly: false });
  const user = emu.store.query("sys_user", (r) => r.user_name === "svc.limited")[0];
  emu.store.update("sys_user", user.sys_id, { user_password: "limited-pw" });
  const rules = new ProviderDriver(rateLimitRuleProvider(), emu.url);
  const { id, outs } = await rules.create({ name: "keywire svc.limited", user: "svc.limited", requestsPerHour: 2 });
  const row = emu.store.get("sys_rate_limit_rules", id)!;
  expect(row.max_requests_per_hour).toBe("2");
  expect(row.user).toBe(user.sys_id);
  expect(outs.requestsPerHour).toBe("2");
  const auth = "Basic " + Buffer.from("svc.limited:limited-pw").toString("base64");
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${emu.url}/api/now/table/incident?sysparm_limit=1`, { headers: { authorization: auth, accept: "application/json" } });
    statuses.push(res.status);
    if (res.status === 429) expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  }
  expect(statuses[2]).toBe(429);
  // Drift: someone raises the ceiling by hand.
  emu.store.update("sys_rate_limit_rules", id, { max_requests_per_hour: "999999" });
  const read = await rules.read(id, outs);
  expect((await rules.diff(id, read.props!, { name: "keywire svc.limited", user: "svc.limited", requestsPerHour: 2 })).changes).toBe(true);
});
