import fc from 'fast-check';
import { applyTextChanges, diffText } from './text-diff';

/** Whether `text` holds no lone surrogate. */
function wellFormed(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

/** Texts from a small alphabet, so that random pairs share much and differ in places (astral characters included). */
const word = fc.constantFrom('a', 'b', ' ', '\n', 'the ', 'fox', 'é', '😀', '😃', '𝄞', '中');
const text = fc.array(word, { maxLength: 40 }).map((parts) => parts.join(''));

describe('diffText', () => {
  it('returns no change for equal texts', () => {
    expect(diffText('same', 'same')).toEqual([]);
  });

  it('keeps a one-word change one small change, at its place', () => {
    expect(diffText('the quick brown fox', 'the quick red fox')).toEqual([{ index: 10, deleteCount: 5, insert: 'red' }]);
    expect(diffText('hello world', 'hello brave world')).toEqual([{ index: 6, deleteCount: 0, insert: 'brave ' }]);
  });

  it('finds separate changes separately (not one replacement of the middle)', () => {
    const before = 'line one\nline two\nline three\n';
    const after = 'line ONE\nline two\nline three\nline four\n';
    expect(diffText(before, after)).toEqual([
      { index: 5, deleteCount: 3, insert: 'ONE' },
      { index: 29, deleteCount: 0, insert: 'line four\n' },
    ]);
  });

  it('never splits a surrogate pair', () => {
    expect(diffText('a😀b', 'a😃b')).toEqual([{ index: 1, deleteCount: 2, insert: '😃' }]);
  });

  it("stays exact where diff-match-patch is wrong about surrogate pairs that share a half (found by this file's property test)", () => {
    // diff-match-patch reports '𝘤' (D835 DE24) as equal to '𘨤' (D822 DE24): they share the low half.
    const changes = diffText('𐐀𘨤', '𐐁𝘤');
    expect(applyTextChanges('𐐀𘨤', changes)).toBe('𐐁𝘤');
    expect(changes).toEqual([{ index: 0, deleteCount: 4, insert: '𐐁𝘤' }]);
  });

  it('turns any text into any other, in whole characters', () => {
    const check = (a: string, b: string) => {
      const changes = diffText(a, b);
      expect(applyTextChanges(a, changes)).toBe(b);
      let end = -1;
      for (const change of changes) {
        expect(change.index).toBeGreaterThan(end);
        end = change.index + change.deleteCount;
        expect(wellFormed(a.slice(change.index, end))).toBe(true);
        expect(wellFormed(change.insert)).toBe(true);
      }
    };
    fc.assert(fc.property(text, text, check), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), check), { numRuns: 500 });
  });

  it('answers within its time limit for two unrelated long texts', () => {
    const random = (seed: number, n: number) => {
      let s = seed;
      let out = '';
      for (let i = 0; i < n; i++) {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        out += 'abcdefghij klmno\n'[s % 17];
      }
      return out;
    };
    const a = random(1, 20_000);
    const b = random(2, 20_000);
    expect(applyTextChanges(a, diffText(a, b))).toBe(b);
  });
});
