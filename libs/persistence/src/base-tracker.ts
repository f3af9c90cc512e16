// The document as it was when NAME.txt was last written: the base an outside edit of the file is
// merged against (see text-merge.ts in the core). A second Y.Doc trails the live one: every update
// appended is kept until the text that includes it is on disk, then applied here, so a write costs
// the updates since the previous one, not the whole document. Only a base that is not known yet
// (at load, when the file was stale or missing) is taken whole, once.

import * as Y from 'yjs';
import { TEXT_NAME } from '@collab/collab-core';

/** Updates kept past this many while NAME.txt cannot be written: the base is dropped (outside edits then merge against the live text) rather than memory grown without end. */
const MAX_PENDING_UPDATES = 100_000;

/** The live document at one moment: what advance() moves the base to once its text is on disk. */
export interface BaseMark {
  readonly text: string;
  /** Pending updates it includes. */
  readonly count: number;
  /** The whole state, when the base was not known before. */
  readonly state?: Uint8Array;
}

/** The base of NAME.txt: the document as it was at the text last written there. */
export class BaseTracker {
  private doc: Y.Doc | null = null;
  private baseText: string | null = null;
  /** Updates appended since the base, in order; recorded only while there is, or is about to be, a base. */
  private pending: Uint8Array[] = [];
  private recording = false;

  /** Starts over from the document whose state `state` rebuilds and whose text is `text`; null: unknown. */
  reset(state: readonly Uint8Array[] | null, text: string | null): void {
    this.doc?.destroy();
    this.doc = null;
    this.baseText = null;
    this.pending = [];
    this.recording = false;
    if (!state || text === null) return;
    const doc = new Y.Doc();
    doc.transact(() => {
      for (const update of state) Y.applyUpdate(doc, update);
    });
    this.doc = doc;
    this.baseText = text;
    this.recording = true;
  }

  /**
   * Makes the document `state` rebuilds, whose text is `text`, the base, keeping the updates
   * recorded since the old one (a merged outside edit: its text is now the file's). `state`
   * must hold nothing the live document lacks; updates it already holds apply as nothing.
   */
  rebase(state: Uint8Array, text: string): void {
    this.doc?.destroy();
    this.doc = new Y.Doc();
    Y.applyUpdate(this.doc, state);
    this.baseText = text;
    this.recording = true;
  }

  /** An update was applied to the live document and appended. */
  appended(update: Uint8Array): void {
    if (!this.recording) return;
    this.pending.push(update);
    if (this.pending.length > MAX_PENDING_UPDATES) this.reset(null, null);
  }

  /** The live document now, whose text is `text`; `state` reads its whole state when the base is not known. */
  mark(text: string, state: () => Uint8Array): BaseMark {
    if (this.doc) return { text, count: this.pending.length };
    // From here on every update is recorded, so the base can follow once this state is on disk.
    this.pending = [];
    this.recording = true;
    return { text, count: 0, state: state() };
  }

  /** The text of `mark` is on disk now: it becomes the base. */
  advance(mark: BaseMark): void {
    if (mark.state) {
      this.doc?.destroy();
      this.doc = new Y.Doc();
      Y.applyUpdate(this.doc, mark.state);
    } else if (!this.doc) {
      return;
    } else {
      const doc = this.doc;
      const updates = this.pending.slice(0, mark.count);
      doc.transact(() => {
        for (const update of updates) Y.applyUpdate(doc, update);
      });
    }
    this.pending.splice(0, mark.count);
    this.baseText = mark.text;
  }

  /** The text of the base, when known. */
  get text(): string | null {
    return this.doc ? this.baseText : null;
  }

  /** The base for an outside edit: its text and a state that rebuilds it; null when not known. */
  current(): { text: string; state: Uint8Array[] } | null {
    if (!this.doc || this.baseText === null) return null;
    return { text: this.baseText, state: [Y.encodeStateAsUpdate(this.doc)] };
  }

  /** Whether the base is the live document itself (nothing appended since). */
  get upToDate(): boolean {
    return this.doc !== null && this.pending.length === 0;
  }

  destroy(): void {
    this.reset(null, null);
  }
}

/** The text of the document that `state` rebuilds; throws when Yjs cannot apply it. */
export function textOfState(state: readonly Uint8Array[]): string {
  const doc = new Y.Doc();
  try {
    doc.transact(() => {
      for (const update of state) Y.applyUpdate(doc, update);
    });
    return doc.getText(TEXT_NAME).toString();
  } finally {
    doc.destroy();
  }
}
