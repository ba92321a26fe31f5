/**
 * Date-times as ServiceNow stores them (`YYYY-MM-DD HH:MM:SS`, UTC) and as programs
 * give them. Pure functions: the drift report and the key's inputs use them without
 * loading the record engine.
 */
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
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:(?:T| )(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(value.trim());
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
