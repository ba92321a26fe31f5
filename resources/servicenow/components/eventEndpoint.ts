/**
 * The Event Management inbound endpoint that SNS posts to:
 * `<instance>/api/sn_em_connector/em/inbound_event?source=aws&sys_id=<push connector>&x-sn-apikey=<token>`.
 *
 * Every value is URL-encoded, and the result is a secret because it carries the
 * token. Anyone who can read the SNS subscription's attributes can read it too:
 * that is why the key's user holds one role, the key expires and rotates.
 */
import * as pulumi from "@pulumi/pulumi";

export const INBOUND_EVENT_PATH = "/api/sn_em_connector/em/inbound_event";

export function inboundEventUrl(instanceUrl: string, source: string, pushConnectorSysId: string, token: string): string {
  const query = new URLSearchParams({ source, sys_id: pushConnectorSysId, "x-sn-apikey": token });
  return `${instanceUrl.replace(/\/+$/, "")}${INBOUND_EVENT_PATH}?${query.toString()}`;
}

export function inboundEventEndpoint(args: {
  instanceUrl: pulumi.Input<string>;
  source: pulumi.Input<string>;
  pushConnectorSysId: pulumi.Input<string>;
  token: pulumi.Input<string>;
}): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([args.instanceUrl, args.source, args.pushConnectorSysId, args.token])
      .apply(([url, source, sysId, token]) => inboundEventUrl(url, source, sysId, token)),
  );
}
