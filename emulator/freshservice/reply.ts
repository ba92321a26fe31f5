/** The platform's error bodies: `{code, message}` and the validation list. */
import type { FieldError } from "./validation";

export const MESSAGES = {
  invalid_credentials: "You have to be logged in to perform this action.",
  access_denied: "You are not authorized to perform this action.",
  require_feature: "This module is not enabled for the account.",
  not_found: "There is no such resource.",
  method_not_allowed: "This method is not allowed on this resource.",
  rate_limited: "The account's per-minute API limit is used up; retry after the time in Retry-After.",
  invalid_content_type: "Content-Type must be application/json.",
  server_error: "Something went wrong on the server.",
} as const;

export function codeBody(code: keyof typeof MESSAGES | string, message?: string): { code: string; message: string } {
  return {
    code,
    message: message ?? (MESSAGES as Record<string, string>)[code] ?? MESSAGES.server_error,
  };
}

export function validationBody(errors: FieldError[]): { description: string; errors: FieldError[] } {
  return { description: "Validation failed", errors };
}

/** An answer as a value: a handler returns one, and the pipeline counts it and puts it on the wire. */
export interface Reply {
  status: number;
  /** Sent as JSON; undefined sends no body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The client went away mid-request: the answer is counted, nothing is sent. */
  unsent?: boolean;
}

export function codeReply(status: number, code: keyof typeof MESSAGES | string, message?: string, headers?: Record<string, string>): Reply {
  return { status, body: codeBody(code, message), headers };
}

export function validationReply(errors: FieldError[], status = 400): Reply {
  return { status, body: validationBody(errors) };
}

export function notFound(): Reply {
  return codeReply(404, "not_found");
}
