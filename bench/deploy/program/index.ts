/**
 * The benchmark stack: one shared user and the shipped Table GET API access policy
 * (adopted, as ServiceNowApiKeyAuth does in its default "attach" mode), then N
 * times an inbound profile, its link to that policy, and an API key acting as the
 * user, proven by a probe through that chain.
 * N comes from the stack configuration (`bench:n`). Run by bench/deploy/run.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { AccessPolicy } from "../../../resources/servicenow/records/accessPolicy";
import { AccessPolicyProfileLink } from "../../../resources/servicenow/records/accessPolicyProfileLink";
import { ApiKey } from "../../../resources/servicenow/apiKey/apiKey";
import { InboundProfile } from "../../../resources/servicenow/records/inboundProfile";
import { ServiceNowUser } from "../../../resources/servicenow/records/user";

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

const keys: pulumi.Output<string>[] = [];
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

export const keyCount = keys.length;
