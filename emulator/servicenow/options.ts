/** Option defaults and validation, shared by the in-process API, the CLI and the admin API. */
import { z } from "zod";
import type { DuplicateSysIdStatus, EmulatorOptions } from "./types";

export interface ResolvedOptions {
  port: number;
  dataFile?: string;
  adminPassword: string;
  plugin: "active" | "inactive" | "absent";
  eventManagement: "active" | "inactive";
  shippedPolicies: "active" | "inactive";
  restApiKeyProfile: "active" | "inactive" | "absent";
  basicAuthRestriction: boolean;
  tokenReadback: "none" | "display_value" | "input_display_value" | "both";
  queryParameterType: string;
  rateLimitColumn: string;
  authScopeColumn: string;
  maxBodyBytes: number;
  maxAttachmentBytes: number;
  duplicateSysIdStatus: DuplicateSysIdStatus;
  clientSysIds: "honoured" | "ignored";
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Upper bounds of the latency faults (latencyMs, jitterMs) and of a late commit's delay. */
export const MAX_LATENCY_MS = 60_000;
export const MAX_LATE_COMMIT_MS = 600_000;
/** The platform's default (com.glide.attachment.max_size) is 1 GiB; an emulator holds files in memory. */
const DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

export function resolveOptions(o: EmulatorOptions): ResolvedOptions {
  return {
    port: o.port ?? 0,
    dataFile: o.dataFile,
    adminPassword: o.adminPassword ?? "admin",
    plugin: o.plugin ?? "active",
    eventManagement: o.eventManagement ?? "active",
    shippedPolicies: o.shippedPolicies ?? "active",
    restApiKeyProfile: o.restApiKeyProfile ?? "absent",
    basicAuthRestriction: o.basicAuthRestriction ?? false,
    tokenReadback: o.tokenReadback ?? "none",
    queryParameterType: o.queryParameterType ?? "query_parameter",
    rateLimitColumn: o.rateLimitColumn ?? "max_requests_per_hour",
    authScopeColumn: o.authScopeColumn ?? "auth_scope",
    maxBodyBytes: o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxAttachmentBytes: o.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES,
    duplicateSysIdStatus: o.duplicateSysIdStatus ?? 403,
    clientSysIds: o.clientSysIds ?? "honoured",
  };
}

const columnName = z.string().regex(/^[a-z][a-z0-9_]{0,79}$/, "a lowercase column name");
const filter = { methods: z.array(z.string()).optional(), table: z.string().optional() };
const count = z.number().int().min(0);

export const faultSchema = z
  .object({
    latencyMs: z.number().min(0).max(MAX_LATENCY_MS).optional(),
    jitterMs: z.number().min(0).max(MAX_LATENCY_MS).optional(),
    errorRate: z.number().min(0).max(1).optional(),
    failNext: z
      .object({ count, status: z.number().int().min(400).max(599), retryAfterSeconds: z.number().int().min(0).optional(), ...filter })
      .strict()
      .optional(),
    dropNext: z
      .object({ count, ...filter })
      .strict()
      .optional(),
    commitThenFailNext: z
      .object({ count, mode: z.enum(["drop", "500"]), ...filter })
      .strict()
      .optional(),
    lateCommitNext: z
      .object({ count, delayMs: z.number().int().min(0).max(MAX_LATE_COMMIT_MS), ...filter })
      .strict()
      .optional(),
    resetMidBodyNext: z
      .object({ count, ...filter })
      .strict()
      .optional(),
  })
  .strict();

/** Options that can change while running (port, data file and body limit are fixed at start). */
export const runtimeOptionsSchema = z
  .object({
    adminPassword: z.string().min(1).optional(),
    plugin: z.enum(["active", "inactive", "absent"]).optional(),
    eventManagement: z.enum(["active", "inactive"]).optional(),
    shippedPolicies: z.enum(["active", "inactive"]).optional(),
    restApiKeyProfile: z.enum(["active", "inactive", "absent"]).optional(),
    basicAuthRestriction: z.boolean().optional(),
    tokenReadback: z.enum(["none", "display_value", "input_display_value", "both"]).optional(),
    queryParameterType: z.string().min(1).max(80).optional(),
    rateLimitColumn: columnName.optional(),
    authScopeColumn: columnName.optional(),
    maxBodyBytes: z.number().int().min(1).optional(),
    maxAttachmentBytes: z.number().int().min(0).optional(),
    duplicateSysIdStatus: z.union([z.literal(403), z.literal(400), z.literal(409)]).optional(),
    clientSysIds: z.enum(["honoured", "ignored"]).optional(),
    faults: faultSchema.optional(),
  })
  .strict();

export const startOptionsSchema = runtimeOptionsSchema.extend({
  port: z.number().int().min(0).max(65535).optional(),
  dataFile: z.string().min(1).optional(),
});

/** One-line description of what is wrong with an input, for 400 answers and CLI errors. */
export function describeZodError(e: unknown): string {
  if (e instanceof z.ZodError) {
    return e.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
  }
  return String(e);
}
