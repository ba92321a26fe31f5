/**
 * ServiceNow connection settings and how they are resolved from Pulumi configuration
 * and the environment.
 *
 * The resolved connection holds a secret. It keeps it out of every enumerable
 * property, so `JSON.stringify` and `util.inspect` never show it; code that needs it
 * calls `credentials()` at request time and must not log the result.
 */
import { z } from "zod";
import { KeywireConfigError } from "../../core/errors";
import { isLoopbackHost } from "../../core/url";
import { SETTING_MAX, addressProblem, hostProblem } from "../../core/textRules";
import { OAuthTokenCache, createOAuthTokenCache } from "./oauth";

/** Anything with `get(key)`: a Pulumi `Config("servicenow")`, or a dynamic provider's `configure` request config. */
export interface ConfigSource {
  get(key: string): string | undefined;
  /** A Pulumi `Config` bag's name: when it is `servicenow`, keys are looked up without the namespace. */
  readonly name?: string;
}

export type ServiceNowCredentials = { kind: "basic"; username: string; password: string } | { kind: "oauth"; clientId: string; clientSecret: string };

export interface ServiceNowConnectionSettings {
  /** Instance short name (`dev12345`), host (`dev12345.service-now.com`) or URL. */
  instance: string;
  /** The setting the instance came from, for messages (`servicenow:instanceUrl`, `SERVICENOW_INSTANCE_URL`, …). */
  instanceSetting?: string;
  credentials: ServiceNowCredentials;
  /** Deadline of one request, connection to last byte; the client's default when absent. */
  requestTimeoutMs?: number;
}

const NAMESPACE = "servicenow";
const PLATFORM = "servicenow";
const OPERATION = "resolve connection";

export const CONFIG_KEYS = {
  instance: "servicenow:instance",
  instanceUrl: "servicenow:instanceUrl",
  username: "servicenow:username",
  password: "servicenow:password",
  clientId: "servicenow:clientId",
  clientSecret: "servicenow:clientSecret",
  requestTimeoutSeconds: "servicenow:requestTimeoutSeconds",
} as const;

export const ENV_KEYS = {
  instanceUrl: "SERVICENOW_INSTANCE_URL",
  username: "SERVICENOW_USERNAME",
  password: "SERVICENOW_PASSWORD",
  clientId: "SERVICENOW_CLIENT_ID",
  clientSecret: "SERVICENOW_CLIENT_SECRET",
  requestTimeoutSeconds: "SERVICENOW_REQUEST_TIMEOUT_SECONDS",
} as const;

function configError(key: string | undefined, reason: string, hint: string): KeywireConfigError {
  return new KeywireConfigError({ platform: PLATFORM, operation: OPERATION, reason, hint, ...(key ? { key } : {}) });
}

/** How to give an instance value again, for the setting `key` names. */
function howToSet(key: string): string {
  if (key === ENV_KEYS.instanceUrl) return `Set it again: export ${ENV_KEYS.instanceUrl}=https://dev12345.service-now.com`;
  if (key === CONFIG_KEYS.instance || key === CONFIG_KEYS.instanceUrl) {
    return `Set it with: pulumi config set ${CONFIG_KEYS.instance} dev12345 (or ${CONFIG_KEYS.instanceUrl} https://dev12345.service-now.com)`;
  }
  return `Give ${key} as an instance name (dev12345), host or URL (https://dev12345.service-now.com)`;
}

/**
 * Normalize an instance value to an origin (`https://host[:port]`).
 * `dev12345` → `https://dev12345.service-now.com`; a host gets `https://`; a URL is checked.
 * The value is checked as given before it is parsed (textRules.ts): parsing would
 * drop a line break or a zero-width space inside the host and name another host.
 */
export function normalizeInstanceUrl(value: string, key: string): string {
  const setIt = howToSet(key);
  const raw = addressProblem(value);
  if (raw) throw configError(key, `${key} ${raw}`, setIt);
  const v = value;
  const withScheme = /^[a-z0-9][a-z0-9-]*$/i.test(v) ? `https://${v.toLowerCase()}.service-now.com` : /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `https://${v}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw configError(key, `${key} is not an instance name, host or URL`, setIt);
  }
  if (url.username || url.password) {
    // Never echo the value: it holds credentials.
    throw configError(
      key,
      `${key} contains credentials`,
      `Remove them from the URL; set pulumi config set ${CONFIG_KEYS.username} … and pulumi config set --secret ${CONFIG_KEYS.password} … instead`,
    );
  }
  const host = hostProblem(url.hostname);
  if (host) throw configError(key, `${key} ${host}`, setIt);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    throw configError(key, `${key} must use https (got ${url.protocol.replace(/:$/, "")}); plain http is allowed only for loopback addresses`, setIt);
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw configError(key, `${key} must be the instance address only, without a path or query (${url.origin}${url.pathname})`, `Use ${url.origin}`);
  }
  return url.origin;
}

/**
 * A resolved ServiceNow connection.
 *
 * The secret lives only in closures made by the constructor, reached through
 * non-enumerable methods, so no enumeration (JSON, inspect, a spread) can copy it.
 */
export class ServiceNowConnection {
  /** Origin without trailing slash, e.g. `https://dev12345.service-now.com`. */
  readonly instanceUrl: string;
  /** The setting the instance came from: messages name the one the user set. */
  readonly instanceSetting: string;
  readonly authKind: "basic" | "oauth";
  /** Basic auth user name (not secret). */
  readonly username?: string;
  /** Deadline of one request, when the stack sets one (`servicenow:requestTimeoutSeconds`). */
  readonly requestTimeoutMs?: number;
  /** The credentials, for building a request. Never log the result. */
  declare readonly credentials: () => ServiceNowCredentials;
  /** The OAuth token cache shared by every client built on this connection. */
  declare readonly oauthTokens: () => OAuthTokenCache | undefined;
  /** Every secret value this connection may send (password, its Basic header value, tokens), for redaction. */
  declare readonly secrets: () => string[];

  constructor(settings: ServiceNowConnectionSettings) {
    this.instanceUrl = normalizeInstanceUrl(settings.instance, "instance");
    this.instanceSetting = settings.instanceSetting ?? CONFIG_KEYS.instance;
    const c: ServiceNowCredentials = { ...settings.credentials };
    this.authKind = c.kind;
    if (c.kind === "basic") this.username = c.username;
    if (settings.requestTimeoutMs !== undefined) this.requestTimeoutMs = settings.requestTimeoutMs;
    const tokens = c.kind === "oauth" ? createOAuthTokenCache() : undefined;
    const hidden = (value: unknown): PropertyDescriptor => ({ value, enumerable: false, writable: false, configurable: false });
    Object.defineProperties(this, {
      credentials: hidden((): ServiceNowCredentials => ({ ...c })),
      oauthTokens: hidden(() => tokens),
      secrets: hidden((): string[] =>
        c.kind === "basic" ? [c.password, Buffer.from(`${c.username}:${c.password}`).toString("base64")] : [c.clientSecret, ...(tokens?.secrets() ?? [])],
      ),
      [Symbol.for("nodejs.util.inspect.custom")]: hidden(() => this.toString()),
    });
  }

  toJSON(): { instanceUrl: string; authKind: string; username?: string; secret: string } {
    return {
      instanceUrl: this.instanceUrl,
      authKind: this.authKind,
      ...(this.username !== undefined ? { username: this.username } : {}),
      secret: "[secret]",
    };
  }

  toString(): string {
    return `ServiceNowConnection(${this.instanceUrl}, ${this.authKind})`;
  }
}

/** What problems call each setting, by config key, where that is not the config key itself. */
export type SettingNames = Record<string, string>;

/**
 * Resolve the connection from configuration, falling back to the environment per key
 * (configuration wins).
 *
 * When both a complete OAuth pair (clientId + clientSecret) and a complete basic pair
 * (username + password) are available, OAuth is used: its tokens expire, and the
 * password is then not sent with every request. An incomplete pair is an error only
 * when no complete pair exists, so a stray variable in the environment does not block
 * a complete configuration.
 */
export function resolveConnection(config: ConfigSource, env: NodeJS.ProcessEnv = process.env, names: SettingNames = {}): ServiceNowConnection {
  const nameOf = (key: string): string => names[key] ?? key;
  const read = (key: string): string | undefined => {
    const short = key.slice(NAMESPACE.length + 1);
    const v = config.name === NAMESPACE ? config.get(short) : config.get(key);
    return v === undefined || v === "" ? undefined : v;
  };
  const fromEnv = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v === "" ? undefined : v;
  };

  const raw = {
    instance: read(CONFIG_KEYS.instance),
    instanceUrl: read(CONFIG_KEYS.instanceUrl),
    envUrl: fromEnv(ENV_KEYS.instanceUrl),
    username: read(CONFIG_KEYS.username) ?? fromEnv(ENV_KEYS.username),
    password: read(CONFIG_KEYS.password) ?? fromEnv(ENV_KEYS.password),
    clientId: read(CONFIG_KEYS.clientId) ?? fromEnv(ENV_KEYS.clientId),
    clientSecret: read(CONFIG_KEYS.clientSecret) ?? fromEnv(ENV_KEYS.clientSecret),
    requestTimeoutSeconds: read(CONFIG_KEYS.requestTimeoutSeconds) ?? fromEnv(ENV_KEYS.requestTimeoutSeconds),
  };

  // Shape check only; messages are written below so no value is ever echoed. The
  // instance values are held to an address's own rules in normalizeInstanceUrl.
  const optionalText = z.string().min(1).max(SETTING_MAX).optional();
  const address = z.string().min(1).optional();
  const parsed = z
    .object({
      instance: address,
      instanceUrl: address,
      envUrl: address,
      username: optionalText,
      password: optionalText,
      clientId: optionalText,
      clientSecret: optionalText,
      requestTimeoutSeconds: optionalText,
    })
    .safeParse(raw);
  if (!parsed.success) {
    const field = String(parsed.error.issues[0]?.path[0] ?? "value");
    const configKey = field in CONFIG_KEYS ? CONFIG_KEYS[field as keyof typeof CONFIG_KEYS] : field;
    const key = nameOf(configKey);
    const where = names[configKey] ? key : `${key} (or its SERVICENOW_* environment variable)`;
    throw configError(key, `${key} is longer than ${SETTING_MAX} characters, the most keywire accepts for it`, `Check ${where}`);
  }
  const s = parsed.data;

  let instanceUrl: string;
  let instanceSetting: string;
  if (s.instance !== undefined && s.instanceUrl !== undefined) {
    const a = normalizeInstanceUrl(s.instance, nameOf(CONFIG_KEYS.instance));
    const b = normalizeInstanceUrl(s.instanceUrl, nameOf(CONFIG_KEYS.instanceUrl));
    if (a !== b) {
      throw configError(
        CONFIG_KEYS.instanceUrl,
        `${CONFIG_KEYS.instance} (${a}) and ${CONFIG_KEYS.instanceUrl} (${b}) name different instances`,
        `Keep one: pulumi config rm ${CONFIG_KEYS.instanceUrl}`,
      );
    }
    instanceUrl = a;
    instanceSetting = nameOf(CONFIG_KEYS.instance);
  } else if (s.instance !== undefined) {
    instanceUrl = normalizeInstanceUrl(s.instance, nameOf(CONFIG_KEYS.instance));
    instanceSetting = nameOf(CONFIG_KEYS.instance);
  } else if (s.instanceUrl !== undefined) {
    instanceUrl = normalizeInstanceUrl(s.instanceUrl, nameOf(CONFIG_KEYS.instanceUrl));
    instanceSetting = nameOf(CONFIG_KEYS.instanceUrl);
  } else if (s.envUrl !== undefined) {
    instanceUrl = normalizeInstanceUrl(s.envUrl, ENV_KEYS.instanceUrl);
    instanceSetting = ENV_KEYS.instanceUrl;
  } else {
    throw configError(
      CONFIG_KEYS.instance,
      `no ServiceNow instance is configured (${CONFIG_KEYS.instance}, ${CONFIG_KEYS.instanceUrl} or ${ENV_KEYS.instanceUrl})`,
      `Run: pulumi config set ${CONFIG_KEYS.instance} dev12345`,
    );
  }

  const oauthComplete = s.clientId !== undefined && s.clientSecret !== undefined;
  const basicComplete = s.username !== undefined && s.password !== undefined;
  let credentials: ServiceNowCredentials;
  if (oauthComplete) {
    credentials = { kind: "oauth", clientId: s.clientId!, clientSecret: s.clientSecret! };
  } else if (basicComplete) {
    credentials = { kind: "basic", username: s.username!, password: s.password! };
  } else if (s.clientId !== undefined || s.clientSecret !== undefined) {
    const missing = s.clientId === undefined ? CONFIG_KEYS.clientId : CONFIG_KEYS.clientSecret;
    const envName = s.clientId === undefined ? ENV_KEYS.clientId : ENV_KEYS.clientSecret;
    const cmd = missing === CONFIG_KEYS.clientSecret ? `pulumi config set --secret ${missing} …` : `pulumi config set ${missing} …`;
    throw configError(missing, `OAuth is half configured: ${missing} is missing`, `Run: ${cmd} (or set ${envName})`);
  } else if (s.username !== undefined || s.password !== undefined) {
    const missing = s.username === undefined ? CONFIG_KEYS.username : CONFIG_KEYS.password;
    const envName = s.username === undefined ? ENV_KEYS.username : ENV_KEYS.password;
    const cmd = missing === CONFIG_KEYS.password ? `pulumi config set --secret ${missing} …` : `pulumi config set ${missing} …`;
    throw configError(missing, `basic auth is half configured: ${missing} is missing`, `Run: ${cmd} (or set ${envName})`);
  } else {
    throw configError(
      CONFIG_KEYS.username,
      `no ServiceNow credentials are configured (${CONFIG_KEYS.username} + ${CONFIG_KEYS.password}, or ${CONFIG_KEYS.clientId} + ${CONFIG_KEYS.clientSecret})`,
      `Run: pulumi config set ${CONFIG_KEYS.username} admin && pulumi config set --secret ${CONFIG_KEYS.password} … ` +
        `(or set ${ENV_KEYS.username} and ${ENV_KEYS.password})`,
    );
  }

  let requestTimeoutMs: number | undefined;
  if (s.requestTimeoutSeconds !== undefined) {
    const seconds = Number(s.requestTimeoutSeconds);
    if (!/^\d+(\.\d+)?$/.test(s.requestTimeoutSeconds.trim()) || !(seconds >= 0.25 && seconds <= 600)) {
      throw configError(
        CONFIG_KEYS.requestTimeoutSeconds,
        `${CONFIG_KEYS.requestTimeoutSeconds} must be a number of seconds from 0.25 to 600`,
        `Run: pulumi config set ${CONFIG_KEYS.requestTimeoutSeconds} 30`,
      );
    }
    requestTimeoutMs = Math.round(seconds * 1000);
  }

  return new ServiceNowConnection({ instance: instanceUrl, instanceSetting, credentials, ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}) });
}

/**
 * A connection a resource or component is given explicitly, instead of the stack's
 * `servicenow:*` settings: for stacks that manage more than one instance. Its
 * credentials are secrets (the resources wrap them with `pulumi.secret`).
 */
export interface ConnectionArgs {
  /** Instance short name, host or URL (as `servicenow:instance`). */
  instance?: string;
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  /** Per-request deadline in seconds (as `servicenow:requestTimeoutSeconds`). */
  requestTimeoutSeconds?: string;
}

/** Resolves an explicit connection by the same rules as the stack's settings, with no environment fallback. */
export function explicitConnection(args: ConnectionArgs): ServiceNowConnection {
  const values: Record<string, string | undefined> = {
    [CONFIG_KEYS.instance]: args.instance,
    [CONFIG_KEYS.username]: args.username,
    [CONFIG_KEYS.password]: args.password,
    [CONFIG_KEYS.clientId]: args.clientId,
    [CONFIG_KEYS.clientSecret]: args.clientSecret,
    [CONFIG_KEYS.requestTimeoutSeconds]: args.requestTimeoutSeconds,
  };
  // Problems name the resource's property (connection.instance), not a stack setting.
  const names: SettingNames = Object.fromEntries(Object.entries(CONFIG_KEYS).map(([field, key]) => [key, `connection.${field}`]));
  return resolveConnection({ get: (key) => values[key] }, {}, names);
}
