// Keeps NAME.txt close behind the live document: a change schedules one write `delayMs` later
// (changes meanwhile ride along, so under steady typing the file is at most about one delay plus
// one write behind), and close() writes the exact final text. A failed write is retried, no
// more than once a second, and reported once until it succeeds again.
//
// The event loop is held while a write reads the document (its text, its snapshot): a few
// milliseconds for a document of tens of thousands of separate insertions, during which no
// client's edit is relayed. So writes under steady typing are also kept at least
// BUSY_FACTOR times that time apart (up to MAX_BUSY_DELAY_MS): the file's share of the loop
// stays near 0.5%, below what a 99th percentile of edit latency sees, and the file of a large
// document lags by up to that much more.

import type { PersistenceError } from './errors';

const RETRY_AFTER_FAILURE_MS = 1000;
/** Writes are at least this many times the event loop's time in the last one apart, ... */
export const BUSY_FACTOR = 200;
/** ... but need not be more than this apart. */
export const MAX_BUSY_DELAY_MS = 2000;

/** Debounced writer of a document's text file. */
export class TextMirror {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private dirty = false;
  private failing = false;
  private closed = false;
  /** The event loop's time in the last write (see noteBusy). */
  private busyMs = 0;

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
    const busy = Math.min(BUSY_FACTOR * this.busyMs, MAX_BUSY_DELAY_MS);
    const delay = Math.max(this.delayMs, busy, this.failing ? RETRY_AFTER_FAILURE_MS : 0);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.startWrite();
    }, delay);
    this.timer.unref();
  }

  /** How long the write under way held the event loop (reading the document), in ms. */
  noteBusy(ms: number): void {
    this.busyMs = ms;
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
