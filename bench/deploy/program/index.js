/**
 * keywire's contender in `npm run bench`, written as a team's program would use the
 * installed package: one shared user and the shipped Table GET API access policy
 * (adopted, as ServiceNowApiKeyAuth does in its default "attach" mode), then N times
 * an inbound profile, its link to that policy, and an API key acting as the user,
 * proven by a probe through that chain. N comes from the stack configuration
 * (`bench:n`). Plain JavaScript, as the bare engine's program is, so neither pays a
 * TypeScript compiler and the difference is keywire's own. Run by bench/deploy/run.ts,
 * which installs the packed package beside it.
 */
"use strict";
const pulumi = require("@pulumi/pulumi");
const { AccessPolicy, AccessPolicyProfileLink, ApiKey, InboundProfile, ServiceNowUser } = require("keywire/servicenow");

const config = new pulumi.Config("bench");
const n = config.requireNumber("n");

const user = new ServiceNowUser("bench-user", {
  userName: "svc.keywire.bench",
  firstName: "keywire",
  lastName: "bench",
  webServiceAccessOnly: true,
});

// Governs the probe (GET /api/now/table/sys_user); it already admits Basic auth.
const policy = new AccessPolicy("bench-table-get", { name: "Table GET API Access Policy", adopt: true, active: true });

const keys = [];
for (let i = 0; i < n; i++) {
  const profile = new InboundProfile(`bench-profile-${i}`, { name: `keywire bench ${i} (query parameter)`, keyLocation: "query" });
  const link = new AccessPolicyProfileLink(`bench-link-${i}`, { policy: policy.sysId, profile: profile.sysId });
  const key = new ApiKey(
    `bench-key-${i}`,
    {
      name: `keywire bench ${i}`,
      user: user.userName,
      // Proven through the chain it will be used on: the query parameter, through the policy.
      probe: { via: "query", path: "/api/now/table/sys_user?sysparm_limit=1&sysparm_fields=sys_id" },
    },
    { dependsOn: [link, user] },
  );
  keys.push(key.sysId);
}

exports.keyCount = keys.length;
