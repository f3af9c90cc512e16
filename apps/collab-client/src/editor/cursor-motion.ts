// Where each movement key takes the cursor, as pure functions of the layout. The cursor moves
// by grapheme; up and down keep a goal column so passing a short line does not lose it.
import type { DocumentLayout } from './text-layout';
import { stepRows, type RowRef } from './viewport';
import { wordEndAfter, wordStartBefore } from './word-motion';

/** The movements the keys ask for. */
export type Motion =
  'left' | 'right' | 'word-left' | 'word-right' | 'up' | 'down' | 'home' | 'end' | 'page-up' | 'page-down' | 'doc-start' | 'doc-end';

/** The local cursor: a document offset plus the column up/down aims for. */
export interface CursorState {
  readonly index: number;
  /** Display column kept across vertical moves; undefined after any other move or edit. */
  readonly goalCol?: number;
}

/** The cursor after `motion`; `pageRows` is how far PageUp/PageDown go. */
export function moveCursor(layout: DocumentLayout, cursor: CursorState, motion: Motion, pageRows: number): CursorState {
  const { index } = cursor;
  switch (motion) {
    case 'left':
      return { index: layout.prevBoundary(index) };
    case 'right':
      return { index: layout.nextBoundary(index) };
    case 'word-left':
      return { index: wordLeft(layout, index) };
    case 'word-right':
      return { index: wordRight(layout, index) };
    case 'home':
      return { index: layout.lineStart(layout.lineOf(index)) };
    case 'end':
      return { index: layout.lineEnd(layout.lineOf(index)) };
    case 'doc-start':
      return { index: 0 };
    case 'doc-end':
      return { index: layout.text.length };
    case 'up':
    case 'down':
    case 'page-up':
    case 'page-down': {
      const rows = motion === 'up' ? -1 : motion === 'down' ? 1 : motion === 'page-up' ? -pageRows : pageRows;
      return moveRows(layout, cursor, rows);
    }
  }
}

/** The cursor moved `rows` visual rows, at its goal column; past the first or last row it goes to that row's start or end. */
export function moveRows(layout: DocumentLayout, cursor: CursorState, rows: number): CursorState {
  const here = layout.locate(cursor.index);
  const goalCol = cursor.goalCol ?? here.col;
  const from: RowRef = { line: here.line, row: here.row };
  const to = stepRows(layout, from, rows);
  if (to.line === from.line && to.row === from.row) {
    // Nowhere further to go: like most editors, go to the very start or end.
    if (rows < 0) return { index: 0, goalCol };
    if (rows > 0) return { index: layout.text.length, goalCol };
    return { index: cursor.index, goalCol };
  }
  return { index: layout.indexAt(to.line, to.row, goalCol), goalCol };
}

/** Ctrl-Left: the start of the word on the left; with none on this line its start, and from there the end of the line above. */
export function wordLeft(layout: DocumentLayout, index: number): number {
  const line = layout.lineOf(index);
  const start = layout.lineStart(line);
  if (index === start) return line > 0 ? layout.lineEnd(line - 1) : 0;
  const word = wordStartBefore(layout.lineText(line), index - start);
  return word === undefined ? start : start + word;
}

/** Ctrl-Right: the end of the word on the right; with none on this line its end, and from there the start of the line below. */
export function wordRight(layout: DocumentLayout, index: number): number {
  const line = layout.lineOf(index);
  const start = layout.lineStart(line);
  const end = layout.lineEnd(line);
  if (index >= end) return line + 1 < layout.lineCount ? layout.lineStart(line + 1) : end;
  const word = wordEndAfter(layout.lineText(line), index - start);
  return word === undefined ? end : start + word;
}
