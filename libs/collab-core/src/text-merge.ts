// A plain-text copy of a document, edited outside the server, merged into the live document with
// whatever was typed meanwhile (a three-way merge):
//
//   base   the document as it was when the server last wrote the file: its text, and a Yjs
//          snapshot of it (the state vector and the delete set then)
//   file   the text found in the file now
//   live   the document now, which may hold typing that came after the base
//
// The file is diffed against the base text, not against the live text: diffing against the live
// text would undo the typing, since the file never saw it. The snapshot says which of the live
// document's items made the base text (those inserted before the base's state vector and not in
// its delete set: Yjs keeps a deleted item's place and length, only its content goes), so each
// change of the file lands at the characters it changed, wherever they are now: a deletion
// deletes those characters (unless someone deleted them meanwhile), an insertion goes right before
// the character after it (deleted meanwhile or not), so a replacement takes the place of what it
// replaces and the file's order holds. No second copy of the document is kept for this: the
// snapshot is a few bytes per deleted range.
//
// The insertions are made under a client id derived from the base and the file, so a merge found
// in the document already (a crash after the merge was stored but before the file was recorded
// as merged) is not made twice; its deletions, made again, change nothing.

import * as Y from 'yjs';
import { digest } from 'lib0/hash/sha256';
import { TEXT_NAME } from '@collab/collab-protocol';
import { diffText, type TextChange } from './text-diff';

/** The document at the base, as a storage hands it over. */
export interface MergeBase {
  /** The text the server last wrote to the file. */
  readonly text: string;
  /** Y.encodeSnapshot of the document when that text was written (see snapshotOfDoc). */
  readonly snapshot?: Uint8Array | null;
  /** Or: Yjs updates that rebuild the document as it was then, applied in order. */
  readonly state?: readonly Uint8Array[] | null;
}

/** A plan that merges the file into the live document: run `apply` inside a transaction of it. */
export interface ThreeWayMerge {
  readonly kind: 'three-way';
  /** Makes the file's changes in the live document; null when there is nothing to make (the file holds the base, or this merge is in already). */
  readonly apply: ((text: Y.Text) => void) | null;
  readonly changes: readonly TextChange[];
  /** Length of the live text once applied. */
  readonly lengthAfter: number;
  /**
   * Once applied (at once, before anything else changes the document): the snapshot of a base
   * whose text is the file's, for the next outside edit; null when the live document no longer
   * holds it (a merge found made already, whose insertions were deleted since).
   */
  fileSnapshot(): Uint8Array | null;
}

/** What mergeFileText found. */
export type FileMerge = ThreeWayMerge | { readonly kind: 'no-base'; readonly why: string };

const encoder = new TextEncoder();

/** Y.encodeSnapshot of `doc` now: its state vector and delete set. */
export function snapshotOfDoc(doc: Y.Doc): Uint8Array {
  return Y.encodeSnapshot(Y.snapshot(doc));
}

/** The text and snapshot of the document `state` rebuilds; throws when Yjs cannot apply it, or it waits for changes it lacks. */
export function snapshotOfState(state: readonly Uint8Array[]): { text: string; snapshot: Uint8Array } {
  const doc = new Y.Doc();
  try {
    doc.transact(() => {
      for (const update of state) Y.applyUpdate(doc, update);
    });
    if (doc.store.pendingStructs || doc.store.pendingDs) throw new Error('it depends on changes it does not hold');
    return { text: doc.getText(TEXT_NAME).toString(), snapshot: snapshotOfDoc(doc) };
  } finally {
    doc.destroy();
  }
}

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

/** Deleted ranges of one client in a delete set, sorted by clock (as Yjs encodes and builds them). */
type Ranges = ReadonlyArray<{ clock: number; len: number }>;

/** The first range of `ranges` that ends after `clock`. */
function firstEndingAfter(ranges: Ranges, clock: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid].clock + ranges[mid].len <= clock) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Calls `visit(from, to)` for each stretch of clocks of `item` that is visible in `snapshot`:
 * inserted before its state vector and not in its delete set.
 */
function forVisibleIn(snapshot: Y.Snapshot, item: Y.Item, visit: (from: number, to: number) => void): void {
  const { client, clock } = item.id;
  const end = Math.min(clock + item.length, snapshot.sv.get(client) ?? 0);
  if (end <= clock) return;
  const ranges: Ranges = snapshot.ds.clients.get(client) ?? [];
  let at = clock;
  for (let r = firstEndingAfter(ranges, at); at < end; r++) {
    const range = ranges[r];
    if (!range || range.clock >= end) {
      visit(at, end);
      return;
    }
    if (range.clock > at) visit(at, range.clock);
    at = Math.max(at, range.clock + range.len);
  }
}

/** The items of the document's text, first to last (deleted ones too: they keep their place). */
function* itemsOf(doc: Y.Doc): Generator<Y.Item> {
  for (let item = doc.getText(TEXT_NAME)._start; item !== null; item = item.right) yield item;
}

/** A stretch of the base text made by one live item: where it is in the base and in the live text. */
interface Segment {
  /** Index of its first character in the base text. */
  readonly base: number;
  readonly length: number;
  /** Alive (not deleted since the base): the live index of its first character; else how many live characters come before it. */
  readonly live: number;
  readonly alive: boolean;
  /** The Yjs id of its first character. */
  readonly client: number;
  readonly clock: number;
}

/** Finds the base text's characters among the live items, in order; a reason when they do not make that text. */
function layOut(live: Y.Doc, snapshot: Y.Snapshot, baseText: string): Segment[] | string {
  const segments: Segment[] = [];
  let j = 0;
  let liveCount = 0;
  let mismatch = false;
  for (const item of itemsOf(live)) {
    const alive = !item.deleted && item.countable;
    if (alive && !(item.content instanceof Y.ContentString)) return 'the document holds more than text';
    forVisibleIn(snapshot, item, (from, to) => {
      const length = to - from;
      const offset = from - item.id.clock;
      mismatch ||=
        j + length > baseText.length ||
        (alive && (item.content as Y.ContentString).str.slice(offset, offset + length) !== baseText.slice(j, j + length));
      if (mismatch) return;
      segments.push({ base: j, length, live: liveCount + (alive ? offset : 0), alive, client: item.id.client, clock: from });
      j += length;
    });
    if (mismatch) break;
    if (alive) liveCount += item.length;
  }
  if (mismatch || j !== baseText.length) return 'its recorded state does not hold the text last written';
  return segments;
}

/** Index of the segment holding base character `j` (segments cover the base text in order). */
function segmentAt(segments: readonly Segment[], j: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (segments[mid].base <= j) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Calls `visit(segment, from, to)` for the part [from, to) of each segment within the base range [start, end), last first. */
function overlapsBackwards(
  segments: readonly Segment[],
  start: number,
  end: number,
  visit: (segment: Segment, from: number, to: number) => void,
): void {
  if (start >= end) return;
  for (let s = segmentAt(segments, end - 1); s >= 0 && segments[s].base + segments[s].length > start; s--) {
    const segment = segments[s];
    visit(segment, Math.max(start, segment.base), Math.min(end, segment.base + segment.length));
  }
}

/** `ds` with the ranges `deleted` (client -> ranges) added. */
function withDeleted(ds: Y.Snapshot['ds'], deleted: Map<number, Array<{ clock: number; len: number }>>): Y.Snapshot['ds'] {
  const extra = Y.createDeleteSet();
  // Yjs's DeleteItem is this shape; mergeDeleteSets sorts and joins the ranges.
  for (const [client, ranges] of deleted) extra.clients.set(client, ranges as never);
  return Y.mergeDeleteSets([ds, extra]);
}

/**
 * The merge of `fileText` into `live` three-way against `base`, or why the base cannot be used:
 * it cannot be read, its state does not rebuild, it holds changes the live document does not
 * have, or its characters in the live document do not make `base.text`.
 */
export function mergeFileText(live: Y.Doc, base: MergeBase, fileText: string): FileMerge {
  let snapshot: Y.Snapshot;
  try {
    if (base.snapshot) snapshot = Y.decodeSnapshot(base.snapshot);
    else if (base.state) {
      const rebuilt = snapshotOfState(base.state);
      if (rebuilt.text !== base.text) return { kind: 'no-base', why: 'its recorded state does not hold the text last written' };
      snapshot = Y.decodeSnapshot(rebuilt.snapshot);
    } else return { kind: 'no-base', why: 'no state was recorded' };
  } catch (error) {
    return { kind: 'no-base', why: `its recorded state cannot be read (${(error as Error).message})` };
  }
  for (const [client, clock] of snapshot.sv) {
    if (Y.getState(live.store, client) < clock) return { kind: 'no-base', why: 'its recorded state holds changes the document lacks' };
  }
  const segments = layOut(live, snapshot, base.text);
  if (typeof segments === 'string') return { kind: 'no-base', why: segments };
  const liveLength = live.getText(TEXT_NAME).length;
  const changes = diffText(base.text, fileText);
  const encodedBase = () => Y.encodeSnapshot(snapshot);
  if (changes.length === 0) return { kind: 'three-way', apply: null, changes, lengthAfter: liveLength, fileSnapshot: encodedBase };

  const client = mergeClientId(Y.encodeStateVector(snapshot.sv), base.text, fileText);
  const inserted = changes.reduce((n, c) => n + c.insert.length, 0);
  // The base characters the changes delete, as parts of segments, from the last to the first.
  const deletions: Array<{ segment: Segment; from: number; to: number }> = [];
  for (let c = changes.length - 1; c >= 0; c--) {
    const { index, deleteCount } = changes[c];
    overlapsBackwards(segments, index, index + deleteCount, (segment, from, to) => deletions.push({ segment, from, to }));
  }
  const aliveDeleted = deletions.reduce((n, { segment, from, to }) => n + (segment.alive ? to - from : 0), 0);
  const already = Y.getState(live.store, client) > 0;

  // The base with the file's changes: its insertions (this client's first `inserted` clocks) and
  // the base characters it deletes, wherever they are now; checked to hold the file's text.
  const fileSnapshot = (): Uint8Array | null => {
    const deleted = new Map<number, Array<{ clock: number; len: number }>>();
    for (const { segment, from, to } of deletions) {
      const ranges = deleted.get(segment.client) ?? [];
      ranges.push({ clock: segment.clock + from - segment.base, len: to - from });
      deleted.set(segment.client, ranges);
    }
    let at = 0;
    let holds = true;
    const expect = (piece: string) => {
      holds &&= fileText.startsWith(piece, at);
      at += piece.length;
    };
    let j = 0;
    let c = 0;
    for (const item of itemsOf(live)) {
      forVisibleIn(snapshot, item, (from, to) => {
        // Base characters [j, end) less the ones the changes delete.
        const end = j + to - from;
        while (j < end) {
          while (c < changes.length && changes[c].index + changes[c].deleteCount <= j) c++;
          const change = changes[c];
          if (change && change.index <= j) {
            j = Math.min(end, change.index + change.deleteCount);
            continue;
          }
          const stop = change ? Math.min(end, change.index) : end;
          expect(base.text.slice(j, stop));
          j = stop;
        }
      });
      if (item.id.client === client && item.content instanceof Y.ContentString) expect(item.content.str);
      if (!holds) return null;
    }
    if (at !== fileText.length) return null;
    const sv = new Map(snapshot.sv);
    if (inserted > 0) sv.set(client, inserted);
    return Y.encodeSnapshot(Y.createSnapshot(withDeleted(snapshot.ds, deleted), sv));
  };

  if (already) return { kind: 'three-way', apply: null, changes, lengthAfter: liveLength, fileSnapshot };

  /** The Yjs id of base character `j`. */
  const idOf = (j: number): Y.ID => {
    const segment = segments[segmentAt(segments, j)];
    return Y.createID(segment.client, segment.clock + j - segment.base);
  };

  const apply = (text: Y.Text): void => {
    // The deletions by live position, from the last to the first: each position stays where it
    // was found. Then the insertions by the ids around them (no position is read after the
    // first is made).
    for (const { segment, from, to } of deletions) if (segment.alive) text.delete(segment.live + from - segment.base, to - from);
    const doc = text.doc!;
    doc.transact((transaction) => {
      for (let c = changes.length - 1; c >= 0; c--) {
        const { index, insert } = changes[c];
        if (!insert) continue;
        // Right before the base character it goes before, deleted since or not (Y.Text.insert
        // would put it after the deleted items there, out of the file's order); at the end,
        // right after the last base character. As Yjs's own insertions: between two adjacent
        // items, named as its origins, so every peer places it alike.
        let left: Y.Item | null;
        let right: Y.Item | null;
        if (index < base.text.length) {
          right = Y.getItemCleanStart(transaction, idOf(index));
          left = right.left;
        } else {
          left = index > 0 ? Y.getItemCleanEnd(transaction, doc.store, idOf(index - 1)) : null;
          right = left ? left.right : text._start;
        }
        const id = Y.createID(client, Y.getState(doc.store, client));
        const item = new Y.Item(id, left, left?.lastId ?? null, right, right?.id ?? null, text, null, new Y.ContentString(insert));
        (item as unknown as { integrate(transaction: Y.Transaction, offset: number): void }).integrate(transaction, 0);
      }
    });
    // Y.Text caches where its positions are; items placed by id leave that cache behind (Yjs
    // drops it after a remote change the same way).
    if (text._searchMarker) text._searchMarker.length = 0;
  };
  return { kind: 'three-way', apply, changes, lengthAfter: liveLength - aliveDeleted + inserted, fileSnapshot };
}
