import fc from 'fast-check';
import { DocumentLayout, LineLayoutCache, drawnAs, wrapLine } from '../src/editor/text-layout';

const layoutOf = (text: string, columns = 10) => new DocumentLayout(text, new LineLayoutCache(columns));

describe('drawnAs', () => {
  it('gives CJK characters and emoji two cells, combining sequences one', () => {
    expect(drawnAs('漢', 0).width).toBe(2);
    expect(drawnAs('👍', 0).width).toBe(2);
    expect(drawnAs('👍🏽', 0).width).toBe(2);
    expect(drawnAs('👨‍👩‍👧', 0).width).toBe(2);
    expect(drawnAs('e\u0301', 0).width).toBe(1);
    expect(drawnAs('a', 0).width).toBe(1);
  });

  it('makes control characters visible in caret notation instead of sending them to the terminal', () => {
    expect(drawnAs('\r', 0)).toEqual({ display: '^M', width: 2 });
    expect(drawnAs('\x1b', 0)).toEqual({ display: '^[', width: 2 });
    expect(drawnAs('\x7f', 0)).toEqual({ display: '^?', width: 2 });
  });

  it('expands a tab to the next tab stop', () => {
    expect(drawnAs('\t', 0).width).toBe(4);
    expect(drawnAs('\t', 5).width).toBe(3);
  });

  it('gives a lone combining mark a cell of its own', () => {
    expect(drawnAs('\u0301', 0)).toEqual({ display: ' \u0301', width: 1 });
  });
});

describe('wrapLine', () => {
  it('keeps a short line on one row', () => {
    const rows = wrapLine('héllo', 10);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.width).toBe(5);
    expect(rows[0]!.graphemes.map((g) => g.col)).toEqual([0, 1, 2, 3, 4]);
  });

  it('moves a wide character that does not fit to the next row', () => {
    const rows = wrapLine('abc漢字', 4);
    expect(rows.map((r) => [r.start, r.end, r.width])).toEqual([
      [0, 3, 3],
      [3, 5, 4],
      [5, 5, 0], // the full last row leaves room for the cursor on a row of its own
    ]);
  });

  it('never splits a grapheme: an emoji with a skin tone stays whole', () => {
    const rows = wrapLine('ab👍🏽c', 3);
    expect(rows[0]!.graphemes.map((g) => g.end - g.start)).toEqual([1, 1]);
    expect(rows[1]!.graphemes[0]!.end - rows[1]!.graphemes[0]!.start).toBe(4);
  });

  it('adds an empty row after an exactly full last row, for the cursor at the end', () => {
    const rows = wrapLine('abcd', 4);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ start: 4, end: 4, width: 0 });
  });

  it('wraps an empty line into one empty row', () => {
    expect(wrapLine('', 5)).toEqual([{ start: 0, end: 0, graphemes: [], width: 0 }]);
  });
});

describe('DocumentLayout', () => {
  it('finds lines by offset, a trailing newline starting an empty line', () => {
    const layout = layoutOf('ab\ncd\n');
    expect(layout.lineCount).toBe(3);
    expect([layout.lineOf(0), layout.lineOf(2), layout.lineOf(3), layout.lineOf(6)]).toEqual([0, 0, 1, 2]);
    expect(layout.lineText(1)).toBe('cd');
    expect(layout.lineEnd(2)).toBe(6);
  });

  it('locates a cursor after wide characters at its display column', () => {
    const layout = layoutOf('漢字x');
    expect(layout.locate(2)).toEqual({ line: 0, row: 0, col: 4 });
    expect(layout.locate(3)).toEqual({ line: 0, row: 0, col: 5 });
  });

  it('puts an index at a wrap point on the row it starts', () => {
    const layout = layoutOf('abcdef', 4);
    expect(layout.locate(4)).toEqual({ line: 0, row: 1, col: 0 });
    expect(layout.locate(6)).toEqual({ line: 0, row: 1, col: 2 });
  });

  it('steps over a whole grapheme, emoji, flags and combining marks included', () => {
    const text = 'a👍🏽e\u0301🇯🇵\nb';
    const layout = layoutOf(text, 20);
    const forward = [0];
    while (forward[forward.length - 1]! < text.length) forward.push(layout.nextBoundary(forward[forward.length - 1]!));
    expect(forward).toEqual([0, 1, 5, 7, 11, 12, 13]);
    const back = [text.length];
    while (back[back.length - 1]! > 0) back.push(layout.prevBoundary(back[back.length - 1]!));
    expect(back).toEqual([...forward].reverse());
  });

  it('finds the boundary at a column, landing on the start of a wide character it points into', () => {
    const layout = layoutOf('a漢b');
    expect(layout.indexAt(0, 0, 0)).toBe(0);
    expect(layout.indexAt(0, 0, 1)).toBe(1);
    expect(layout.indexAt(0, 0, 2)).toBe(1);
    expect(layout.indexAt(0, 0, 3)).toBe(2);
    expect(layout.indexAt(0, 0, 9)).toBe(3);
  });

  it('does not leave a wrapped row past its end (that index belongs to the next row)', () => {
    const layout = layoutOf('abcdef', 4);
    expect(layout.indexAt(0, 0, 9)).toBe(3);
    expect(layout.indexAt(0, 1, 9)).toBe(6);
  });

  it('snaps an index inside a grapheme down to its start', () => {
    const layout = layoutOf('a👍🏽b');
    expect(layout.snap(2)).toBe(1);
    expect(layout.snap(5)).toBe(5);
  });

  it('draws every cursor position within the width, whatever the text (property)', () => {
    const chars = fc.constantFrom('a', 'b', ' ', '\n', '\t', '漢', '👍', '🏽', 'e\u0301', '\u0301', '\r');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 40 }), fc.integer({ min: 1, max: 12 }), (pieces, columns) => {
        const text = pieces.join('');
        const layout = layoutOf(text, columns);
        let i = 0;
        let steps = 0;
        while (i < text.length) {
          const next = layout.nextBoundary(i);
          expect(next).toBeGreaterThan(i);
          expect(layout.prevBoundary(next)).toBe(i);
          const at = layout.locate(i);
          expect(at.col).toBeLessThan(Math.max(columns, 2));
          i = next;
          steps++;
        }
        expect(steps).toBeLessThanOrEqual(text.length);
      }),
    );
  });
});
