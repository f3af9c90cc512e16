// The assignment's `[UPDATE] Document updated by A: text` line, one per line typed rather than
// one per keystroke: a client's changes to a document are gathered until it ends a line, or for
// at most a second, then logged once, followed by `Broadcasted update to client B` for each
// client that received them.

import { shorten, type Logger } from '@collab/logging';
import type { UpdateShape } from './update-shape';

/** Past this many recipients the `Broadcasted` lines go to debug level. */
const RECIPIENTS_AT_INFO = 10;

/** An author or recipient: its label is read only when a line is logged (it is built on each read). */
export interface Labelled {
  readonly label: string;
}

interface Pending {
  readonly document: string;
  readonly author: string;
  inserted: string;
  deleted: number;
  readonly recipients: Set<Labelled>;
  timer: NodeJS.Timeout;
}

/** Gathers changes per (document, author) and logs them as few lines as a reader needs. */
export class UpdateLogLines {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly logger: Logger,
    /** Longest a change waits before it is logged. */
    private readonly flushAfterMs = 1000,
  ) {}

  /**
   * Notes a change by `author` to `document`, relayed to `recipients`. Called for every edit:
   * nothing is built when the `[UPDATE]` line is not logged, and the recipients' labels only
   * when their lines are.
   */
  note(document: string, origin: Labelled, shape: UpdateShape, recipients: Iterable<Labelled>): void {
    if (!this.logger.isEnabled('update')) return;
    const author = origin.label;
    const key = `${document}\u0000${author}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = {
        document,
        author,
        inserted: '',
        deleted: 0,
        recipients: new Set(),
        timer: setTimeout(() => this.flush(key), this.flushAfterMs),
      };
      entry.timer.unref();
      this.pending.set(key, entry);
    }
    entry.inserted += shape.inserted;
    entry.deleted += shape.deleted;
    for (const r of recipients) entry.recipients.add(r);
    if (shape.inserted.includes('\n')) this.flush(key);
  }

  /** Logs what `author` changed so far (it leaves, say). */
  flushAuthor(author: string): void {
    for (const [key, entry] of this.pending) if (entry.author === author) this.flush(key);
  }

  /** Logs everything gathered so far. */
  flushAll(): void {
    for (const key of [...this.pending.keys()]) this.flush(key);
  }

  private flush(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.pending.delete(key);
    clearTimeout(entry.timer);
    const text = entry.inserted.replace(/\r?\n$/, '');
    const deleted = entry.deleted === 1 ? '1 character' : `${entry.deleted} characters`;
    let summary: string;
    if (entry.inserted) summary = entry.deleted ? `${shorten(text, 80)} (and deleted ${deleted})` : shorten(text, 80);
    else summary = `(deleted ${deleted})`;
    this.logger.update(`Document updated by ${entry.author}: ${summary}`);
    const level = entry.recipients.size > RECIPIENTS_AT_INFO ? 'debug' : 'info';
    if (!this.logger.isEnabled(level)) return;
    // One line per label: two peers may carry the same one.
    const labels = new Set<string>();
    for (const recipient of entry.recipients) labels.add(recipient.label);
    for (const label of labels) this.logger[level](`Broadcasted update to client ${label}`);
  }
}
