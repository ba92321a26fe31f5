/**
 * The whole stack's configuration, in one schema.
 *
 * Every problem is reported at once, each with the config key to fix and a hint,
 * so a new stack file is filled in in one pass rather than one failure at a time.
 * Secrets (the ServiceNow password or client secret, an operator-supplied API-key
 * token) are only checked for presence here: their values never enter the
 * program's view of the configuration.
 */
import { z } from "zod";
import { normalizeInstanceUrl } from "../resources/servicenow/client/connection";

const PLACEHOLDER = /^<.*>$|^(changeme|todo|tbd)$/i;

const notPlaceholder = (what: string) =>
  z.string().refine((v) => !PLACEHOLDER.test(v.trim()), { message: `replace the placeholder with ${what}` });

const rotationSchema = z
  .object({
    maxAgeDays: z.number().int().positive().optional(),
    rotateBeforeExpiryDays: z.number().int().nonnegative().optional(),
    trigger: z.string().optional(),
  })
  .strict();

export const keywireConfigSchema = z
  .object({
    /** Prefix of every record and AWS resource name keywire creates. */
    namePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,30}$/, "must be 2-31 lower-case letters, digits or '-', starting with a letter")
      .default("keywire"),
    integrationUser: z
      .object({
        userName: notPlaceholder("the integration user's user_name").pipe(
          z.string().regex(/^[A-Za-z0-9._@-]{1,80}$/, "must be a ServiceNow user_name"),
        ),
        /** true: keywire creates the user (web-service only, no password) and grants its roles. */
        create: z.boolean().default(true),
        firstName: z.string().optional(),
        lastName: z.string().optional(),
        email: z.string().email().optional(),
        /** Roles the user needs; Event Management inbound needs only evt_mgmt_integration. */
        roles: z.array(z.string().regex(/^[a-z0-9_.]+$/, "must be role names")).default(["evt_mgmt_integration"]),
      })
      .strict(),
    /**
     * attach: link the API-key profile to the shipped Table GET/POST policies (they are
     * adopted and restored on destroy). dedicated: a Table API policy of keywire's own,
     * with the shipped ones deactivated while the stack exists.
     */
    policyMode: z.enum(["attach", "dedicated"], { message: 'must be "attach" or "dedicated"' }).default("attach"),
    /** Keep Basic auth working on every policy keywire links an API-key profile to. */
    keepBasicAuth: z.boolean().default(true),
    apiKey: z
      .object({
        name: z.string().min(1).max(100).optional(),
        expiresInDays: z.number().int().positive().max(3650).optional(),
        authScopes: z.array(z.string().min(1)).default(["useraccount"]),
        tokenStrategy: z.enum(["auto", "operator", "input_display_value", "display_value"]).default("auto"),
        rotation: rotationSchema.optional(),
      })
      .strict()
      .default({ authScopes: ["useraccount"], tokenStrategy: "auto" }),
    /** A per-hour ceiling for the integration user (sys_rate_limit_rules). */
    rateLimit: z
      .object({
        enabled: z.boolean().default(true),
        requestsPerHour: z.number().int().positive().max(10_000_000).default(3600),
        /** The instance's per-hour limit column; preflight names the right one if this is wrong. */
        limitColumn: z.string().regex(/^[a-z][a-z0-9_]{0,79}$/, "must be a column name").default("max_requests_per_hour"),
      })
      .strict()
      .default({ enabled: true, requestsPerHour: 3600, limitColumn: "max_requests_per_hour" }),
    pushConnector: z
      .object({
        /** Name of the push connector instance the endpoint names. */
        name: notPlaceholder("the push connector instance's name"),
        /** true: keywire creates it; false: it exists and is only looked up. */
        create: z.boolean().default(false),
        source: z.string().regex(/^[a-z0-9_]+$/).default("aws"),
      })
      .strict(),
    sns: z
      .object({
        /** false for the local stack: no AWS resource, the endpoint is still produced. */
        enabled: z.boolean().default(true),
        topicName: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, "must be a valid SNS topic name").optional(),
        existingTopicArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, "must be an SNS topic ARN")
          .optional(),
        deadLetterQueueArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, "must be an SQS queue ARN")
          .optional(),
        confirmationTimeoutInMinutes: z.number().int().min(1).max(60).default(5),
        deliveryPolicy: z
          .object({
            numRetries: z.number().int().min(0).max(100).default(10),
            minDelayTarget: z.number().int().min(1).max(3600).default(20),
            maxDelayTarget: z.number().int().min(1).max(3600).default(600),
            backoffFunction: z.enum(["linear", "arithmetic", "geometric", "exponential"]).default("exponential"),
            maxReceivesPerSecond: z.number().int().positive().optional(),
          })
          .strict()
          .default({ numRetries: 10, minDelayTarget: 20, maxDelayTarget: 600, backoffFunction: "exponential" }),
        allowCloudWatchAlarms: z.boolean().default(true),
      })
      .strict()
      .default({
        enabled: true,
        confirmationTimeoutInMinutes: 5,
        deliveryPolicy: { numRetries: 10, minDelayTarget: 20, maxDelayTarget: 600, backoffFunction: "exponential" },
        allowCloudWatchAlarms: true,
      }),
  })
  .strict();

export type KeywireConfig = z.infer<typeof keywireConfigSchema>;

export interface StackConfig extends KeywireConfig {
  /** The instance address (not a secret). */
  instanceUrl: string;
  authKind: "basic" | "oauth";
  /** Whether an operator supplied the API key's token (`keywire:apiKeyToken`). */
  hasOperatorToken: boolean;
}

/** One problem, with the key to fix. */
export interface ConfigProblem {
  key: string;
  message: string;
}

export class StackConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `The stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n") +
        "\nSet values with `pulumi config set <key> <value>` (secrets with --secret; objects with --path, e.g. " +
        "`pulumi config set --path keywire:sns.topicName alarms`). See README, \"Stacks\".",
    );
    this.name = "StackConfigError";
  }
}

/** What the loader needs from the configuration: raw values and whether a key is set. */
export interface RawConfig {
  /** The raw string of a non-secret key (objects as JSON), or undefined. */
  get(key: string): string | undefined;
  /** Whether a key is set at all; used for secrets, whose values are not read here. */
  has(key: string): boolean;
}

const KEYWIRE_KEYS = ["namePrefix", "integrationUser", "policyMode", "keepBasicAuth", "apiKey", "rateLimit", "pushConnector", "sns"] as const;
const OBJECT_KEYS = new Set(["integrationUser", "apiKey", "rateLimit", "pushConnector", "sns"]);

function parseValue(key: string, raw: string, problems: ConfigProblem[]): unknown {
  if (OBJECT_KEYS.has(key)) {
    try {
      return JSON.parse(raw);
    } catch {
      problems.push({ key: `keywire:${key}`, message: "must be an object (set its fields with `pulumi config set --path`)" });
      return undefined;
    }
  }
  if (raw === "true" || raw === "false") return raw === "true";
  return raw;
}

/** Validates the whole configuration; throws a StackConfigError listing every problem. */
export function loadStackConfig(raw: RawConfig): StackConfig {
  const problems: ConfigProblem[] = [];

  // ServiceNow connection: where, and how keywire authenticates (presence only for secrets).
  let instanceUrl = "";
  const instanceKey = raw.get("servicenow:instanceUrl") !== undefined ? "servicenow:instanceUrl" : "servicenow:instance";
  const instance = raw.get(instanceKey);
  if (instance === undefined || instance.trim() === "") {
    problems.push({ key: "servicenow:instance", message: "is required: your instance name (dev12345) or servicenow:instanceUrl" });
  } else if (PLACEHOLDER.test(instance.trim())) {
    problems.push({ key: instanceKey, message: `replace the placeholder "${instance}" with your instance name (e.g. dev12345)` });
  } else {
    try {
      instanceUrl = normalizeInstanceUrl(instance, instanceKey);
    } catch (e) {
      problems.push({ key: instanceKey, message: (e as Error).message });
    }
  }
  const basic = raw.get("servicenow:username") !== undefined;
  const oauth = raw.get("servicenow:clientId") !== undefined;
  if (!basic && !oauth) {
    problems.push({
      key: "servicenow:username",
      message: "set servicenow:username and the secret servicenow:password, or servicenow:clientId and the secret servicenow:clientSecret",
    });
  }
  if (basic && PLACEHOLDER.test(raw.get("servicenow:username") ?? "")) {
    problems.push({ key: "servicenow:username", message: "replace the placeholder with the deploying user's user_name" });
  }
  if (oauth && PLACEHOLDER.test(raw.get("servicenow:clientId") ?? "")) {
    problems.push({ key: "servicenow:clientId", message: "replace the placeholder with the OAuth client id (System OAuth > Application Registry)" });
  }
  if (basic && !oauth && !raw.has("servicenow:password")) {
    problems.push({ key: "servicenow:password", message: "is required with servicenow:username: pulumi config set --secret servicenow:password <pw>" });
  }
  if (oauth && !raw.has("servicenow:clientSecret")) {
    problems.push({ key: "servicenow:clientSecret", message: "is required with servicenow:clientId: pulumi config set --secret servicenow:clientSecret <secret>" });
  }

  const input: Record<string, unknown> = {};
  for (const key of KEYWIRE_KEYS) {
    const v = raw.get(`keywire:${key}`);
    if (v !== undefined) input[key] = parseValue(key, v, problems);
  }
  const parsed = keywireConfigSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [head, ...rest] = issue.path.map(String);
      const key = head ? `keywire:${head}${rest.length ? `.${rest.join(".")}` : ""}` : "keywire";
      const message =
        issue.code === "invalid_type" && issue.input === undefined ? "is required" : issue.message;
      problems.push({ key, message });
    }
  }
  if (parsed.success) {
    const sns = parsed.data.sns;
    if (sns.enabled && !sns.topicName && !sns.existingTopicArn) {
      problems.push({ key: "keywire:sns.topicName", message: "give a topic name to create, or keywire:sns.existingTopicArn" });
    }
    if (sns.topicName && sns.existingTopicArn) {
      problems.push({ key: "keywire:sns.existingTopicArn", message: "give either sns.topicName or sns.existingTopicArn, not both" });
    }
    if (sns.enabled && instanceUrl.startsWith("http://")) {
      problems.push({ key: "keywire:sns.enabled", message: "SNS delivers to https endpoints only; turn it off for a loopback instance" });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new StackConfigError(problems);
  return {
    ...parsed.data,
    instanceUrl,
    authKind: oauth ? "oauth" : "basic",
    hasOperatorToken: raw.has("keywire:apiKeyToken"),
  };
}
