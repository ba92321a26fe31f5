/** Request-body and query validation with Freshservice-style error entries. */
import { z } from "zod";
import type { AccountState } from "./state";
import type { AgentRole, AssignmentScope } from "./types";

export interface FieldError {
  field: string;
  message: string;
  code: "missing_field" | "invalid_value" | "duplicate_value" | "datatype_mismatch" | "invalid_field" | "invalid_json";
}

const ASSIGNMENT_SCOPES: readonly AssignmentScope[] = ["entire_helpdesk", "member_groups", "specified_groups", "assigned_items"];
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{1,60}$/;
const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const roleSchema = z
  .object({
    role_id: id,
    assignment_scope: z.enum(ASSIGNMENT_SCOPES as [AssignmentScope, ...AssignmentScope[]]),
    groups: z.array(id).max(100).optional(),
  })
  .strict();

const agentFields = {
  first_name: z.string().trim().min(1).max(255),
  last_name: z.string().max(255).nullable().optional(),
  email: z.string().max(254).regex(EMAIL, "It should be a valid email address"),
  job_title: z.string().max(255).nullable().optional(),
  occasional: z.boolean().optional(),
  department_ids: z.array(id).max(100).optional(),
  roles: z.array(roleSchema).max(50).optional(),
};

const createSchema = z.object(agentFields).strict();
const updateSchema = z.object(agentFields).partial().strict();

export interface AgentInput {
  first_name?: string;
  last_name?: string | null;
  email?: string;
  job_title?: string | null;
  occasional?: boolean;
  department_ids?: number[];
  roles?: AgentRole[];
}

function mapIssues(issues: readonly z.core.$ZodIssue[], body: Record<string, unknown>): FieldError[] {
  const out: FieldError[] = [];
  for (const i of issues) {
    if (i.code === "unrecognized_keys") {
      for (const k of i.keys) out.push({ field: k.slice(0, 100), message: "Unexpected/invalid field in request", code: "invalid_field" });
      continue;
    }
    const field = i.path.map(String).join(".") || "body";
    const top = i.path[0];
    if (i.path.length === 1 && typeof top === "string" && body[top] === undefined) {
      out.push({ field, message: "It should be present", code: "missing_field" });
    } else if (i.code === "invalid_type") {
      out.push({ field, message: `It should be of type ${i.expected}`, code: "datatype_mismatch" });
    } else {
      out.push({ field, message: i.message, code: "invalid_value" });
    }
  }
  return out.slice(0, 20);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function parseAgentBody(raw: unknown, mode: "create" | "update", state: Pick<AccountState, "roles">): Parsed<AgentInput> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [{ field: "body", message: "The request body must be a JSON object", code: "invalid_json" }] };
  }
  const body = raw as Record<string, unknown>;
  const r = (mode === "create" ? createSchema : updateSchema).safeParse(body);
  if (!r.success) return { ok: false, errors: mapIssues(r.error.issues, body) };
  const v = r.data as AgentInput & { roles?: { role_id: number; assignment_scope: AssignmentScope; groups?: number[] }[] };
  const errors: FieldError[] = [];
  const roles = v.roles?.map((x) => ({ role_id: x.role_id, assignment_scope: x.assignment_scope, groups: x.groups ?? [] }));
  for (const [n, role] of (roles ?? []).entries()) {
    if (!state.roles.has(role.role_id)) errors.push({ field: `roles.${n}.role_id`, message: "There is no role with this id", code: "invalid_value" });
    if (role.assignment_scope === "specified_groups" && role.groups.length === 0) {
      errors.push({ field: `roles.${n}.groups`, message: "Groups are required for the specified_groups scope", code: "missing_field" });
    }
  }
  if (errors.length) return { ok: false, errors };
  const value: AgentInput = { ...v };
  if (roles) value.roles = roles;
  return { ok: true, value };
}

export interface AgentFilters {
  email?: string;
  active?: boolean;
  occasional?: boolean;
  clauses: { field: string; value: string | boolean | number }[];
}

const QUERY_FIELDS = new Set(["first_name", "last_name", "email", "job_title", "active", "occasional"]);

/** The `query` filter: `"field:'value' AND field:true"` (optionally wrapped in double quotes). */
export function parseAgentQuery(q: string): AgentFilters["clauses"] | undefined {
  if (q.length > 512) return undefined;
  const inner = q.startsWith('"') && q.endsWith('"') && q.length >= 2 ? q.slice(1, -1) : q;
  const parts = inner.split(/\s+AND\s+/);
  if (parts.length === 0 || parts.length > 10) return undefined;
  const out: AgentFilters["clauses"] = [];
  for (const p of parts) {
    const m = /^\s*([a-z_]{1,40}):(?:'([^']{0,200})'|(true|false)|(\d{1,15}))\s*$/.exec(p);
    if (!m || !QUERY_FIELDS.has(m[1])) return undefined;
    out.push({ field: m[1], value: m[2] ?? (m[3] !== undefined ? m[3] === "true" : Number(m[4])) });
  }
  return out;
}
