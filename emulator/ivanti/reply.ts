/** The platform's error bodies, and how caller input is quoted in them. */

/** The ISM error shape: `{code, description, message: [...]}`. */
export function ismError(code: string, description: string, ...message: string[]): { code: string; description: string; message: string[] } {
  return { code, description, message };
}

/** Short, printable echo of caller input for error messages. */
export function echo(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
}

/** An answer as a value: a handler returns one, and the pipeline counts it and puts it on the wire. */
export type Reply = { status: number; json: unknown; headers?: Record<string, string> } | { status: number; text: string; contentType: string };

export function invalidPath(): Reply {
  return { status: 404, json: ismError("ISM_4004", "Requested resource does not exist", "Invalid Path") };
}

export function badRequest(message: string): Reply {
  return { status: 400, json: ismError("ISM_4000", "Invalid Request Payload", message) };
}
