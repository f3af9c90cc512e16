// The document as it was when NAME.txt was last written: the base an outside edit of the file is
// merged against (see text-merge.ts in the core). It is the text written and a Yjs snapshot of the
// live document taken with it (its state vector and delete set: a few bytes per deleted range),
// which tells which of the live document's items made that text. No second copy of the document
// is kept: a write costs one walk over the document's items, not the updates applied again.

import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** A base: the text NAME.txt held, and the snapshot of the document it was written from. */
export interface TextBase {
  readonly text: string;
  readonly snapshot: Uint8Array;
}

/** The live document at one moment: what advance() moves the base to once its text is on disk. */
export interface BaseMark extends TextBase {
  /** Appends counted when it was taken. */
  readonly appends: number;
}

/** The base of NAME.txt: the document as it was at the text last written there. */
export class BaseTracker {
  private base: TextBase | null = null;
  /** Appends so far, and how many the base includes (the base is the live document while they are equal). */
  private appends = 0;
  private baseAppends = -1;

  /** Starts over from `base` (the live document now when `live`; else one found on disk, or a merged outside edit's); null: unknown. */
  reset(base: TextBase | null, live = false): void {
    this.base = base;
    this.baseAppends = live ? this.appends : -1;
  }

  /** An update was applied to the live document and appended. */
  appended(): void {
    this.appends++;
  }

  /** The live document now, whose text is `text`; `snapshot` takes its snapshot. */
  mark(text: string, snapshot: () => Uint8Array): BaseMark {
    return { text, snapshot: snapshot(), appends: this.appends };
  }

  /** The text of `mark` is on disk now: it becomes the base. */
  advance(mark: BaseMark): void {
    this.base = { text: mark.text, snapshot: mark.snapshot };
    this.baseAppends = mark.appends;
  }

  /** The text of the base, when known. */
  get text(): string | null {
    return this.base?.text ?? null;
  }

  /** The base for an outside edit; null when not known. */
  current(): TextBase | null {
    return this.base;
  }

  /** Whether the base is the live document itself (nothing appended since). */
  get upToDate(): boolean {
    return this.base !== null && this.baseAppends === this.appends;
  }

  destroy(): void {
    this.reset(null);
  }
}

/** NAME.base's payload for `base`: the snapshot, then the text. */
export function encodeBaseFile(base: TextBase): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint8Array(encoder, base.snapshot);
  encoding.writeVarString(encoder, base.text);
  return encoding.toUint8Array(encoder);
}

/** The base in a NAME.base payload written by encodeBaseFile; throws when it is not one. */
export function decodeBaseFile(payload: Uint8Array): TextBase {
  const decoder = decoding.createDecoder(payload);
  const snapshot = decoding.readVarUint8Array(decoder);
  const text = decoding.readVarString(decoder);
  if (decoding.hasContent(decoder)) throw new Error('bytes follow the base');
  return { text, snapshot };
}
