/**
 * keywire in a Pulumi program of its own: ServiceNow REST API-key authentication for
 * the Event Management inbound endpoint, without the AWS side (keywire's `local`
 * stack does the same).
 *
 * The providers read the instance and the credentials from the `servicenow:`
 * configuration, at deploy time:
 *   pulumi config set servicenow:instanceUrl https://dev12345.service-now.com
 *   pulumi config set servicenow:username deployer
 *   pulumi config set --secret servicenow:password   (reads the value from standard input)
 */
import * as pulumi from "@pulumi/pulumi";
import { ServiceNowApiKeyAuth, inboundEventEndpoint } from "keywire";
import { CONFIG_KEYS, normalizeInstanceUrl } from "keywire/servicenow";

const servicenow = new pulumi.Config("servicenow");
const instanceUrl = normalizeInstanceUrl(servicenow.require("instanceUrl"), CONFIG_KEYS.instanceUrl);

const auth = new ServiceNowApiKeyAuth("example", {
  namePrefix: "example",
  integrationUser: { userName: "svc.example.events", create: true, roles: ["evt_mgmt_integration"] },
  policyMode: "attach",
  keepBasicAuth: true,
  apiKey: { expiresInDays: 90, authScopes: ["useraccount"], tokenStrategy: "auto", rotation: { maxAgeDays: 60 } },
  // The connector exists on the instance already: taken over by name, left there on destroy.
  pushConnector: { name: "AWS SNS push connector", create: false, source: "aws" },
});

/** The URL an SNS subscription would post to, token included. Secret. */
export const inboundEndpoint = inboundEventEndpoint({
  instanceUrl,
  source: auth.pushConnectorSource,
  pushConnectorSysId: auth.pushConnectorSysId,
  token: auth.token,
});
export const apiKeySysId = auth.keySysId;
export const tokenSource = auth.tokenSource;
/** Whether the whole chain, the Event Management endpoint included, answered the last probes; a refresh probes again. */
export const verified = auth.verified;
