// A plain-text copy of a document, edited outside the server, turned into a Yjs update that the
// CRDT merges with whatever was typed meanwhile (a three-way merge):
//
//   base   the document as it was when the server last wrote the file (its text, and its state)
//   file   the text found in the file now
//   live   the document now, which may hold typing that came after the base
//
// The file is diffed against the base text, not against the live text, and the diff is applied
// to a copy of the document at the base state. Its update (the new items, the deletions) is
// then applied to the live document, where Yjs merges it with the typing since the base as it
// merges any two peers' concurrent edits: both survive. Diffing against the live text instead
// would undo that typing, since the file never saw it.
//
// The copy edits under a client id derived from the base and the file, so merging the same file
// onto the same base twice (a crash after the merge was stored but before the file was marked as
// merged) makes the same items, which Yjs applies once.

import * as Y from 'yjs';
import { digest } from 'lib0/hash/sha256';
import { TEXT_NAME } from '@collab/collab-protocol';
import { diffText, type TextChange } from './text-diff';

/** The document at the base, as a storage hands it over. */
export interface MergeBase {
  /** The text the server last wrote to the file. */
  readonly text: string;
  /** Yjs updates that rebuild the document as it was when that text was written, applied in order. */
  readonly state: readonly Uint8Array[];
}

/** What mergeFileText found. */
export type FileMerge =
  /** The update to apply to the live document (null when the file holds the base text: nothing to merge). */
  | {
      readonly kind: 'three-way';
      readonly update: Uint8Array | null;
      readonly changes: readonly TextChange[];
      /** The copy at the base with the file's changes: a document whose text is the file's. */
      readonly fileState: Uint8Array;
    }
  /** The base cannot be used (why says it): merge against the live text instead. */
  | { readonly kind: 'no-base'; readonly why: string };

const encoder = new TextEncoder();

/** A client id (uint32, as Yjs makes them) that depends only on the base state and the two texts. */
function mergeClientId(baseStateVector: Uint8Array, baseText: string, fileText: string): number {
  const parts = [baseStateVector, encoder.encode(baseText), new Uint8Array([0]), encoder.encode(fileText)];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const hash = digest(all);
  return ((hash[0] << 24) | (hash[1] << 16) | (hash[2] << 8) | hash[3]) >>> 0;
}

/** Applies `changes` (indexes in the text as it is before them) to `text`. */
export function applyChangesToYText(text: Y.Text, changes: readonly TextChange[]): void {
  for (let i = changes.length - 1; i >= 0; i--) {
    const { index, deleteCount, insert } = changes[i];
    if (deleteCount > 0) text.delete(index, deleteCount);
    if (insert) text.insert(index, insert);
  }
}

/**
 * The update that merges `fileText` into `live` three-way against `base`, or why the base
 * cannot be used: its state does not rebuild (or waits for changes it lacks), its text is not
 * `base.text`, or it holds changes the live document does not have.
 */
export function mergeFileText(live: Y.Doc, base: MergeBase, fileText: string): FileMerge {
  const copy = new Y.Doc();
  try {
    try {
      copy.transact(() => {
        for (const update of base.state) Y.applyUpdate(copy, update);
      });
    } catch (error) {
      return { kind: 'no-base', why: `its recorded state cannot be applied (${(error as Error).message})` };
    }
    if (copy.store.pendingStructs || copy.store.pendingDs) return { kind: 'no-base', why: 'its recorded state is incomplete' };
    const text = copy.getText(TEXT_NAME);
    if (text.toString() !== base.text) return { kind: 'no-base', why: 'its recorded state does not hold the text last written' };
    const stateVector = Y.encodeStateVector(copy);
    for (const [client, clock] of Y.decodeStateVector(stateVector)) {
      if (Y.getState(live.store, client) < clock) return { kind: 'no-base', why: 'its recorded state holds changes the document lacks' };
    }
    const changes = diffText(base.text, fileText);
    if (changes.length === 0) return { kind: 'three-way', update: null, changes, fileState: Y.encodeStateAsUpdate(copy) };
    copy.clientID = mergeClientId(stateVector, base.text, fileText);
    copy.transact(() => applyChangesToYText(text, changes));
    return { kind: 'three-way', update: Y.encodeStateAsUpdate(copy, stateVector), changes, fileState: Y.encodeStateAsUpdate(copy) };
  } finally {
    copy.destroy();
  }
}

/** The length of `doc`'s text once `update` is applied (on a copy: `doc` is left as it is). */
export function textLengthAfter(doc: Y.Doc, update: Uint8Array): number {
  const copy = new Y.Doc();
  try {
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
    Y.applyUpdate(copy, update);
    return copy.getText(TEXT_NAME).length;
  } finally {
    copy.destroy();
  }
}
