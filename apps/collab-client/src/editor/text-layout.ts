// How the document's text lands on the terminal's cells: logical lines, graphemes, display
// columns and soft wrapping.
//
// We WRAP long lines (no horizontal scroll): a shared document is read more than it is
// written, and wrapping keeps every character of the visible lines on screen, other people's
// cursors included, without a second scroll offset to keep in step. A line becomes one or more
// visual rows; a grapheme never straddles two rows (a wide one that does not fit moves down).
//
// Offsets are UTF-16 indices, the unit Y.Text uses, so an offset here is an index there.
import stringWidth from 'string-width';

/** Columns a tab advances to (the next multiple of this). */
export const TAB_STOP = 4;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** One user-perceived character as drawn: where it is in its line and what it occupies. */
export interface Grapheme {
  /** UTF-16 offset of its first code unit within the line. */
  readonly start: number;
  /** UTF-16 offset just past it within the line. */
  readonly end: number;
  /** Column of its first cell within its visual row. */
  readonly col: number;
  /** Cells it occupies. */
  readonly width: number;
  /** What to write to the terminal for it (control characters and tabs are made visible). */
  readonly display: string;
}

/** One screen row's worth of a logical line. */
export interface VisualRow {
  /** Offsets within the line: [start, end). */
  readonly start: number;
  readonly end: number;
  readonly graphemes: readonly Grapheme[];
  /** Cells used. */
  readonly width: number;
}

const widths = new Map<string, number>();

/** string-width of a grapheme, remembered: it runs regular expressions, and a frame asks for thousands. */
function widthOf(grapheme: string): number {
  let width = widths.get(grapheme);
  if (width === undefined) {
    if (widths.size >= 10_000) widths.clear();
    width = stringWidth(grapheme);
    widths.set(grapheme, width);
  }
  return width;
}

/** How a grapheme is drawn when it starts at display column `col` (tabs depend on it). */
export function drawnAs(text: string, col: number): { display: string; width: number } {
  if (text === '\t') {
    const width = TAB_STOP - (col % TAB_STOP);
    return { display: ' '.repeat(width), width };
  }
  const code = text.charCodeAt(0);
  // Control characters would move the terminal's cursor: show them in caret notation.
  if (text.length === 1 && (code < 0x20 || code === 0x7f)) {
    return { display: `^${String.fromCharCode(code === 0x7f ? 0x3f : code + 0x40)}`, width: 2 };
  }
  // Printable ASCII is nearly every keystroke: no need to ask string-width about it.
  if (text.length === 1 && code < 0x7f) return { display: text, width: 1 };
  const width = widthOf(text);
  // A lone combining mark (or other zero-width grapheme) gets a cell of its own, on a space,
  // so the cursor can stand on it and it cannot merge into the cell before it.
  if (width === 0) return { display: ` ${text}`, width: 1 };
  return { display: text, width };
}

/** Splits a line into graphemes (Intl.Segmenter) and wraps them into rows of at most `columns` cells. */
export function wrapLine(line: string, columns: number): VisualRow[] {
  const cols = Math.max(1, columns);
  const rows: VisualRow[] = [];
  let graphemes: Grapheme[] = [];
  let rowStart = 0;
  let col = 0;
  for (const { segment, index } of segmenter.segment(line)) {
    let drawn = drawnAs(segment, col);
    if (col > 0 && col + drawn.width > cols) {
      rows.push({ start: rowStart, end: index, graphemes, width: col });
      graphemes = [];
      rowStart = index;
      col = 0;
      drawn = drawnAs(segment, 0);
    }
    // A tab never runs past the row's end.
    const width = segment === '\t' ? Math.min(drawn.width, cols - col) : drawn.width;
    const display = segment === '\t' ? ' '.repeat(width) : drawn.display;
    graphemes.push({ start: index, end: index + segment.length, col, width, display });
    col += width;
  }
  rows.push({ start: rowStart, end: line.length, graphemes, width: col });
  // A full last row leaves no cell for the cursor at the end of the line: give it a row of its own.
  if (col >= cols) rows.push({ start: line.length, end: line.length, graphemes: [], width: 0 });
  return rows;
}

/** Wrapped lines by their text, for one width; lines that did not change are not segmented again. */
export class LineLayoutCache {
  private readonly rowsByText = new Map<string, VisualRow[]>();

  constructor(
    readonly columns: number,
    private readonly maxEntries = 20_000,
  ) {}

  /** The rows of `line` at this cache's width. */
  rows(line: string): VisualRow[] {
    let rows = this.rowsByText.get(line);
    if (!rows) {
      if (this.rowsByText.size >= this.maxEntries) this.rowsByText.clear();
      rows = wrapLine(line, this.columns);
      this.rowsByText.set(line, rows);
    }
    return rows;
  }
}

/** A cursor position on screen, relative to the document: logical line, visual row within it, column. */
export interface Located {
  readonly line: number;
  readonly row: number;
  readonly col: number;
}

/**
 * The document laid out for one terminal width. Line starts are found eagerly (one indexOf
 * pass); lines are segmented and wrapped only when asked for, through the shared cache, so a
 * keystroke costs the lines on screen, not the whole document.
 */
export class DocumentLayout {
  private readonly starts: number[] = [0];

  constructor(
    readonly text: string,
    private readonly cache: LineLayoutCache,
  ) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** Width the lines are wrapped to. */
  get columns(): number {
    return this.cache.columns;
  }

  /** Number of logical lines (a trailing newline starts an empty last line). */
  get lineCount(): number {
    return this.starts.length;
  }

  /** Document offset of the line's first character. */
  lineStart(line: number): number {
    return this.starts[line]!;
  }

  /** Document offset just past the line's last character (its newline excluded). */
  lineEnd(line: number): number {
    return line + 1 < this.starts.length ? this.starts[line + 1]! - 1 : this.text.length;
  }

  /** The line's text without its newline. */
  lineText(line: number): string {
    return this.text.slice(this.lineStart(line), this.lineEnd(line));
  }

  /** The line's visual rows. */
  rows(line: number): readonly VisualRow[] {
    return this.cache.rows(this.lineText(line));
  }

  /** The logical line holding document offset `index`. */
  lineOf(index: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Where a cursor at `index` is drawn; an index at a row break belongs to the row it starts. */
  locate(index: number): Located {
    const at = this.clamp(index);
    const line = this.lineOf(at);
    const offset = at - this.lineStart(line);
    const rows = this.rows(line);
    let row = rows.length - 1;
    while (row > 0 && rows[row]!.start > offset) row--;
    const r = rows[row]!;
    const g = r.graphemes.find((x) => x.start >= offset);
    return { line, row, col: g ? g.col : r.width };
  }

  /**
   * The grapheme boundary in (line, row) nearest to column `col` from the left: what moving
   * up or down lands on. Only the line's last row can be left past its end, since the end of
   * any other row is the start of the next.
   */
  indexAt(line: number, row: number, col: number): number {
    const rows = this.rows(line);
    const rowIndex = Math.min(row, rows.length - 1);
    const r = rows[rowIndex]!;
    const base = this.lineStart(line);
    for (const g of r.graphemes) if (col < g.col + g.width) return base + g.start;
    const last = r.graphemes[r.graphemes.length - 1];
    return base + (rowIndex === rows.length - 1 || !last ? r.end : last.start);
  }

  /** The grapheme boundary after `index` (a newline is one step). */
  nextBoundary(index: number): number {
    const at = this.clamp(index);
    if (at >= this.text.length) return this.text.length;
    const line = this.lineOf(at);
    if (at >= this.lineEnd(line)) return at + 1;
    const offset = at - this.lineStart(line);
    for (const r of this.rows(line)) {
      for (const g of r.graphemes) if (g.end > offset) return this.lineStart(line) + g.end;
    }
    return this.lineEnd(line);
  }

  /** The grapheme boundary before `index`. */
  prevBoundary(index: number): number {
    const at = this.clamp(index);
    if (at <= 0) return 0;
    const line = this.lineOf(at);
    if (at === this.lineStart(line)) return at - 1;
    const offset = at - this.lineStart(line);
    let found = 0;
    for (const r of this.rows(line)) {
      for (const g of r.graphemes) {
        if (g.start >= offset) return this.lineStart(line) + found;
        found = g.start;
      }
    }
    return this.lineStart(line) + found;
  }

  /** Rounds an arbitrary offset down to a grapheme boundary (a remote edit may split one). */
  snap(index: number): number {
    const at = this.clamp(index);
    const line = this.lineOf(at);
    const offset = at - this.lineStart(line);
    let found = 0;
    for (const r of this.rows(line)) {
      for (const g of r.graphemes) {
        if (g.start === offset) return at;
        if (g.start > offset) return this.lineStart(line) + found;
        found = g.start;
      }
    }
    return offset >= this.lineEnd(line) - this.lineStart(line) ? at : this.lineStart(line) + found;
  }

  private clamp(index: number): number {
    return Math.max(0, Math.min(this.text.length, index));
  }
}
