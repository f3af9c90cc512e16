import { DocumentLayout, LineLayoutCache } from '../src/editor/text-layout';
import { moveCursor, type CursorState, type Motion } from '../src/editor/cursor-motion';

const layoutOf = (text: string, columns = 20) => new DocumentLayout(text, new LineLayoutCache(columns));
const run = (layout: DocumentLayout, start: number, motions: Motion[], page = 3): CursorState =>
  motions.reduce<CursorState>((c, m) => moveCursor(layout, c, m, page), { index: start });

describe('cursor motion', () => {
  it('moves left and right by grapheme, over emoji and combining marks in one step', () => {
    const layout = layoutOf('x👍🏽e\u0301y');
    expect(run(layout, 0, ['right', 'right']).index).toBe(5);
    expect(run(layout, 0, ['right', 'right', 'right']).index).toBe(7);
    expect(run(layout, 7, ['left']).index).toBe(5);
  });

  it('crosses line ends with left and right', () => {
    const layout = layoutOf('ab\ncd');
    expect(run(layout, 2, ['right']).index).toBe(3);
    expect(run(layout, 3, ['left']).index).toBe(2);
  });

  it('keeps the display column going up and down past wide characters', () => {
    // col 4 on line 0 is after "漢字"; line 1 is ascii; line 2 is short.
    const layout = layoutOf('漢字ab\nabcdefg\nx');
    const down = run(layout, 2, ['down']);
    expect(down.index).toBe(layout.lineStart(1) + 4);
    const further = moveCursor(layout, down, 'down', 3);
    expect(further.index).toBe(layout.lineStart(2) + 1);
    const back = moveCursor(layout, moveCursor(layout, further, 'up', 3), 'up', 3);
    expect(back.index).toBe(2);
  });

  it('lands on the start of a wide character when the column points into it', () => {
    const layout = layoutOf('abc\n漢字');
    expect(run(layout, 1, ['down']).index).toBe(layout.lineStart(1));
    expect(run(layout, 3, ['down']).index).toBe(layout.lineStart(1) + 1);
  });

  it('moves through wrapped rows of one line', () => {
    const layout = layoutOf('abcdefghij', 4);
    expect(run(layout, 1, ['down']).index).toBe(5);
    expect(run(layout, 1, ['down', 'down']).index).toBe(9);
  });

  it('goes to the start on up from the first row and to the end on down from the last', () => {
    const layout = layoutOf('abc\ndef');
    expect(run(layout, 2, ['up']).index).toBe(0);
    expect(run(layout, 5, ['down']).index).toBe(7);
  });

  it('goes to the line start and end with Home and End, the document ends with Ctrl-Home and Ctrl-End', () => {
    const layout = layoutOf('abc\ndef\nghi');
    expect(run(layout, 5, ['home']).index).toBe(4);
    expect(run(layout, 5, ['end']).index).toBe(7);
    expect(run(layout, 5, ['doc-start']).index).toBe(0);
    expect(run(layout, 5, ['doc-end']).index).toBe(11);
  });

  it('moves a page of rows with PageDown and PageUp', () => {
    const layout = layoutOf(Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n'));
    expect(layout.lineOf(run(layout, 0, ['page-down'], 5).index)).toBe(5);
    expect(layout.lineOf(run(layout, 0, ['page-down', 'page-down', 'page-up'], 5).index)).toBe(5);
  });

  it('moves by word with Ctrl-Left / Ctrl-Right: to the start of a word on the left, to the end of one on the right', () => {
    const layout = layoutOf('say hello, world!', 40);
    expect(run(layout, 0, ['word-right']).index).toBe(3); // after "say"
    expect(run(layout, 0, ['word-right', 'word-right']).index).toBe(9); // after "hello", before the comma
    expect(run(layout, 9, ['word-right']).index).toBe(16); // over ", " to after "world"
    expect(run(layout, 17, ['word-left']).index).toBe(11); // start of "world"
    expect(run(layout, 13, ['word-left']).index).toBe(11); // from inside a word: its start
    expect(run(layout, 11, ['word-left', 'word-left']).index).toBe(0);
  });

  it('goes to the line end when no word follows, then on to the next line', () => {
    const layout = layoutOf('one...\n  two');
    expect(run(layout, 3, ['word-right']).index).toBe(6);
    expect(run(layout, 6, ['word-right']).index).toBe(7);
    expect(run(layout, 7, ['word-right']).index).toBe(12);
    expect(run(layout, 9, ['word-left']).index).toBe(7);
    expect(run(layout, 7, ['word-left']).index).toBe(6);
    expect(run(layout, 12, ['word-right']).index).toBe(12);
  });

  it('finds words as Intl.Segmenter does: apostrophes inside words, numbers, and CJK words', () => {
    const layout = layoutOf("don't 3.14 東京は晴れ", 40);
    expect(run(layout, 0, ['word-right']).index).toBe(5);
    expect(run(layout, 5, ['word-right']).index).toBe(10);
    const kanji = run(layout, 11, ['word-right']).index;
    expect(kanji).toBeGreaterThan(11);
    expect(kanji).toBeLessThan(16); // a word of the sentence, not the whole run of characters
  });
});
