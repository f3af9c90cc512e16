import fc from 'fast-check';
import * as Y from 'yjs';
import { TEXT_NAME } from '@collab/collab-protocol';
import { MemoryStorage } from './memory-storage';
import { SharedDocument } from './shared-document';
import type { StoredDocument } from './storage';
import { mergeFileText } from './text-merge';

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

function merge(live: Y.Doc, base: Y.Doc, file: string): void {
  const result = mergeFileText(live, { text: textOf(base), state: [Y.encodeStateAsUpdate(base)] }, file);
  if (result.kind !== 'three-way') throw new Error(`no three-way merge: ${result.why}`);
  if (result.update) Y.applyUpdate(live, result.update);
}

describe('mergeFileText', () => {
  it('keeps typing that came after the base, and the file edit', () => {
    const base = docWith('hello world\n');
    const live = liveAfter(base, (t) => t.insert(t.length, 'typed meanwhile\n'));
    merge(live, base, 'hello brave world\n');
    expect(textOf(live)).toBe('hello brave world\ntyped meanwhile\n');
  });

  it('merges edits of the same place as Yjs merges two peers: a deletion on both sides, the insertion kept', () => {
    const base = docWith('one two three');
    const live = liveAfter(base, (t) => t.delete(4, 4)); // "one three"
    merge(live, base, 'one 2 three'); // "two" replaced; the space after it kept in the file, deleted live
    expect(textOf(live)).toBe('one 2three');
  });

  it('makes the same items when the same file is merged onto the same base twice (a crash between merge and record)', () => {
    const base = docWith('abc\n');
    const live = liveAfter(base, (t) => t.insert(4, 'def\n'));
    const first = mergeFileText(live, { text: 'abc\n', state: [Y.encodeStateAsUpdate(base)] }, 'aXc\n');
    const second = mergeFileText(live, { text: 'abc\n', state: [Y.encodeStateAsUpdate(base)] }, 'aXc\n');
    if (first.kind !== 'three-way' || second.kind !== 'three-way') throw new Error('no base');
    Y.applyUpdate(live, first.update!);
    Y.applyUpdate(live, second.update!);
    expect(textOf(live)).toBe('aXc\ndef\n');
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
        merge(live, base, fileText);
        const merged = textOf(live);
        expect(merged).toContain(typed);
        expect(merged.replace(typed, '')).toBe(fileText);
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
    const baseState = [Y.encodeStateAsUpdate(document.doc)];
    await document.edit({ label: 'ann' }, (t) => t.insert(t.length, 'gamma\n'));
    const result = await document.mergeOutsideText({ text: 'ALPHA\nbeta\n', base: 'alpha\nbeta\n', baseState, source: 'doc.txt' });
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
    const baseState = [Y.encodeStateAsUpdate(document.doc)];
    await expect(
      document.mergeOutsideText({ text: '0123456789abcdefgh', base: '0123456789', baseState, source: 'doc.txt' }),
    ).rejects.toMatchObject({ code: 'COLLAB_ERR_UPDATE_REFUSED', reason: 'too-large' });
    await expect(document.mergeOutsideText({ text: 'x'.repeat(16), base: null, source: 'doc.txt' })).rejects.toMatchObject({
      reason: 'too-large',
    });
    expect(document.text).toBe('0123456789');
    await document.close();
  });
});
