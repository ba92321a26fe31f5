/**
 * JSON snapshots written atomically: a temporary file in the same directory, fsync, rename,
 * then fsync of the directory. A kill at any moment leaves either the old or the new file.
 * Bursts of writes coalesce into one snapshot; flush() waits for everything pending.
 */
import { closeSync, fsyncSync, openSync, readFileSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Snapshot } from "./store";

const COALESCE_MS = 25;

export function readSnapshot(file: string): Snapshot | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as Snapshot;
  } catch {
    throw new Error(`data file ${file} is not valid JSON; move it away to start from the seed`);
  }
}

export class SnapshotWriter {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private seq = 0;
  lastError: Error | undefined;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => Snapshot,
  ) {}

  schedule(): void {
    this.dirty = true;
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, COALESCE_MS);
    this.timer.unref();
  }

  private run(): Promise<void> {
    if (!this.running) {
      this.running = (async () => {
        try {
          // Writes that arrive while one snapshot is on its way are caught by the next turn.
          while (this.dirty) {
            this.dirty = false;
            await this.writeOnce(JSON.stringify(this.snapshot()));
          }
        } catch (e) {
          this.lastError = e as Error;
        } finally {
          this.running = undefined;
        }
      })();
    }
    return this.running;
  }

  private async writeOnce(text: string): Promise<void> {
    const dir = dirname(this.file);
    const tmp = join(dir, `.${basename(this.file)}.${process.pid}.${++this.seq}.tmp`);
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.writeFile(text, "utf8");
      await fh.sync();
    } catch (e) {
      await fh.close();
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    await fh.close();
    await rename(tmp, this.file);
    try {
      const d = openSync(dir, "r");
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    } catch {
      // Some filesystems refuse fsync on a directory; the rename is still atomic.
    }
  }

  /** Writes whatever is pending and waits for it. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running) await this.running;
    if (this.dirty) await this.run();
    if (this.lastError) {
      const e = this.lastError;
      this.lastError = undefined;
      throw e;
    }
  }
}
