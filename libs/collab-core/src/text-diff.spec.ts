import fc from 'fast-check';
import { diffText } from './text-diff';

function apply(before: string, change: ReturnType<typeof diffText>): string {
  if (!change) return before;
  return before.slice(0, change.index) + change.insert + before.slice(change.index + change.deleteCount);
}

describe('diffText', () => {
  it('returns null for equal texts', () => {
    expect(diffText('same', 'same')).toBeNull();
  });

  it('replaces only the middle that differs', () => {
    expect(diffText('hello world', 'hello brave world')).toEqual({ index: 6, deleteCount: 0, insert: 'brave ' });
    expect(diffText('abcdef', 'abXef')).toEqual({ index: 2, deleteCount: 2, insert: 'X' });
  });

  it('never splits a surrogate pair', () => {
    const change = diffText('a😀b', 'a😃b');
    expect(change).toEqual({ index: 1, deleteCount: 2, insert: '😃' });
  });

  it('turns any text into any other', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(apply(a, diffText(a, b))).toBe(b);
      }),
    );
  });
});
