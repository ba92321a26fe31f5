/**
 * The demo-sized stack of `npm run bench`'s drift check: ServiceNowApiKeyAuth's chain as
 * keywire's local demo stack configures it (stacks/Pulumi.local.yaml: an integration
 * user keywire creates with two roles, the shipped Table policies adopted, one key that
 * expires in 90 days and rotates at 60, the shipped push connector taken by name, the
 * default rate limit), from the installed package, as a team's program would. Plain
 * JavaScript, as the bare engine's mirror of it is. Run by bench/deploy/driftCheck.ts.
 */
"use strict";
const { ServiceNowApiKeyAuth } = require("keywire/servicenow");

const auth = new ServiceNowApiKeyAuth("keywire", {
  namePrefix: "keywire-bench",
  integrationUser: { userName: "svc.keywire.events", create: true, roles: ["evt_mgmt_integration", "itil"] },
  policyMode: "attach",
  keepBasicAuth: true,
  apiKey: { expiresInDays: 90, authScopes: ["useraccount"], tokenStrategy: "auto", rotation: { maxAgeDays: 60 } },
  pushConnector: { name: "AWS SNS push connector", create: false, source: "aws" },
});

exports.verified = auth.verified;
