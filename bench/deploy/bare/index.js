/**
 * The bare-engine contender of `npm run bench`: the graph of bench/deploy/program
 * (one user, one adopted policy, N times a profile, its link to the policy and an
 * API key that depends on the link and the user), with plain JavaScript dynamic
 * providers that make no requests. Instead, each method waits out the round trips
 * the fewest ServiceNow calls would take, at the benchmark's injected latency, in
 * the same order keywire makes them:
 *
 * - check: none, except the policy's adoption preview while adoption is pending (1 GET);
 * - create: 1 POST each; a profile first resolves the shipped key-location rows and a
 *   key first the user by user_name and then the parked keys, each asked once per
 *   provider process and shared by every create of that type; a key is then proven
 *   by its probe (1 GET); the adopted policy's create reuses the preview's read;
 * - read: 1 GET; delete: 1 DELETE (the policy: 1 PATCH restoring it); diff: none.
 *
 * So keywire ÷ this is keywire's cost beyond the engine's own and the round trips
 * no provider can skip. With `bench:latencyMs` 0 (the instant contender) every
 * method answers at once: what is left is the engine's own work for the graph. Plain
 * JavaScript, so no TypeScript compiler loads anywhere; the providers are serialized
 * by value, as Pulumi does by default.
 */
"use strict";
const pulumi = require("@pulumi/pulumi");

const config = new pulumi.Config("bench");
const n = config.requireNumber("n");
const latencyMs = config.requireNumber("latencyMs");

/**
 * A provider that waits `roundTrips` latencies per method. `once` names lookups made
 * once per provider process before the first create's own calls (awaited by all).
 */
function provider(typeName, plan) {
  // At latency 0 (the instant contender) a method answers at once, without a timer.
  const sleep = (trips) => (trips * latencyMs > 0 ? new Promise((resolve) => setTimeout(resolve, trips * latencyMs)) : Promise.resolve());
  const shared = {};
  const lookup = (name) => (shared[name] = shared[name] || sleep(1));
  return {
    typeName,
    async check(olds, news) {
      if (plan.adopt && news.adopt && !olds.adopt) await sleep(1);
      return { inputs: news };
    },
    async diff() {
      return { changes: false };
    },
    async create(inputs) {
      for (const name of plan.once || []) await lookup(name);
      await sleep(plan.create);
      const sysId = require("crypto").randomBytes(16).toString("hex");
      const outs = { ...inputs, sysId };
      if (plan.token) outs.token = require("crypto").randomBytes(24).toString("base64url");
      return { id: sysId, outs };
    },
    async read(id, props) {
      await sleep(1);
      return { id, props };
    },
    async delete() {
      await sleep(1);
    },
  };
}

const userProvider = provider("User", { create: 1 });
const policyProvider = provider("AccessPolicy", { create: 0, adopt: true });
const profileProvider = provider("InboundProfile", { create: 1, once: ["key locations"] });
const linkProvider = provider("AccessPolicyProfileLink", { create: 1 });
const keyProvider = provider("ApiKey", { create: 2, once: ["user", "parked keys"], token: true });

const resource = (prov, type, name, props, opts) => new pulumi.dynamic.Resource(prov, name, { sysId: undefined, ...props }, opts, "bare", type);

const user = resource(userProvider, "User", "bench-user", {
  userName: "svc.keywire.bench",
  firstName: "keywire",
  lastName: "bench",
  webServiceAccessOnly: true,
});
const policy = resource(policyProvider, "AccessPolicy", "bench-table-get", { name: "Table GET API Access Policy", adopt: true, active: true });

const keys = [];
for (let i = 0; i < n; i++) {
  const profile = resource(profileProvider, "InboundProfile", `bench-profile-${i}`, { name: `keywire bench ${i} (query parameter)`, keyLocation: "query" });
  const link = resource(linkProvider, "AccessPolicyProfileLink", `bench-link-${i}`, { policy: policy.sysId, profile: profile.sysId });
  const key = resource(
    keyProvider,
    "ApiKey",
    `bench-key-${i}`,
    {
      name: `keywire bench ${i}`,
      user: user.userName,
      probe: { via: "query", path: "/api/now/table/sys_user?sysparm_limit=1&sysparm_fields=sys_id" },
      token: undefined,
    },
    { dependsOn: [link, user], additionalSecretOutputs: ["token"] },
  );
  keys.push(key.sysId);
}

exports.keyCount = keys.length;
