/**
 * How a resource property maps to a ServiceNow column, and how values are
 * normalised on both sides so that nothing shows false drift.
 *
 * The Table API speaks only strings ("true", "", "2027-01-01 00:00:00"); programs
 * speak booleans, ISO dates and names. Every comparison the record engine makes is
 * done in *column space* (the exact strings the instance stores), and every value
 * shown back to the program is converted to *input space* here, in one place.
 */

export type FieldKind = "string" | "boolean" | "datetime" | "integer" | "reference" | "list";

export interface FieldDef {
  /** ServiceNow column name. */
  column: string;
  kind: FieldKind;
  /** Changing this field cannot be done in place: the record is replaced. */
  replaceOnChange?: boolean;
  /**
   * Column value written when the input is absent. (Not named `default`: the
   * closure serializer mistakes any object with a `default` key for a module.)
   */
  defaultValue?: string;
  /**
   * For references and lists given by name rather than sys_id: the table and
   * the column that holds the name (e.g. sys_user.user_name).
   */
  lookup?: { table: string; by: string };
  /**
   * Never compare or write this field after creation (e.g. a value only the
   * instance can change). Still read and shown.
   */
  createOnly?: boolean;
}

export type InputValue = string | boolean | number | string[] | undefined | null;

const SYS_ID = /^[0-9a-f]{32}$/;

export function isSysId(value: unknown): value is string {
  return typeof value === "string" && SYS_ID.test(value);
}

/** A `Date` as ServiceNow stores it: `YYYY-MM-DD HH:MM:SS`, UTC. */
export function formatGlideDateTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace("T", " ");
}

/**
 * Parses what a program may give for a date-time: ISO 8601 (with `Z` or an
 * offset), a bare date, or the Glide form. Returns undefined when it is none of
 * those, so validation can name the property.
 *
 * Strict: JavaScript's Date rolls impossible values over (Feb 30 becomes Mar 2,
 * 24:00 the next day), which would write a date nobody asked for; every part is
 * checked against the calendar instead.
 */
export function parseDateTime(value: string): Date | undefined {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:(?:T| )(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "00", mi = "00", s, fraction = "", zone] = m;
  const isoT = value.trim().charAt(10) === "T";
  // The forms accepted: a bare date; the Glide form (space, seconds, no zone, no
  // fraction), which is UTC; ISO with a T, a zone, and optional seconds.
  const bare = m[4] === undefined;
  const glide = !bare && !isoT && s !== undefined && fraction === "" && zone === undefined;
  const iso = !bare && isoT && zone !== undefined;
  if (!bare && !glide && !iso) return undefined;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s ?? "00"].map(Number);
  const utc = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Round trip: an impossible part (month 13, day 30 of February, hour 24,
  // minute 61) comes back different.
  if (
    utc.getUTCFullYear() !== year ||
    utc.getUTCMonth() !== month - 1 ||
    utc.getUTCDate() !== day ||
    utc.getUTCHours() !== hour ||
    utc.getUTCMinutes() !== minute ||
    utc.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== "Z") {
    const [oh, om] = zone.slice(1).split(":").map(Number);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (oh * 60 + om);
  }
  const ms = fraction === "" ? 0 : Math.floor(Number(`0${fraction}`) * 1000);
  return new Date(utc.getTime() + ms - offsetMinutes * 60_000);
}

/** Line endings and absent values are the only string differences nobody means. */
function normaliseString(value: string): string {
  return value.replace(/\r\n/g, "\n");
}

/**
 * Input-space value → column-space string, for every kind that needs no lookup.
 * References and lists given by name are resolved by the engine, not here.
 */
export function toColumn(def: FieldDef, value: InputValue): string {
  if (value === undefined || value === null) return def.defaultValue ?? "";
  switch (def.kind) {
    case "boolean":
      if (typeof value === "boolean") return value ? "true" : "false";
      return String(value).toLowerCase() === "true" ? "true" : "false";
    case "integer":
      return String(value).trim();
    case "datetime": {
      if (typeof value !== "string" || value.trim() === "") return "";
      const d = parseDateTime(value);
      return d ? formatGlideDateTime(d) : value;
    }
    case "list":
      return (Array.isArray(value) ? value : String(value).split(","))
        .map((s) => s.trim())
        .filter((s) => s !== "")
        .join(",");
    case "reference":
      return String(value).trim();
    case "string":
      return normaliseString(String(value));
  }
}

/** Column-space string → the value shown to the program. */
export function fromColumn(def: FieldDef, column: string | undefined): string | boolean | string[] {
  const v = column ?? "";
  switch (def.kind) {
    case "boolean":
      return v === "true";
    case "list":
      return v === "" ? [] : v.split(",").map((s) => s.trim());
    default:
      return v;
  }
}

/**
 * Lists are sets in ServiceNow (a glide_list has no meaningful order), so two
 * lists that differ only in order are the same value.
 */
export function sameColumnValue(def: FieldDef, a: string, b: string): boolean {
  if (def.kind === "list") {
    const sa = a.split(",").filter((s) => s !== "").sort().join(",");
    const sb = b.split(",").filter((s) => s !== "").sort().join(",");
    return sa === sb;
  }
  return a === b;
}

/** Whether an input names records by sys_id already (no lookup needed). */
export function needsLookup(def: FieldDef, value: InputValue): boolean {
  if (!def.lookup || value === undefined || value === null || value === "") return false;
  if (def.kind === "reference") return !isSysId(value);
  if (def.kind === "list") {
    const items = Array.isArray(value) ? value : String(value).split(",");
    return items.some((s) => s.trim() !== "" && !isSysId(s.trim()));
  }
  return false;
}
