/**
 * When an API key is due for rotation, which generation it is, and when it expires:
 * decided from its inputs and outputs alone (pure), so check and diff show a rotation
 * in the preview without a call. A due rotation raises the generation; the record
 * name carries it (recordName.ts).
 */
import { formatGlideDateTime, parseDateTime } from "../engine/glideDateTime";
import type { Inputs, RecordOutputs } from "../engine/spec";
import type { RotationSettings } from "./rotation";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Why a key is due for rotation at `now`, or undefined. Pure, so preview can show it without a call. */
export function rotationDue(olds: RecordOutputs, rotation: RotationSettings | undefined, now: Date): string | undefined {
  const created = typeof olds.createdAt === "string" ? parseDateTime(olds.createdAt) : undefined;
  const expires = olds.columns?.expires ? parseDateTime(olds.columns.expires) : undefined;
  return dueReason(created, expires, rotation, now);
}

function dueReason(issued: Date | undefined, expires: Date | undefined, rotation: RotationSettings | undefined, now: Date): string | undefined {
  if (!rotation) return undefined;
  if (rotation.maxAgeDays !== undefined && issued && now.getTime() - issued.getTime() >= rotation.maxAgeDays * DAY_MS) {
    return `older than ${rotation.maxAgeDays} days`;
  }
  if (rotation.rotateBeforeExpiryDays !== undefined && expires && expires.getTime() - now.getTime() <= rotation.rotateBeforeExpiryDays * DAY_MS) {
    return `expires within ${rotation.rotateBeforeExpiryDays} days`;
  }
  return undefined;
}

/**
 * Whether these inputs start a new generation of a key already in the state (a
 * rotation: a changed trigger or a due age or expiry). Pure. Old inputs without a
 * generation (a key not in the state, or a state from before generations) start none
 * here; diff decides a rotation of the latter from its outputs.
 */
export function rotationStarts(olds: Inputs, news: Inputs, now: Date): boolean {
  if (typeof olds.generation !== "number") return false;
  return keyGeneration(olds, news, now).generation !== olds.generation;
}

/**
 * The key's generation and when it was issued, derived in check from the old
 * inputs: a changed trigger or a due rotation starts the next generation. Pure.
 */
export function keyGeneration(olds: Inputs, news: Inputs, now: Date): { generation: number; issuedAt: string } {
  const previous = typeof olds.generation === "number" ? olds.generation : undefined;
  const issuedAt = typeof olds.issuedAt === "string" ? olds.issuedAt : undefined;
  const fresh = formatGlideDateTime(now);
  if (previous === undefined || issuedAt === undefined) return { generation: previous ?? 1, issuedAt: issuedAt ?? fresh };
  const rotation = news.rotation as RotationSettings | undefined;
  const oldRotation = olds.rotation as RotationSettings | undefined;
  const triggered = rotation?.trigger !== undefined && rotation.trigger !== oldRotation?.trigger;
  const issued = parseDateTime(issuedAt);
  const expires =
    typeof news.expires === "string" && news.expires !== ""
      ? parseDateTime(news.expires)
      : typeof news.expiresInDays === "number" && issued
        ? new Date(issued.getTime() + news.expiresInDays * DAY_MS)
        : undefined;
  if (triggered || dueReason(issued, expires, rotation, now)) return { generation: previous + 1, issuedAt: fresh };
  return { generation: previous, issuedAt };
}

/** The expiry to write: an explicit date, or issue time + expiresInDays (kept stable across runs). */
export function expiryColumn(inputs: Inputs, olds: RecordOutputs | undefined, now: Date): string | undefined {
  if (typeof inputs.expiresInDays !== "number") return undefined;
  if (olds && olds.expiresInDays === inputs.expiresInDays && typeof olds.expiresAt === "string") return olds.expiresAt;
  const issued = typeof inputs.issuedAt === "string" ? parseDateTime(inputs.issuedAt) : undefined;
  return formatGlideDateTime(new Date((issued ?? now).getTime() + inputs.expiresInDays * DAY_MS));
}
