/**
 * The whole stack's configuration, in one schema.
 *
 * Every problem is reported at once, each with the config key to fix and a hint,
 * so a new stack file is filled in in one pass rather than one failure at a time.
 * Secrets (the ServiceNow password or client secret, an operator-supplied API-key
 * token) are only checked for presence, length and whether the stack stores them
 * encrypted: their values never enter the program's view of the configuration,
 * and no message repeats a value that may be a secret (see inputMessages.ts).
 * Every value keywire reads is held to a length before it is parsed, by the rules
 * the toolchain scripts apply too (core/textRules.ts).
 *
 * Where a setting becomes a resource's input, its rules are the resource's own
 * (servicenow/engine/inputRules.ts, servicenow/apiKey/rotation.ts, aws/deliveryPolicy.ts),
 * not a copy.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { inputErrorMap, nearest } from "../resources";
import {
  CONFIG_KEYS,
  DEFAULT_TOKEN_CONFIG_KEY,
  ENV_KEYS,
  adoptSettingSchema,
  configValueMax,
  configValueTooLong,
  keySettingsSchema,
  normalizeInstanceUrl,
  oneLine,
  queryValue,
  recordName,
  rotationProblems,
} from "../resources/servicenow";
import { deliveryPolicyProblems } from "../resources/aws";

const PLACEHOLDER = /^<.*>$|^(changeme|todo|tbd)$/i;

const notPlaceholder = (what: string) => z.string().refine((v) => !PLACEHOLDER.test(v.trim()), { message: `replace the placeholder with ${what}` });

const keywireConfigSchema = z
  .object({
    /** Prefix of every record and AWS resource name keywire creates. */
    namePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,30}$/, "must be 2-31 lower-case letters, digits or '-', starting with a letter")
      .default("keywire"),
    integrationUser: z
      .object({
        userName: notPlaceholder("the integration user's user_name").pipe(z.string().regex(/^[A-Za-z0-9._@-]{1,80}$/, "must be a ServiceNow user_name")),
        /** true: keywire creates the user (web-service only, no password) and grants its roles. */
        create: z.boolean().default(true),
        firstName: oneLine(z, 100).optional(),
        lastName: oneLine(z, 100).optional(),
        email: z.string().max(100).email().optional(),
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
    apiKey: keySettingsSchema(z)
      .superRefine((key, ctx) => {
        for (const p of rotationProblems(key, new Date())) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
      })
      .default({ authScopes: ["useraccount"], tokenStrategy: "auto" }),
    /** A per-hour ceiling for the integration user (sys_rate_limit_rules). */
    rateLimit: z
      .object({
        enabled: z.boolean().default(true),
        requestsPerHour: z.number().int().positive().max(10_000_000).default(3600),
        /** The instance's per-hour limit column; preflight names the right one if this is wrong. */
        limitColumn: z
          .string()
          .regex(/^[a-z][a-z0-9_]{0,79}$/, "must be a column name")
          .default("max_requests_per_hour"),
      })
      .strict()
      .default({ enabled: true, requestsPerHour: 3600, limitColumn: "max_requests_per_hour" }),
    /**
     * Take the chain an earlier deployment made over instead of creating it (after a
     * lost state): `true` for every record, or the parts to take over. Removed once an
     * `up` has taken them over (docs/runbook.md).
     */
    adopt: adoptSettingSchema(z).optional(),
    pushConnector: z
      .object({
        /** Name of the push connector instance the endpoint names. */
        name: notPlaceholder("the push connector instance's name").pipe(queryValue(recordName(z))),
        /** true: keywire creates it; false: it exists and is only looked up. */
        create: z.boolean().default(false),
        source: z
          .string()
          .regex(/^[a-z0-9_]+$/, 'must be a source value such as "aws"')
          .default("aws"),
      })
      .strict(),
    sns: z
      .object({
        /** false for the local stack: no AWS resource, the endpoint is still produced. */
        enabled: z.boolean().default(true),
        topicName: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,256}$/, "must be a valid SNS topic name")
          .optional(),
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
          .superRefine((policy, ctx) => {
            for (const p of deliveryPolicyProblems(policy)) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
          })
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

type KeywireConfig = z.infer<typeof keywireConfigSchema>;

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

/**
 * A RunError: Pulumi prints its message alone, without a stack trace, which
 * would only point at this file.
 */
export class StackConfigError extends pulumi.RunError {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `The stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n") +
        "\nSet values with `pulumi config set <key> <value>` (secrets with --secret; objects with --path, e.g. " +
        "`pulumi config set --path keywire:sns.topicName alarms`). See docs/configuration.md.",
    );
    this.name = "StackConfigError";
  }
}

/**
 * Where a setting's value comes from: the stack configuration, encrypted (`--secret`)
 * or in clear text, or the environment variable the providers also read.
 */
export type SettingOrigin = "secret" | "plain" | "environment";

/** What the loader needs from the configuration: raw values and whether a key is set. */
export interface RawConfig {
  /** The raw string of a non-secret key (objects as JSON), or undefined. */
  get(key: string): string | undefined;
  /** Whether a key is set at all; used for secrets, whose values are not read here. */
  has(key: string): boolean;
  /** Every key the stack sets, in every namespace (`keywire:sns`, `aws:region`, …). */
  keys(): string[];
  /** Where a key's value comes from, or undefined when it is not set. */
  origin(key: string): SettingOrigin | undefined;
  /** How many characters a key's value has, secrets included (their length, never their value). */
  length(key: string): number | undefined;
}

/** The environment variables the providers fall back to, by config key (connection.ts's own pairs). */
export const ENV_FALLBACKS: Readonly<Record<string, string>> = Object.fromEntries(
  (Object.keys(ENV_KEYS) as Array<keyof typeof ENV_KEYS>).map((k) => [CONFIG_KEYS[k], ENV_KEYS[k]]),
);

/** The settings that hold credentials: the stack must store them encrypted. */
const SECRET_KEYS: readonly string[] = [CONFIG_KEYS.password, CONFIG_KEYS.clientSecret, DEFAULT_TOKEN_CONFIG_KEY];
/** What to do about a credential that sat in a stack file in clear text. */
const REPLACE_EXPOSED: Readonly<Record<string, string>> = {
  [CONFIG_KEYS.password]: "change the password on the instance",
  [CONFIG_KEYS.clientSecret]: "issue a new client secret on the instance",
  [DEFAULT_TOKEN_CONFIG_KEY]: "rotate the key (docs/runbook.md)",
};

const KEYWIRE_KEYS = ["namePrefix", "integrationUser", "policyMode", "keepBasicAuth", "apiKey", "rateLimit", "adopt", "pushConnector", "sns"] as const;
/** Keys whose value is JSON: objects, and `adopt`, which is `true` or an object. */
const OBJECT_KEYS = new Set(["integrationUser", "apiKey", "rateLimit", "adopt", "pushConnector", "sns"]);
/**
 * keywire: keys that are not part of the schema but are not mistakes either: the
 * operator's token (a secret, checked for presence only), and the settings the
 * platform examples (stacks/examples) document for programs that add Freshservice
 * or Ivanti, which this program does not read.
 */
const OTHER_KEYWIRE_KEYS = ["apiKeyToken", "freshservice", "ivanti"] as const;
const KNOWN_KEYWIRE_KEYS: readonly string[] = [...KEYWIRE_KEYS, ...OTHER_KEYWIRE_KEYS];

/**
 * The `keywire:` namespace is this program's: a key it does not know is a
 * mistake, most often a misspelling, or a nested setting set without `--path`
 * (Pulumi then stores `keywire:sns.enabled` as one key with a dot in its name).
 * Values are never read here: an unknown key may hold a secret.
 */
function unknownKeywireKeys(keys: readonly string[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const full of keys) {
    if (!full.startsWith("keywire:")) continue;
    const name = full.slice("keywire:".length);
    if (KNOWN_KEYWIRE_KEYS.includes(name)) continue;
    const head = name.split(".")[0];
    if (name.includes(".") && OBJECT_KEYS.has(head)) {
      problems.push({
        key: full,
        message:
          `is stored as one key named "${name}", which keywire does not read: a nested setting needs --path. ` +
          `Run \`pulumi config rm ${full}\`, then \`pulumi config set --path ${full} <value>\``,
      });
      continue;
    }
    const guess = nearest(head, KNOWN_KEYWIRE_KEYS);
    problems.push({
      key: full,
      message: `is not a keywire setting${guess ? `: did you mean keywire:${guess}?` : ` (keywire reads ${KEYWIRE_KEYS.map((k) => `keywire:${k}`).join(", ")})`}`,
    });
  }
  return problems;
}

/**
 * The servicenow: keys keywire reads. The namespace is the platform's, not
 * keywire's: other programs and providers sharing the stack may read keys of
 * their own there, so an unknown one is not refused. A misspelling still shows:
 * the problem that names the key it was meant to be points at it.
 */
const SERVICENOW_KEYS: readonly string[] = Object.values(CONFIG_KEYS);

function pointAtMisspellings(problems: ConfigProblem[], keys: readonly string[]): void {
  for (const stray of keys) {
    if (!stray.startsWith("servicenow:") || SERVICENOW_KEYS.includes(stray)) continue;
    const meant = nearest(stray, SERVICENOW_KEYS);
    if (!meant) continue;
    const names = new RegExp(`${meant.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![A-Za-z])`);
    const problem = problems.find((p) => p.key === meant || names.test(p.message));
    if (problem) problem.message += ` (${stray} is set: did you mean ${meant}?)`;
  }
}

function parseValue(key: string, raw: string, problems: ConfigProblem[]): unknown {
  if (OBJECT_KEYS.has(key)) {
    try {
      return JSON.parse(raw);
    } catch {
      problems.push({
        key: `keywire:${key}`,
        message:
          key === "adopt"
            ? "must be true or an object (set its parts with `pulumi config set --path`, e.g. keywire:adopt.key <sys_id>)"
            : "must be an object (set its fields with `pulumi config set --path`)",
      });
      return undefined;
    }
  }
  if (raw === "true" || raw === "false") return raw === "true";
  return raw;
}

/** Validates the whole configuration; throws a StackConfigError listing every problem. */
export function loadStackConfig(raw: RawConfig): StackConfig {
  const problems: ConfigProblem[] = [];
  /** The name a problem gives a setting: its environment variable when that is where the value came from. */
  const nameOf = (key: string): string => (raw.origin(key) === "environment" && ENV_FALLBACKS[key]) || key;

  // Lengths first: a value too long for any setting is not parsed, and reported once.
  const tooLong = new Set<string>();
  for (const key of new Set([...raw.keys(), ...SERVICENOW_KEYS, DEFAULT_TOKEN_CONFIG_KEY])) {
    const max = key.startsWith("keywire:") || SERVICENOW_KEYS.includes(key) ? configValueMax(key) : undefined;
    const length = raw.length(key);
    if (max === undefined || length === undefined || length <= max) continue;
    tooLong.add(key);
    const name = nameOf(key);
    const fix =
      name === key
        ? `Run \`pulumi config rm ${key}\`, then set the intended value again${SECRET_KEYS.includes(key) ? ` with \`pulumi config set --secret ${key}\`` : ""}.`
        : `Set ${name} to the intended value.`;
    problems.push({ key: name, message: configValueTooLong(max, fix) });
  }
  const read = (key: string): string | undefined => (tooLong.has(key) ? undefined : raw.get(key));

  // A credential in the stack file in clear text: anyone who reads the file or the repository has it.
  for (const key of SECRET_KEYS) {
    if (raw.origin(key) !== "plain") continue;
    problems.push({
      key,
      message:
        `is stored in clear text in the stack file (set without --secret), where anyone who can read the file or its history has it. ` +
        `Run \`pulumi config rm ${key}\`, then \`pulumi config set --secret ${key}\` (it reads the value from standard input)` +
        (ENV_FALLBACKS[key] ? `, or give it through ${ENV_FALLBACKS[key]} instead` : "") +
        `. The clear value may be in the repository's history: ${REPLACE_EXPOSED[key]}`,
    });
  }

  // ServiceNow connection: where, and how keywire authenticates (presence only for secrets).
  let instanceUrl = "";
  const instanceKey = raw.get("servicenow:instanceUrl") !== undefined ? "servicenow:instanceUrl" : "servicenow:instance";
  const instanceName = nameOf(instanceKey);
  const instance = read(instanceKey);
  if (tooLong.has(instanceKey)) {
    // Reported above.
  } else if (instance === undefined || instance.trim() === "") {
    problems.push({ key: "servicenow:instance", message: "is required: your instance name (dev12345) or servicenow:instanceUrl" });
  } else if (PLACEHOLDER.test(instance.trim())) {
    problems.push({ key: instanceName, message: "replace the placeholder with your instance name (e.g. dev12345)" });
  } else {
    try {
      instanceUrl = normalizeInstanceUrl(instance, instanceName);
    } catch (e) {
      problems.push({ key: instanceName, message: (e as Error).message });
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
    problems.push({
      key: "servicenow:password",
      message: "is required with servicenow:username: pulumi config set --secret servicenow:password (reads the value from standard input)",
    });
  }
  if (oauth && !raw.has("servicenow:clientSecret")) {
    problems.push({
      key: "servicenow:clientSecret",
      message: "is required with servicenow:clientId: pulumi config set --secret servicenow:clientSecret (reads the value from standard input)",
    });
  }

  const input: Record<string, unknown> = {};
  for (const key of KEYWIRE_KEYS) {
    const v = read(`keywire:${key}`);
    if (v !== undefined) input[key] = parseValue(key, v, problems);
  }
  problems.push(...unknownKeywireKeys(raw.keys()));
  const parsed = keywireConfigSchema.safeParse(input, { error: inputErrorMap });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [head, ...rest] = issue.path.map(String);
      // A value too long to read is reported once, not as missing as well.
      if (head !== undefined && tooLong.has(`keywire:${head}`)) continue;
      const key = head ? `keywire:${head}${rest.length ? `.${rest.join(".")}` : ""}` : "keywire";
      problems.push({ key, message: issue.message });
    }
  }
  if (parsed.success && !tooLong.has("keywire:sns")) {
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
  pointAtMisspellings(problems, raw.keys());
  if (problems.length > 0 || !parsed.success) throw new StackConfigError(problems);
  return {
    ...parsed.data,
    instanceUrl,
    authKind: oauth ? "oauth" : "basic",
    hasOperatorToken: raw.has(DEFAULT_TOKEN_CONFIG_KEY),
  };
}
