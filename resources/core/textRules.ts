/**
 * Which characters and lengths keywire accepts in what it is given: one set of
 * rules for the stack configuration, every resource's check and the toolchain
 * scripts, so they refuse the same values with the same words.
 *
 * - Control characters (C0, DEL, C1, U+2028/U+2029) are invisible in the instance's
 *   lists and forms, and a line break cannot be carried by an encoded query.
 * - Invisible formatting characters (Unicode category Cf: the bidirectional
 *   controls U+202A–U+202E and U+2066–U+2069, the marks U+200E/U+200F/U+061C, the
 *   zero-width characters U+200B–U+200D, U+2060 and U+FEFF, the soft hyphen, tag
 *   characters) change how a text is shown, not what it is: "keywire key" with a
 *   right-to-left override reads as another record's name in a list.
 * - An address is refused with any of those or any white space anywhere in it,
 *   before it is parsed: URL parsing removes a line break, a tab or a zero-width
 *   space inside a host (`https://dev1.service-now.com\n.evil.com` parses as the host
 *   `dev1.service-now.com.evil.com`), so a parsed URL no longer shows what was given.
 * - Lengths: an address is at most 2048 characters, its host at most 253 and each
 *   label of the host at most 63 (DNS's own limits), so a 70,000-character host
 *   is refused at once.
 * - Configuration values: Pulumi hands the program and its providers the stack's
 *   whole configuration in one environment variable (`PULUMI_CONFIG`), and Linux
 *   refuses to start a process whose single environment string is longer than
 *   128 KiB ("argument list too long"). Each setting keywire reads is capped well
 *   below that, and the whole configuration is held to a budget under it.
 *
 * Messages name the character by its code point and position, never the text,
 * which may be a secret.
 */

/** Longest address (instance URL, host or short name) keywire accepts. */
const ADDRESS_MAX = 2048;
/** DNS: a host name is at most 253 characters, each dot-separated label at most 63. */
const HOST_MAX = 253;
const LABEL_MAX = 63;

/** A single setting (an address, a user name, a password, a client secret, a token). */
export const SETTING_MAX = 4096;
/** A keywire setting, objects included (they arrive as JSON text). */
export const CONFIG_VALUE_MAX = 16 * 1024;
/**
 * The most the whole stack configuration may hold, as JSON: under Linux's 128 KiB
 * for one environment string, with room for the variable's name and the encoding
 * the CLI applies (it escapes `<`, `>` and `&` as six characters each).
 */
export const CONFIG_TOTAL_MAX = 120 * 1024;

/** Key names whose values are secrets wherever they appear (a config key, a property path). */
export const SECRET_NAME = /token|passw(or)?d|secret|credential|private.?key/i;

/**
 * The longest value keywire accepts for a configuration key, or undefined for a key
 * of a namespace keywire does not read (only the whole configuration's budget
 * applies there).
 */
export function configValueMax(key: string): number | undefined {
  const namespace = key.split(":", 1)[0];
  if (namespace === "keywire") return SECRET_NAME.test(key) ? SETTING_MAX : CONFIG_VALUE_MAX;
  if (namespace === "servicenow" || namespace === "freshservice" || namespace === "ivanti") return SETTING_MAX;
  return undefined;
}

/** "is longer than N characters, the most keywire accepts…", with why and what to do; the caller names the key before it. */
export function configValueTooLong(max: number, fix: string): string {
  return (
    `is longer than ${max} characters, the most keywire accepts for this setting ` +
    `(Pulumi hands a stack's whole configuration to the program in one environment variable, which Linux caps at 128 KiB; ` +
    `past it every run stops with "argument list too long"). ${fix}`
  );
}

const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** Control characters a multi-line text may not hold: all but tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex -- these are the characters it refuses
const CONTROL_IN_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/u;
const INVISIBLE = /\p{Cf}/u;
/** Half of a UTF-16 pair without its other half: no character at all, and not encodable as UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;
const SPACE = /\s/u;

/** The first character of `value` that `pattern` matches: its code point and 1-based position. */
function firstMatch(value: string, pattern: RegExp): { codePoint: number; position: number } | undefined {
  let position = 0;
  for (const ch of value) {
    position++;
    if (pattern.test(ch)) return { codePoint: ch.codePointAt(0)!, position };
  }
  return undefined;
}

function codePoint(n: number): string {
  return `U+${n.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** How a refused character is named in a message: a word for the common ones, else its code point. */
function describe(n: number): string {
  const named: Record<number, string> = {
    0x0a: "a line break (U+000A)",
    0x0d: "a carriage return (U+000D)",
    0x09: "a tab (U+0009)",
    0x20: "a space (U+0020)",
    0x00: "a NUL character (U+0000)",
    0xa0: "a no-break space (U+00A0)",
    0x2028: "a line separator (U+2028)",
    0x2029: "a paragraph separator (U+2029)",
  };
  if (named[n]) return named[n];
  if (INVISIBLE.test(String.fromCodePoint(n))) return `an invisible formatting character (${codePoint(n)})`;
  if (CONTROL.test(String.fromCodePoint(n))) return `a control character (${codePoint(n)})`;
  if (n >= 0xd800 && n <= 0xdfff) return `half of a character (${codePoint(n)})`;
  return `white space (${codePoint(n)})`;
}

const ONE_LINE_MESSAGE = "must be one line, without line breaks, tabs or other control characters";
const INVISIBLE_MESSAGE = "must not contain invisible formatting characters";
const INVISIBLE_WHY =
  "bidirectional controls (U+202A–U+202E, U+2066–U+2069), zero-width characters (U+200B–U+200F, U+2060, U+FEFF) and the like " +
  "make one value look like another in the instance's lists; type the value again rather than pasting it";
const LINES_CONTROL_MESSAGE = "must not contain control characters other than line breaks and tabs";

/** Why a one-line text (a name, a user name, a prefix) is refused, or undefined. */
export function oneLineProblem(value: string): string | undefined {
  const invisible = firstMatch(value, INVISIBLE);
  if (invisible) return `${INVISIBLE_MESSAGE} (found ${codePoint(invisible.codePoint)} at character ${invisible.position}): ${INVISIBLE_WHY}`;
  const control = firstMatch(value, CONTROL) ?? firstMatch(value, LONE_SURROGATE);
  if (control) return `${ONE_LINE_MESSAGE} (found ${describe(control.codePoint)} at character ${control.position})`;
  return undefined;
}

/** Why a text that may run over several lines (a description) is refused, or undefined. */
export function multiLineProblem(value: string): string | undefined {
  const invisible = firstMatch(value, INVISIBLE);
  if (invisible) return `${INVISIBLE_MESSAGE} (found ${codePoint(invisible.codePoint)} at character ${invisible.position}): ${INVISIBLE_WHY}`;
  const control = firstMatch(value, CONTROL_IN_LINES) ?? firstMatch(value, LONE_SURROGATE);
  if (control) return `${LINES_CONTROL_MESSAGE} (found ${describe(control.codePoint)} at character ${control.position})`;
  return undefined;
}

/**
 * Why an address (a URL, a host or an instance name) is refused before it is
 * parsed, or undefined: its length, and any white space, control or invisible
 * character anywhere in it. Worded to follow the name of the setting.
 */
export function addressProblem(value: string): string | undefined {
  if (value.length > ADDRESS_MAX) return `is longer than ${ADDRESS_MAX} characters; an address is at most ${ADDRESS_MAX} characters`;
  const bad = firstMatch(value, SPACE) ?? firstMatch(value, CONTROL) ?? firstMatch(value, INVISIBLE) ?? firstMatch(value, LONE_SURROGATE);
  if (bad) {
    return (
      `contains ${describe(bad.codePoint)} at character ${bad.position}; an address may not hold white space, line breaks or invisible characters ` +
      "anywhere (parsing drops some of them, which joins the text around them into another host)"
    );
  }
  return undefined;
}

/** Why a parsed host name is refused (DNS lengths, empty labels), or undefined. Worded to follow the name of the setting. */
export function hostProblem(hostname: string): string | undefined {
  // An IPv6 literal ([::1]) has no DNS labels.
  if (hostname.startsWith("[")) return undefined;
  const host = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  if (host.length > HOST_MAX) return `has a host of ${host.length} characters; a host name is at most ${HOST_MAX} characters`;
  const labels = host.split(".");
  if (labels.some((l) => l === "")) return "has an empty label in its host (two dots in a row, or a leading dot)";
  const long = labels.find((l) => l.length > LABEL_MAX);
  if (long) return `has a label of ${long.length} characters in its host; each dot-separated label is at most ${LABEL_MAX} characters`;
  return undefined;
}
