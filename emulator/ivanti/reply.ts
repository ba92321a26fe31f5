/** The platform's error bodies, and how caller input is quoted in them. */

/** The ISM error shape: `{code, description, message: [...]}`. */
export function ismError(code: string, description: string, ...message: string[]): { code: string; description: string; message: string[] } {
  return { code, description, message };
}

/** Short, printable echo of caller input for error messages. */
export function echo(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
}
