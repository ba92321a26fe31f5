/**
 * ServiceNowUser: the integration user a key acts as (`sys_user`).
 *
 * keywire creates it web-service-only and without a password: an API key needs
 * neither a UI login nor a password, and least privilege starts with not having
 * either. Its roles are granted separately (UserRoleGrant) so each is visible.
 */
import type * as pulumi from "@pulumi/pulumi";
import { RecordArgs, column, defineRecord } from "../engine/declaration";
import { recordProvider } from "../engine/recordEngine";
import { ownedRecordInputs, recordResource } from "../engine/recordResource";
import { providerReference } from "../../core/providerLoading/providerReference";
import { oneLine } from "../engine/inputRules";

export const serviceNowUserRecord = defineRecord({
  typeName: "ServiceNowUser",
  table: "sys_user",
  naturalKey: ["userName"],
  inputs: {
    /** The login name: 1–80 letters, digits, `.`, `_`, `@` or `-`. */
    userName: column({ column: "user_name", kind: "string", replaceOnChange: true }, (z) =>
      z.string().regex(/^[A-Za-z0-9._@-]{1,80}$/, "must be 1-80 letters, digits, '.', '_', '@' or '-'"),
    ),
    /** Up to 100 characters, one line (the component gives the name prefix). */
    firstName: column({ column: "first_name", kind: "string" }, (z) => oneLine(z, 100).optional()),
    /** Up to 100 characters, one line (the component gives `integration`). */
    lastName: column({ column: "last_name", kind: "string" }, (z) => oneLine(z, 100).optional()),
    /** An e-mail address, up to 100 characters. */
    email: column({ column: "email", kind: "string" }, (z) => z.string().max(100).email("must be an e-mail address").optional()),
    /** An inactive user's keys are refused. */
    active: column({ column: "active", kind: "boolean", defaultValue: "true" }, (z) => z.boolean().optional()),
    /** The user can call APIs but cannot log in to the UI. */
    webServiceAccessOnly: column({ column: "web_service_access_only", kind: "boolean", defaultValue: "true" }, (z) => z.boolean().optional()),
  },
});

export const serviceNowUserProvider = recordProvider(serviceNowUserRecord, providerReference("keywire/servicenow", "serviceNowUserProvider"));

export type ServiceNowUserArgs = RecordArgs<typeof serviceNowUserRecord>;

export class ServiceNowUser extends recordResource(serviceNowUserRecord) {
  constructor(name: string, args: ServiceNowUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(serviceNowUserProvider, name, ownedRecordInputs(serviceNowUserRecord, name, args), opts);
  }
}
