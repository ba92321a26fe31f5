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
