// Scrolling over visual rows. A position on screen is (logical line, visual row within it);
// every walk here is bounded by the screen height, so a long document costs nothing extra.
import type { DocumentLayout } from './text-layout';

/** A visual row of the document. */
export interface RowRef {
  readonly line: number;
  readonly row: number;
}

/** Negative when a is above b, 0 when equal, positive when below. */
export function compareRows(a: RowRef, b: RowRef): number {
  return a.line !== b.line ? a.line - b.line : a.row - b.row;
}

/** The row `delta` visual rows below (or above, when negative) `from`, stopping at the document's ends. */
export function stepRows(layout: DocumentLayout, from: RowRef, delta: number): RowRef {
  let { line, row } = from;
  let left = delta;
  while (left > 0) {
    const count = layout.rows(line).length;
    if (row + 1 < count) row++;
    else if (line + 1 < layout.lineCount) {
      line++;
      row = 0;
    } else break;
    left--;
  }
  while (left < 0) {
    if (row > 0) row--;
    else if (line > 0) {
      line--;
      row = layout.rows(line).length - 1;
    } else break;
    left++;
  }
  return { line, row };
}

/** The last visual row of the document. */
export function lastRow(layout: DocumentLayout): RowRef {
  const line = layout.lineCount - 1;
  return { line, row: layout.rows(line).length - 1 };
}

/** The visual row holding document offset `index` (as the cursor would be drawn). */
export function rowOf(layout: DocumentLayout, index: number): RowRef {
  const { line, row } = layout.locate(index);
  return { line, row };
}

/** Document offset where a visual row starts; it anchors the top of the screen across edits. */
export function rowStartIndex(layout: DocumentLayout, ref: RowRef): number {
  const rows = layout.rows(ref.line);
  return layout.lineStart(ref.line) + rows[Math.min(ref.row, rows.length - 1)]!.start;
}

/** Rows from a down to b, counting no further than `limit` (b above a counts as 0). */
export function rowDistance(layout: DocumentLayout, a: RowRef, b: RowRef, limit: number): number {
  let n = 0;
  let at = a;
  while (n < limit && compareRows(at, b) < 0) {
    at = stepRows(layout, at, 1);
    n++;
  }
  return n;
}

/**
 * The top row that keeps `cursor` on a screen `height` rows tall, scrolling as little as
 * possible, and never leaving blank rows below the document's end when it could fill them.
 */
export function scrollToShow(layout: DocumentLayout, top: RowRef, cursor: RowRef, height: number): RowRef {
  const h = Math.max(1, height);
  let next = top;
  if (compareRows(cursor, next) < 0) next = cursor;
  else if (rowDistance(layout, next, cursor, h) >= h) next = stepRows(layout, cursor, -(h - 1));
  const highest = stepRows(layout, lastRow(layout), -(h - 1));
  if (compareRows(next, highest) > 0) next = highest;
  return next;
}
