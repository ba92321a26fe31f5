/**
 * A key's record name carries its generation (`<name>`, then `<name> #2`, ...), so a
 * rotation's new key never shares a name with the one it replaces. Pure: the drift
 * report reads names without loading the key's provider.
 */
/** The record's name: the program's name, with the generation from the first rotation on. */
export function keyRecordName(name: string, generation: number | undefined): string {
  return generation !== undefined && generation > 1 ? `${name} #${generation}` : name;
}

/** The generation a record name gives for the program's name (`<name>` is 1, `<name> #n` is n), or undefined. */
export function generationOfRecord(name: string, recordName: string): number | undefined {
  if (recordName === name) return 1;
  if (!recordName.startsWith(`${name} #`)) return undefined;
  const n = recordName.slice(name.length + 2);
  return /^[1-9][0-9]{0,5}$/.test(n) ? Number(n) : undefined;
}
