import fc from 'fast-check';
import * as Y from 'yjs';
import { splitUpdate } from './update-split';

function sameState(a: Y.Doc, b: Y.Doc): boolean {
  return Y.equalSnapshots(Y.snapshot(a), Y.snapshot(b)) && a.getText('t').toString() === b.getText('t').toString();
}

describe('splitUpdate', () => {
  it('returns an update that fits as it is', () => {
    const update = new Uint8Array([0, 0]);
    expect(splitUpdate(update, 100)).toEqual([update]);
  });

  it('cuts one long text item into parts that rebuild it in any order, emoji and accents intact', () => {
    const doc = new Y.Doc();
    const text = doc.getText('t');
    text.insert(0, 'é😀'.repeat(50_000));
    text.delete(10, 20);
    const parts = splitUpdate(Y.encodeStateAsUpdate(doc), 4096);
    expect(parts.length).toBeGreaterThan(40);
    expect(parts.every((p) => p.length <= 4096)).toBe(true);
    const copy = new Y.Doc();
    for (const part of [...parts].reverse()) Y.applyUpdate(copy, part);
    expect(sameState(copy, doc)).toBe(true);
    expect(copy.store.pendingStructs).toBeNull();
  });

  it('rebuilds any document of several authors from its parts, whatever the order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            author: fc.integer({ min: 0, max: 2 }),
            at: fc.nat(),
            text: fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }),
            del: fc.nat({ max: 40 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.integer({ min: 300, max: 3000 }),
        fc.nat(),
        (edits, maxBytes, seed) => {
          const authors = [1, 2, 3].map((id) => {
            const d = new Y.Doc();
            d.clientID = id;
            return d;
          });
          for (const e of edits) {
            const d = authors[e.author];
            const t = d.getText('t');
            t.insert(e.at % (t.length + 1), e.text);
            if (e.del && t.length > e.del) t.delete(e.at % (t.length - e.del), e.del);
            for (const other of authors) if (other !== d) Y.applyUpdate(other, Y.encodeStateAsUpdate(d));
          }
          const whole = authors[0];
          const parts = splitUpdate(Y.encodeStateAsUpdate(whole), maxBytes);
          for (const p of parts) expect(p.length).toBeLessThanOrEqual(maxBytes);
          const shuffled = [...parts].sort((a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7));
          const copy = new Y.Doc();
          for (const p of shuffled) Y.applyUpdate(copy, p);
          expect(sameState(copy, whole)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
