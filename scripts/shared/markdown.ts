/**
 * Text from an instance (key, user, role and record names, error messages) made safe for
 * what keywire prints: a CI log line, a Markdown table cell, a GitHub issue body. Anyone
 * who can create a record controls part of that text, so every report escapes it here, in
 * one way: no fake log lines, terminal escapes, links, mentions, HTML or broken tables.
 */

/** One line of plain text: control characters (newlines, terminal escapes) become spaces. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex -- these are the characters it removes
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
}

/** Markdown-inert text for a table cell or a paragraph. */
export function md(text: string): string {
  return plain(text)
    .replace(/[\\`*_[\]{}<>|#~!]/g, (c) => `\\${c}`)
    .replace(/@/g, "&#64;") // no @mentions of people or teams
    .replace(/:\/\//g, ":&#47;&#47;"); // no autolinks
}

/** A code span; backticks cannot end it early because there are none left in it. */
export function code(text: string): string {
  return `\`${plain(text).replace(/`/g, "'").replace(/\|/g, "\\|")}\``;
}
