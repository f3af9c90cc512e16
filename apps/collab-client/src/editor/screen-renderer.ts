// Builds what the terminal shows as strings of plain ANSI: the text rows with other people's
// cursors painted in, then the status and help lines. ScreenPainter turns a frame into the
// bytes to write, repainting only the rows that changed, all in one write.
import { drawnAs, type DocumentLayout } from './text-layout';
import { stepRows, type RowRef } from './viewport';
import type { PlacedCursor } from './remote-cursors';

const ESC = '\x1b[';

/** One terminal cell: a grapheme's display text, its width, and its SGR parameters. */
interface Cell {
  text: string;
  width: number;
  sgr: string;
}

/** A row of cells indexed by column; null marks the right half of a wide character. */
type CellRow = Array<Cell | null>;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** SGR parameters for a hex colour as background, with black text on it. */
export function colorSgr(hex: string): string {
  return `30;48;2;${rgb(hex)}`;
}

/** SGR parameters for text underlined in a hex colour (plain underline where a terminal has no underline colours). */
export function underlineSgr(hex: string): string {
  return `4;58;2;${rgb(hex)}`;
}

/** Reverse video: our own selection, readable on any colour scheme. */
export const SELECTION_SGR = '7';

function rgb(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `${(n >> 16) & 255};${(n >> 8) & 255};${n & 255}`;
}

/** A stretch of the document [from, to) drawn in a style: a selection. */
export interface Highlight {
  readonly from: number;
  readonly to: number;
  readonly sgr: string;
}

function blankRow(columns: number): CellRow {
  return Array.from({ length: columns }, () => ({ text: ' ', width: 1, sgr: '' }));
}

/** Puts one cell at x, clearing any wide character it cuts in half. */
function putCell(row: CellRow, x: number, cell: Cell): void {
  if (x < 0 || x + cell.width > row.length) return;
  if (row[x] === null && x > 0) row[x - 1] = { text: ' ', width: 1, sgr: row[x - 1]?.sgr ?? '' };
  const end = x + cell.width;
  const last = row[end - 1];
  if (last && last.width === 2 && end < row.length) row[end] = { text: ' ', width: 1, sgr: last.sgr };
  row[x] = cell;
  for (let i = x + 1; i < end; i++) row[i] = null;
}

/** Writes a string's graphemes from column x with one style; returns the column after it. */
function putText(row: CellRow, x: number, text: string, sgr: string, limit = row.length): number {
  let col = x;
  for (const { segment } of segmenter.segment(text)) {
    const { display, width } = drawnAs(segment, col);
    if (col + width > limit) break;
    putCell(row, col, { text: display, width, sgr });
    col += width;
  }
  return col;
}

/** Display width of a string as the cells putText would use. */
export function textWidth(text: string): number {
  let col = 0;
  for (const { segment } of segmenter.segment(text)) col += drawnAs(segment, col).width;
  return col;
}

function serialize(row: CellRow): string {
  let out = '';
  let sgr = '';
  for (const cell of row) {
    if (cell === null) continue;
    if (cell.sgr !== sgr) {
      out += `${ESC}0${cell.sgr ? `;${cell.sgr}` : ''}m`;
      sgr = cell.sgr;
    }
    out += cell.text;
  }
  return sgr ? `${out}${ESC}0m` : out;
}

/**
 * Paints a peer's cursor cell in their colour and their name beside it. The name goes where it
 * hides no text when it can: right after the cursor at the end of the text, else after the
 * row's text; only when the row is too full does it cover text (after the cursor, or before).
 * Returns the column after the label, so the next label on the row starts past it.
 */
function paintCursor(row: CellRow, cursor: PlacedCursor, textEnd: number, floor: number): number {
  const sgr = colorSgr(cursor.color);
  const under = row[cursor.x];
  putCell(row, cursor.x, under ? { ...under, sgr } : { text: ' ', width: 1, sgr });
  const afterCursor = cursor.x + (under?.width ?? 1);
  const width = textWidth(cursor.name);
  const free = Math.max(floor, cursor.x >= textEnd ? afterCursor : textEnd + 1);
  let at: number;
  if (free + width <= row.length) at = free;
  else if (afterCursor + width <= row.length) at = afterCursor;
  else at = Math.max(0, cursor.x - width);
  return putText(row, at, cursor.name, sgr);
}

/**
 * The text area: `height` rows from `top`, each a string of at most `layout.columns` cells,
 * with selections highlighted (later ones over earlier ones) and peers' cursors painted on top.
 */
export function renderTextRows(
  layout: DocumentLayout,
  top: RowRef,
  height: number,
  cursors: readonly PlacedCursor[] = [],
  highlights: readonly Highlight[] = [],
): string[] {
  const lines: string[] = [];
  let ref: RowRef | undefined = top;
  for (let y = 0; y < height; y++) {
    const visual = ref ? layout.rows(ref.line)[ref.row] : undefined;
    const here = cursors.filter((c) => c.y === y);
    const base = ref && visual ? layout.lineStart(ref.line) : 0;
    const lit = ref && visual ? highlights.filter((h) => h.from < h.to && h.from <= base + visual.end && h.to > base + visual.start) : [];
    if (here.length === 0 && lit.length === 0) {
      // Most rows have no one else's cursor and no selection: plain text, no cells to build.
      lines.push(
        (visual?.graphemes ?? [])
          .map((g) => g.display)
          .join('')
          .replace(/ +$/, ''),
      );
    } else {
      const row = blankRow(layout.columns);
      for (const g of visual?.graphemes ?? []) {
        const at = base + g.start;
        const style = lit.filter((h) => h.from <= at && at < h.to).pop();
        putCell(row, g.col, { text: g.display, width: g.width, sgr: style?.sgr ?? '' });
      }
      if (ref && visual) {
        // A selected line break shows as one selected cell after the line's last row.
        const end = layout.lineEnd(ref.line);
        const isLastRow = ref.row === layout.rows(ref.line).length - 1;
        const style = lit.filter((h) => h.from <= end && end < h.to).pop();
        if (isLastRow && style && end < layout.text.length && visual.width < layout.columns) {
          putCell(row, visual.width, { text: ' ', width: 1, sgr: style.sgr });
        }
      }
      let floor = 0;
      for (const c of here.sort((a, b) => a.x - b.x)) floor = paintCursor(row, c, visual?.width ?? 0, floor) + 1;
      lines.push(serialize(row).replace(/ +$/, ''));
    }
    if (ref) {
      const next = stepRows(layout, ref, 1);
      ref = next.line === ref.line && next.row === ref.row ? undefined : next;
    }
  }
  return lines;
}

/** A piece of a status line and how to style it. */
export interface Span {
  readonly text: string;
  /** SGR parameters; empty for the line's own style. */
  readonly sgr?: string;
}

/** One full-width line from styled spans over a base style, cut at `columns` cells. */
export function renderSpans(spans: readonly Span[], columns: number, baseSgr: string, rightSpans: readonly Span[] = []): string {
  const row: CellRow = Array.from({ length: columns }, () => ({ text: ' ', width: 1, sgr: baseSgr }));
  let col = 0;
  for (const s of spans) col = putText(row, col, s.text, s.sgr ? `${baseSgr};${s.sgr}` : baseSgr);
  const rightWidth = rightSpans.reduce((w, s) => w + textWidth(s.text), 0);
  // The right-hand part (a warning) wins over the left when both do not fit.
  let x = Math.max(0, columns - rightWidth);
  for (const s of rightSpans) x = putText(row, x, s.text, s.sgr ? `${baseSgr};${s.sgr}` : baseSgr);
  return serialize(row);
}

/** A whole screen: one string per terminal row, and where the terminal's cursor goes. */
export interface Frame {
  readonly lines: readonly string[];
  readonly cursor?: { readonly x: number; readonly y: number };
}

/**
 * Turns frames into terminal output. It remembers the last frame painted and writes only
 * the rows that differ (each cleared first, so nothing of the old row survives), with the
 * cursor hidden meanwhile, as one string the caller writes at once.
 */
export class ScreenPainter {
  private previous: readonly string[] = [];
  private cursor: Frame['cursor'];

  /** Forgets what is on screen, so the next paint clears and draws everything (after a resize or Ctrl-L). */
  invalidate(): void {
    this.previous = [];
    this.cursor = undefined;
  }

  /** The bytes that turn the screen into `frame` ('' when nothing changed). */
  paint(frame: Frame): string {
    let out = '';
    const full = this.previous.length === 0;
    if (full) out += `${ESC}0m${ESC}H${ESC}2J`;
    frame.lines.forEach((line, y) => {
      if (!full && this.previous[y] === line) return;
      out += `${ESC}${y + 1};1H${ESC}2K${line}`;
    });
    const c = frame.cursor;
    const moved = c?.x !== this.cursor?.x || c?.y !== this.cursor?.y;
    this.previous = [...frame.lines];
    this.cursor = c;
    if (!out && !moved) return '';
    const place = c ? `${ESC}${c.y + 1};${c.x + 1}H${ESC}?25h` : '';
    return out ? `${ESC}?25l${out}${place}` : place;
  }
}
