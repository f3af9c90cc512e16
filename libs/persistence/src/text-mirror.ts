// Keeps NAME.txt close behind the live document: a change schedules one write `delayMs` later
// (changes meanwhile ride along, so under steady typing the file is at most about one delay plus
// one write behind), and close() writes the exact final text. A failed write is retried, no
// more than once a second, and reported once until it succeeds again.

import type { PersistenceError } from './errors';

const RETRY_AFTER_FAILURE_MS = 1000;

/** Debounced writer of a document's text file. */
export class TextMirror {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private dirty = false;
  private failing = false;
  private closed = false;

  constructor(
    /** Writes the document's current text (or leaves the file alone when it must). */
    private readonly writeText: () => Promise<void>,
    private readonly delayMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  /** Notes that the text changed; the file follows within about `delayMs`. */
  schedule(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.timer || this.inFlight) return; // the running write reschedules when it ends
    const delay = this.failing ? Math.max(this.delayMs, RETRY_AFTER_FAILURE_MS) : this.delayMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.startWrite();
    }, delay);
    this.timer.unref();
  }

  /** Writes now what a pending timer would have written, and waits for it; a test and shutdown aid. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.startWrite();
      while (this.inFlight) await this.inFlight;
    }
  }

  /** Stops scheduling and writes the exact current text; rejects if that write fails. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.inFlight) await this.inFlight;
    await this.writeText();
  }

  private startWrite(): void {
    this.inFlight = this.writeNow().finally(() => {
      this.inFlight = null;
      if (this.dirty) this.schedule();
    });
  }

  private async writeNow(): Promise<void> {
    this.dirty = false;
    try {
      await this.writeText();
      this.failing = false;
    } catch (err) {
      this.dirty = true;
      if (!this.failing) this.warn(`${(err as PersistenceError).message}; will retry`);
      this.failing = true;
    }
  }
}
