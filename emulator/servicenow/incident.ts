/**
 * Incident behaviour beyond plain columns: the choice labels of the incident fields and the
 * default priority data lookup, which derives priority from impact and urgency.
 */
import type { GlideRecord } from "./types";

export const IMPACT_CHOICES: Record<string, string> = { "1": "1 - High", "2": "2 - Medium", "3": "3 - Low" };
export const URGENCY_CHOICES: Record<string, string> = { "1": "1 - High", "2": "2 - Medium", "3": "3 - Low" };
export const PRIORITY_CHOICES: Record<string, string> = {
  "1": "1 - Critical",
  "2": "2 - High",
  "3": "3 - Moderate",
  "4": "4 - Low",
  "5": "5 - Planning",
};
/** The values the reference lists; there is no 2. */
export const HOLD_REASON_CHOICES: Record<string, string> = {
  "1": "Awaiting Caller",
  "3": "Awaiting Problem",
  "4": "Awaiting Vendor",
  "5": "Awaiting Change",
};

/** The default priority lookup, keyed `impact/urgency`. */
const PRIORITY_LOOKUP = new Map([
  ["1/1", "1"],
  ["1/2", "2"],
  ["2/1", "2"],
  ["1/3", "3"],
  ["2/2", "3"],
  ["3/1", "3"],
  ["2/3", "4"],
  ["3/2", "4"],
  ["3/3", "5"],
]);

/** The priority the default lookup gives for these values, or undefined when no lookup row matches. */
function lookupPriority(impact: string, urgency: string): string | undefined {
  return PRIORITY_LOOKUP.get(`${impact}/${urgency}`);
}

/**
 * Runs the lookup on a row being written, as the platform does on insert and update: a
 * priority sent by the client is overwritten. Without a matching row the priority is kept.
 */
export function applyPriorityLookup(rec: GlideRecord): void {
  const derived = lookupPriority(rec.impact ?? "", rec.urgency ?? "");
  if (derived !== undefined) rec.priority = derived;
}
