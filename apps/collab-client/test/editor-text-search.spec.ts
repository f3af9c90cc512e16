import { findNext } from '../src/editor/text-search';

describe('findNext', () => {
  it('finds the next match at or after the position', () => {
    expect(findNext('one two one two', 'two', 0)).toEqual({ from: 4, to: 7, wrapped: false });
    expect(findNext('one two one two', 'two', 5)).toEqual({ from: 12, to: 15, wrapped: false });
  });

  it('wraps to the top when nothing follows', () => {
    expect(findNext('one two one two', 'one', 9)).toEqual({ from: 0, to: 3, wrapped: true });
  });

  it('finds nothing when the text does not hold it, or for an empty query', () => {
    expect(findNext('abc', 'x', 0)).toBeUndefined();
    expect(findNext('abc', '', 0)).toBeUndefined();
  });

  it('ignores case for a query in lower case, not for one with a capital (smart case)', () => {
    expect(findNext('Hello hello', 'hello', 0)?.from).toBe(0);
    expect(findNext('Hello hello', 'hello', 1)?.from).toBe(6);
    expect(findNext('hello Hello', 'Hello', 0)?.from).toBe(6);
    expect(findNext('ÉCOLE', 'école', 0)?.from).toBe(0);
  });

  it('takes every character of the query literally', () => {
    expect(findNext('a.b a+b (x) [y] $1', 'a+b', 0)?.from).toBe(4);
    expect(findNext('a.b a+b (x) [y] $1', '(x) [y] $1', 0)?.from).toBe(8);
    expect(findNext('axb a.b', 'a.b', 0)?.from).toBe(4);
  });
});
