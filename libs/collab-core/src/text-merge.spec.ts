import fc from 'fast-check';
import * as Y from 'yjs';
import { TEXT_NAME } from '@collab/collab-protocol';
import { MemoryStorage } from './memory-storage';
import { SharedDocument } from './shared-document';
import type { StoredDocument } from './storage';
import { diffText } from './text-diff';
import { mergeFileText, type MergeBase, type ThreeWayMerge } from './text-merge';

/** A document holding `text`, typed by client `clientId`. */
function docWith(text: string, clientId = 1): Y.Doc {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  doc.getText(TEXT_NAME).insert(0, text);
  return doc;
}

const textOf = (doc: Y.Doc) => doc.getText(TEXT_NAME).toString();

/** The live document: the base, then `type` by another client (someone typing after the file was written). */
function liveAfter(base: Y.Doc, type: (text: Y.Text) => void): Y.Doc {
  const live = new Y.Doc();
  live.clientID = 2;
  Y.applyUpdate(live, Y.encodeStateAsUpdate(base));
  type(live.getText(TEXT_NAME));
  return live;
}

/** The base as the file store keeps it: the text and a snapshot of the document it was written from. */
const baseOf = (doc: Y.Doc) => ({ text: textOf(doc), snapshot: Y.encodeSnapshot(Y.snapshot(doc)) });

/** Merges `file` into `live` against `base` (a document: as a snapshot, or as updates when `asState`), and returns the plan. */
function merge(live: Y.Doc, base: Y.Doc | MergeBase, file: string, asState = false): ThreeWayMerge {
  const from = !(base instanceof Y.Doc) ? base : asState ? { text: textOf(base), state: [Y.encodeStateAsUpdate(base)] } : baseOf(base);
  const result = mergeFileText(live, from, file);
  if (result.kind !== 'three-way') throw new Error(`no three-way merge: ${result.why}`);
  if (result.apply) live.transact(() => result.apply!(live.getText(TEXT_NAME)));
  return result;
}

describe('mergeFileText', () => {
  it('keeps typing that came after the base, and the file edit', () => {
    const base = docWith('hello world\n');
    const live = liveAfter(base, (t) => t.insert(t.length, 'typed meanwhile\n'));
    merge(live, base, 'hello brave world\n');
    expect(textOf(live)).toBe('hello brave world\ntyped meanwhile\n');
  });

  it('takes the base as updates that rebuild it, too', () => {
    const base = docWith('hello world\n');
    const live = liveAfter(base, (t) => t.insert(0, '> '));
    merge(live, base, 'hello world!\n', true);
    expect(textOf(live)).toBe('> hello world!\n');
  });

  it('merges edits of the same place as Yjs merges two peers: a deletion on both sides, the insertion kept', () => {
    const base = docWith('one two three');
    const live = liveAfter(base, (t) => t.delete(4, 4)); // "one three"
    merge(live, base, 'one 2 three'); // "two" replaced; the space after it kept in the file, deleted live
    expect(textOf(live)).toBe('one 2three');
  });

  it('finds the base characters after they were deleted and the deletions garbage-collected', () => {
    const base = docWith('abcdef');
    const live = liveAfter(base, (t) => {
      t.delete(1, 3); // "aef": b, c, d deleted, their content dropped by Yjs's GC
      t.insert(1, 'XY');
    });
    merge(live, base, 'abcdeZf');
    expect(textOf(live)).toBe('aXYeZf');
  });

  it('does not make a merge twice that the document holds already (a crash between merge and record)', () => {
    const base = docWith('abc\n');
    const live = liveAfter(base, (t) => t.insert(4, 'def\n'));
    merge(live, base, 'aXc\n');
    expect(textOf(live)).toBe('aXc\ndef\n');
    const again = merge(live, base, 'aXc\n');
    expect(again.apply).toBeNull();
    expect(textOf(live)).toBe('aXc\ndef\n');
  });

  it('gives the base of the merged file: merging the same file against it changes nothing', () => {
    const base = docWith('one\ntwo\nthree\n');
    const live = liveAfter(base, (t) => t.insert(4, 'typed\n'));
    const first = merge(live, base, 'one\n2\nthree\nfour\n');
    const fileSnapshot = first.fileSnapshot();
    expect(fileSnapshot).not.toBeNull();
    const next = mergeFileText(live, { text: 'one\n2\nthree\nfour\n', snapshot: fileSnapshot }, 'one\n2\nthree\nfour\n');
    expect(next).toMatchObject({ kind: 'three-way', apply: null });
    // And an edit on top of it merges three-way, the typing kept.
    merge(live, { text: 'one\n2\nthree\nfour\n', snapshot: fileSnapshot }, 'one\n2\nthree\n4\n');
    expect(textOf(live)).toBe('one\ntyped\n2\nthree\n4\n');
  });

  it("keeps the file's order next to characters deleted meanwhile, so the file's next save merges against it", () => {
    const base = docWith('title\nbody\n');
    const live = liveAfter(base, (t) => {
      t.delete(6, 4); // ann deletes "body" ...
      t.insert(t.length, 'a line ann typed\n'); // ... and types
    });
    // The file inserts right before the deleted "body", and keeps it.
    const first = merge(live, base, 'title\nnew body\n');
    expect(textOf(live)).toBe('title\nnew \na line ann typed\n');
    const fileSnapshot = first.fileSnapshot();
    expect(fileSnapshot).not.toBeNull();
    // The same editor saves again: only its new change is merged, nothing doubled or brought back.
    merge(live, { text: 'title\nnew body\n', snapshot: fileSnapshot }, 'title\nnew body here\n');
    expect(textOf(live)).toBe('title\nnew  here\na line ann typed\n');
  });

  it('says why a base cannot be used', () => {
    const base = docWith('abc');
    const live = docWith('other', 5);
    expect(mergeFileText(live, { text: 'abc', state: [Y.encodeStateAsUpdate(base)] }, 'abd')).toMatchObject({
      kind: 'no-base',
      why: expect.stringMatching(/changes the document lacks/),
    });
    expect(mergeFileText(base, { text: 'not its text', state: [Y.encodeStateAsUpdate(base)] }, 'abd')).toMatchObject({
      kind: 'no-base',
      why: expect.stringMatching(/does not hold the text/),
    });
    expect(mergeFileText(base, { text: 'abd', snapshot: Y.encodeSnapshot(Y.snapshot(base)) }, 'abx')).toMatchObject({
      kind: 'no-base',
      why: expect.stringMatching(/does not hold the text/),
    });
    expect(mergeFileText(base, { text: 'abc', snapshot: new Uint8Array([200, 1]) }, 'abx')).toMatchObject({
      kind: 'no-base',
      why: expect.stringMatching(/cannot be read|does not hold the text|lacks/),
    });
  });

  it('loses neither side: the typing stays whole, and without it the text is the file', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', ' ', '\n', 'é', '😀');
    const text = fc.array(alphabet, { maxLength: 30 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, text, fc.nat(), fc.integer({ min: 3, max: 2 ** 31 }), (baseText, fileText, at, baseClient) => {
        const base = docWith(baseText, baseClient);
        // Where someone types after the base: any place between two characters (never inside a pair).
        const places = [...baseText].reduce((acc, ch) => [...acc, acc[acc.length - 1] + ch.length], [0]);
        const place = places[at % places.length];
        const typed = '[typed]';
        const live = liveAfter(base, (t) => t.insert(place, typed));
        const result = merge(live, base, fileText);
        const merged = textOf(live);
        expect(merged).toContain(typed);
        expect(merged.replace(typed, '')).toBe(fileText);
        // The file's base afterwards: its text is the file's, so the same file merges as nothing.
        const fileSnapshot = result.fileSnapshot();
        expect(fileSnapshot).not.toBeNull();
        expect(mergeFileText(live, { text: fileText, snapshot: fileSnapshot }, fileText)).toMatchObject({ apply: null });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps what was typed and what the file changed, with deletions on both sides', () => {
    const alphabet = fc.constantFrom('a', 'b', '\n', 'é', '😀');
    const text = fc.array(alphabet, { maxLength: 20 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, text, fc.nat(), fc.nat(), fc.nat(5), (baseText, fileText, at, from, count) => {
        const base = docWith(baseText, 7);
        const places = [...baseText].reduce((acc, ch) => [...acc, acc[acc.length - 1] + ch.length], [0]);
        const start = places[from % places.length];
        const end = places[Math.min(places.indexOf(start) + count, places.length - 1)];
        const typed = '[typed]';
        const live = liveAfter(base, (t) => {
          t.delete(start, end - start); // someone deletes base characters ...
          const now = t.toString();
          const spots = [...now].reduce((acc, ch) => [...acc, acc[acc.length - 1] + ch.length], [0]);
          t.insert(spots[at % spots.length], typed); // ... and types
        });
        const result = mergeFileText(live, baseOf(base), fileText);
        if (result.kind !== 'three-way') throw new Error(result.why);
        const lengthBefore = textOf(live).length;
        if (result.apply) live.transact(() => result.apply!(live.getText(TEXT_NAME)));
        const merged = textOf(live);
        expect(merged.length).toBe(result.lengthAfter);
        expect(merged).toContain(typed);
        // What the file inserted is there; what it deleted is gone (when the base text is not empty).
        for (const change of diffText(baseText, fileText)) expect(merged).toContain(change.insert);
        if (result.apply === null) expect(merged.length).toBe(lengthBefore);
        const fileSnapshot = result.fileSnapshot();
        expect(fileSnapshot).not.toBeNull();
        expect(mergeFileText(live, { text: fileText, snapshot: fileSnapshot }, fileText)).toMatchObject({ apply: null });
      }),
      { numRuns: 300 },
    );
  });
});

describe('SharedDocument.mergeOutsideText', () => {
  const limits = (maxDocumentChars = 1000) => ({
    maxMessageBytes: 1 << 20,
    maxDocumentChars,
    maxDocumentItems: 1024 * 1024,
    presence: { maxStateBytes: 1024, maxDepth: 8, maxIdsPerPeer: 4 },
  });

  async function load(text: string, maxDocumentChars?: number) {
    const storage = new MemoryStorage();
    storage.recordOf('doc').updates.push(Y.encodeStateAsUpdate(docWith(text)));
    const stored = (await storage.open('doc')) as StoredDocument;
    const changes: string[] = [];
    const document = await SharedDocument.load(stored, {
      ...limits(maxDocumentChars),
      onChange: (_name, origin, shape) => changes.push(`${origin.label}: +${JSON.stringify(shape.inserted)} -${shape.deleted}`),
    });
    return { document, storage, changes };
  }

  it('merges three-way as an edit by "file", stored like any other', async () => {
    const { document, storage, changes } = await load('alpha\nbeta\n');
    const baseSnapshot = Y.encodeSnapshot(Y.snapshot(document.doc));
    await document.edit({ label: 'ann' }, (t) => t.insert(t.length, 'gamma\n'));
    const result = await document.mergeOutsideText({ text: 'ALPHA\nbeta\n', base: 'alpha\nbeta\n', baseSnapshot, source: 'doc.txt' });
    expect(result).toMatchObject({ merged: 'three-way' });
    expect(document.text).toBe('ALPHA\nbeta\ngamma\n');
    expect(changes).toContain('file: +"ALPHA" -5');
    await document.close();
    expect(textOf(storage.load('doc'))).toBe('ALPHA\nbeta\ngamma\n');
  });

  it('merges against the live text when there is no base, and says so', async () => {
    const { document } = await load('one\n');
    expect(await document.mergeOutsideText({ text: 'one\ntwo\n', base: null, source: 'doc.txt' })).toMatchObject({
      merged: 'two-way',
      why: 'no base was recorded',
    });
    expect(document.text).toBe('one\ntwo\n');
    await document.close();
  });

  it('does nothing when the file holds the document or its base', async () => {
    const { document, changes } = await load('same');
    expect(await document.mergeOutsideText({ text: 'same', base: 'old', source: 'doc.txt' })).toMatchObject({ merged: 'unchanged' });
    expect(await document.mergeOutsideText({ text: 'old', base: 'old', source: 'doc.txt' })).toEqual({ merged: 'unchanged' });
    expect(changes).toEqual([]);
    await document.close();
  });

  it('refuses a file that would make the document too long, the document untouched', async () => {
    const { document } = await load('0123456789', 15);
    const baseSnapshot = Y.encodeSnapshot(Y.snapshot(document.doc));
    await expect(
      document.mergeOutsideText({ text: '0123456789abcdefgh', base: '0123456789', baseSnapshot, source: 'doc.txt' }),
    ).rejects.toMatchObject({ code: 'COLLAB_ERR_UPDATE_REFUSED', reason: 'too-large' });
    await expect(document.mergeOutsideText({ text: 'x'.repeat(16), base: null, source: 'doc.txt' })).rejects.toMatchObject({
      reason: 'too-large',
    });
    expect(document.text).toBe('0123456789');
    await document.close();
  });
});
