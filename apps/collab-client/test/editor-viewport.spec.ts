import { DocumentLayout, LineLayoutCache } from '../src/editor/text-layout';
import { lastRow, rowDistance, rowOf, rowStartIndex, scrollToShow, stepRows } from '../src/editor/viewport';

// 10 lines "line0".."line9", and one long line wrapped into 3 rows at width 6.
const lines = Array.from({ length: 10 }, (_, i) => `line${i}`);
const layout = new DocumentLayout([...lines, 'abcdefghijklm'].join('\n'), new LineLayoutCache(6));

describe('viewport', () => {
  it('steps over visual rows, wrapped ones included, and stops at the ends', () => {
    expect(stepRows(layout, { line: 9, row: 0 }, 2)).toEqual({ line: 10, row: 1 });
    expect(stepRows(layout, { line: 10, row: 2 }, 5)).toEqual({ line: 10, row: 2 });
    expect(stepRows(layout, { line: 10, row: 1 }, -3)).toEqual({ line: 8, row: 0 });
    expect(stepRows(layout, { line: 1, row: 0 }, -9)).toEqual({ line: 0, row: 0 });
    expect(lastRow(layout)).toEqual({ line: 10, row: 2 });
  });

  it('counts rows between two positions, up to a limit', () => {
    expect(rowDistance(layout, { line: 0, row: 0 }, { line: 3, row: 0 }, 100)).toBe(3);
    expect(rowDistance(layout, { line: 0, row: 0 }, { line: 10, row: 2 }, 5)).toBe(5);
    expect(rowDistance(layout, { line: 3, row: 0 }, { line: 1, row: 0 }, 5)).toBe(0);
  });

  it('does not scroll while the cursor is on screen', () => {
    expect(scrollToShow(layout, { line: 2, row: 0 }, { line: 5, row: 0 }, 4)).toEqual({ line: 2, row: 0 });
  });

  it('scrolls up to a cursor above the screen, putting it on the first row', () => {
    expect(scrollToShow(layout, { line: 5, row: 0 }, { line: 1, row: 0 }, 4)).toEqual({ line: 1, row: 0 });
  });

  it('scrolls down just enough to put a cursor below the screen on the last row', () => {
    expect(scrollToShow(layout, { line: 0, row: 0 }, { line: 6, row: 0 }, 4)).toEqual({ line: 3, row: 0 });
    expect(scrollToShow(layout, { line: 0, row: 0 }, { line: 10, row: 1 }, 4)).toEqual({ line: 8, row: 0 });
  });

  it('fills the screen rather than leaving blank rows after the end of the text', () => {
    expect(scrollToShow(layout, { line: 10, row: 2 }, { line: 10, row: 2 }, 4)).toEqual({ line: 9, row: 0 });
  });

  it('anchors a row by the offset it starts at', () => {
    expect(rowStartIndex(layout, { line: 10, row: 1 })).toBe(layout.lineStart(10) + 6);
    expect(rowOf(layout, layout.lineStart(10) + 7)).toEqual({ line: 10, row: 1 });
  });
});
