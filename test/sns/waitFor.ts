/** Polls `probe` until it returns a value, at most `timeoutMs` long; then fails naming `what`. */
export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const tries = Math.ceil(timeoutMs / intervalMs) + 1;
  for (let i = 0; i < tries && Date.now() <= deadline; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`waited ${timeoutMs} ms for ${what}`);
}
