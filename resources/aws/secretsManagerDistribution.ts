/**
 * KeyDistribution: publishes a key keywire manages or verifies to AWS Secrets Manager,
 * where the consumers (a Lambda, a container, a CI job) read it.
 *
 * One `aws.secretsmanager.Secret` plus one `aws.secretsmanager.SecretVersion` holding
 * the value. The value is secret-wrapped before it reaches the version, and the version's
 * `secretString` output is listed in `additionalSecretOutputs`, so it is encrypted in the
 * state whatever the caller passed. A changed value (a rotated key) becomes a new version
 * of the same secret, so consumers keep their ARN.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export const KEY_DISTRIBUTION_TYPE = "keywire:aws:KeyDistribution";

type PayloadValue = string | number | boolean;

export interface KeyDistributionArgs {
  /** The value to store as is (e.g. a bare key). Give this or `payload`. */
  secretValue?: pulumi.Input<string>;
  /** Fields stored as one JSON object (keys sorted), e.g. from `freshserviceKeyPayload`. Give this or `secretValue`. */
  payload?: pulumi.Input<Record<string, pulumi.Input<PayloadValue>>>;
  /** Secret name in Secrets Manager, e.g. `keywire/freshservice/integration`; default: generated from the resource name. */
  secretName?: pulumi.Input<string>;
  description?: pulumi.Input<string>;
  /** KMS key to encrypt with; default the account's `aws/secretsmanager` key. */
  kmsKeyId?: pulumi.Input<string>;
  /** Days before a deleted secret is gone for good (0 = at once, 7..30); default AWS's 30. */
  recoveryWindowInDays?: pulumi.Input<number>;
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** JSON with keys in a stable order, so an unchanged payload never makes a new version. */
export function stableJson(payload: Record<string, PayloadValue>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(payload).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

export class KeyDistribution extends pulumi.ComponentResource {
  readonly secret: aws.secretsmanager.Secret;
  readonly version: aws.secretsmanager.SecretVersion;
  readonly secretArn: pulumi.Output<string>;
  readonly secretName: pulumi.Output<string>;
  /** Changes whenever the value does; consumers can pin or watch it. */
  readonly versionId: pulumi.Output<string>;

  constructor(name: string, args: KeyDistributionArgs, opts?: pulumi.ComponentResourceOptions) {
    if ((args.secretValue === undefined) === (args.payload === undefined)) {
      throw new Error(`KeyDistribution ${name}: give exactly one of secretValue or payload`);
    }
    super(KEY_DISTRIBUTION_TYPE, name, {}, opts);
    const value: pulumi.Input<string> =
      args.secretValue !== undefined ? args.secretValue : pulumi.output(args.payload!).apply((p) => stableJson(p as Record<string, PayloadValue>));

    this.secret = new aws.secretsmanager.Secret(
      name,
      {
        ...(args.secretName !== undefined ? { name: args.secretName } : {}),
        description: args.description ?? "API key published by keywire",
        ...(args.kmsKeyId !== undefined ? { kmsKeyId: args.kmsKeyId } : {}),
        ...(args.recoveryWindowInDays !== undefined ? { recoveryWindowInDays: args.recoveryWindowInDays } : {}),
        tags: pulumi.output(args.tags ?? {}).apply((t) => ({ ...t, "managed-by": "keywire" })),
      },
      { parent: this },
    );
    this.version = new aws.secretsmanager.SecretVersion(
      `${name}-value`,
      {
        secretId: this.secret.id,
        // Secret whether or not the caller marked it so.
        secretString: pulumi.secret(value),
      },
      { parent: this, additionalSecretOutputs: ["secretString"] },
    );
    this.secretArn = this.secret.arn;
    this.secretName = this.secret.name;
    this.versionId = this.version.versionId;
    this.registerOutputs({ secretArn: this.secretArn, secretName: this.secretName, versionId: this.versionId });
  }
}

/** What consumers of a Freshservice key need: where to call and the key. */
export function freshserviceKeyPayload(key: {
  domain: pulumi.Input<string>;
  baseUrl: pulumi.Input<string>;
  apiKey: pulumi.Input<string>;
}): pulumi.Output<Record<string, string>> {
  return pulumi.secret(
    pulumi.all([key.domain, key.baseUrl, key.apiKey]).apply(([domain, baseUrl, apiKey]): Record<string, string> => ({
      platform: "freshservice",
      domain,
      apiBaseUrl: `${baseUrl}/api/v2`,
      apiKey,
      // HTTP Basic: the key as user name, any password.
      auth: "basic",
    })),
  );
}

/** What consumers of an Ivanti key need: the OData root and the key (sent as `rest_api_key=<key>`). */
export function ivantiKeyPayload(key: {
  tenantUrl: pulumi.Input<string>;
  odataBase: pulumi.Input<string>;
  apiKey: pulumi.Input<string>;
}): pulumi.Output<Record<string, string>> {
  return pulumi.secret(
    pulumi.all([key.tenantUrl, key.odataBase, key.apiKey]).apply(([tenantUrl, odataBase, apiKey]): Record<string, string> => ({
      platform: "ivanti",
      tenantUrl,
      odataBase,
      apiKey,
      // Header `Authorization: rest_api_key=<apiKey>`.
      auth: "rest_api_key",
    })),
  );
}
