/**
 * ServiceNowUser: the integration user a key acts as (`sys_user`).
 *
 * keywire creates it web-service-only and without a password: an API key needs
 * neither a UI login nor a password, and least privilege starts with not having
 * either. Its roles are granted separately (UserRoleGrant) so each is visible.
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoptionInputs, RecordSpec, SERVICENOW_MODULE, withSecretConnection, recordIdentity } from "../engine/spec";
import { recordProvider } from "../engine/recordEngine";
import { ReferencedResource, providerReference } from "../../core/providerReference";
import { oneLine } from "../engine/inputRules";

const spec: RecordSpec = {
  typeName: "ServiceNowUser",
  table: "sys_user",
  fields: {
    userName: { column: "user_name", kind: "string", replaceOnChange: true },
    firstName: { column: "first_name", kind: "string" },
    lastName: { column: "last_name", kind: "string" },
    email: { column: "email", kind: "string" },
    active: { column: "active", kind: "boolean", defaultValue: "true" },
    webServiceAccessOnly: { column: "web_service_access_only", kind: "boolean", defaultValue: "true" },
  },
  naturalKey: ["userName"],
  schema: (z) =>
    z.object({
      userName: z
        .string()
        .regex(/^[A-Za-z0-9._@-]{1,80}$/, "must be 1-80 letters, digits, '.', '_', '@' or '-'"),
      firstName: oneLine(z, 100).optional(),
      lastName: oneLine(z, 100).optional(),
      email: z.string().max(100).email("must be an e-mail address").optional(),
      active: z.boolean().optional(),
      webServiceAccessOnly: z.boolean().optional(),
    }),
};

export const serviceNowUserProvider = recordProvider(spec, providerReference("keywire/servicenow", "serviceNowUserProvider"));

export interface ServiceNowUserArgs extends AdoptionInputs {
  userName: pulumi.Input<string>;
  firstName?: pulumi.Input<string>;
  lastName?: pulumi.Input<string>;
  email?: pulumi.Input<string>;
  active?: pulumi.Input<boolean>;
  /** Defaults to true: the user can call APIs but cannot log in to the UI. */
  webServiceAccessOnly?: pulumi.Input<boolean>;
}

export class ServiceNowUser extends ReferencedResource {
  declare readonly sysId: pulumi.Output<string>;
  declare readonly userName: pulumi.Output<string>;
  declare readonly active: pulumi.Output<boolean>;
  declare readonly recordUrl: pulumi.Output<string>;

  constructor(name: string, args: ServiceNowUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(serviceNowUserProvider, name, { sysId: undefined, recordUrl: undefined, ...withSecretConnection(args), ...recordIdentity("ServiceNowUser", name) }, opts, SERVICENOW_MODULE, "ServiceNowUser");
  }
}
