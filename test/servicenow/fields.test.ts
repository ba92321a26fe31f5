/**
 * Dates a program gives are read strictly: a date that does not exist is refused,
 * never rolled over into another day by JavaScript's Date.
 */
import { formatGlideDateTime, parseDateTime } from "../../resources/servicenow/engine/glideDateTime";

describe("parseDateTime", () => {
  test.each([
    ["2027-01-31", "2027-01-31 00:00:00"],
    ["2027-01-31 23:59:59", "2027-01-31 23:59:59"],
    ["2027-01-31T12:30:00Z", "2027-01-31 12:30:00"],
    ["2027-01-31T12:30Z", "2027-01-31 12:30:00"],
    ["2027-01-31T12:30:00.250Z", "2027-01-31 12:30:00"],
    ["2027-02-01T01:00:00+02:00", "2027-01-31 23:00:00"],
    ["2028-02-29", "2028-02-29 00:00:00"],
  ])("accepts %s", (input, glide) => {
    const d = parseDateTime(input);
    expect(d).toBeDefined();
    expect(formatGlideDateTime(d!)).toBe(glide);
  });

  test.each([
    "2027-02-30",
    "2027-02-29",
    "2027-13-01",
    "2027-00-10",
    "2027-04-31",
    "2027-01-00",
    "2027-01-31 24:00:00",
    "2027-01-31 24:61:00",
    "2027-01-31 12:61:00",
    "2027-01-31 12:00:60",
    "2027-01-31T25:00:00Z",
    "2027-02-30T00:00:00Z",
    "2027-01-31T12:00:00+24:00",
    "2027-01-31T12:00:00+05:75",
    "next tuesday",
    // Forms that leave the zone or the seconds unclear.
    "2027-01-31T12:00:00",
    "2027-01-31 12:00",
    "2027-01-31 12:00:00Z",
  ])("refuses %s, which is not a real date-time", (input) => {
    expect(parseDateTime(input)).toBeUndefined();
  });
});
