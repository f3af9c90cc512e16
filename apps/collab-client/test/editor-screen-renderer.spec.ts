import { DocumentLayout, LineLayoutCache } from '../src/editor/text-layout';
import { renderTextRows, ScreenPainter } from '../src/editor/screen-renderer';
import { renderStatusLine } from '../src/editor/status-line';
import { stripAnsi } from './editor-screen';

const layoutOf = (text: string, columns: number) => new DocumentLayout(text, new LineLayoutCache(columns));
const plain = (lines: string[]) => lines.map(stripAnsi);

describe('renderTextRows', () => {
  it('draws wrapped rows and blank rows after the end of the text', () => {
    const layout = layoutOf('abcdef\nxy', 4);
    expect(plain(renderTextRows(layout, { line: 0, row: 0 }, 4))).toEqual(['abcd', 'ef', 'xy', '']);
  });

  it('draws wide characters and emoji once, at their width', () => {
    const layout = layoutOf('a漢👍🏽b', 10);
    expect(plain(renderTextRows(layout, { line: 0, row: 0 }, 1))).toEqual(['a漢👍🏽b']);
  });

  it("paints a peer's cursor in their colour with the name after the end of the text", () => {
    const layout = layoutOf('hello', 20);
    const [row] = renderTextRows(layout, { line: 0, row: 0 }, 1, [{ x: 1, y: 0, name: 'ann', color: '#ff0000' }]);
    expect(stripAnsi(row!)).toBe('hello ann');
    expect(row).toContain('\x1b[0;30;48;2;255;0;0me'); // the cell under the cursor, in red
  });

  it('highlights a selection over wrapped rows and shows a selected line break as one cell', () => {
    const layout = layoutOf('abcdef\nxy', 4);
    const rows = renderTextRows(layout, { line: 0, row: 0 }, 3, [], [{ from: 2, to: 8, sgr: '7' }]);
    expect(rows).toEqual(['ab\x1b[0;7mcd\x1b[0m', '\x1b[0;7mef \x1b[0m', '\x1b[0;7mx\x1b[0my']);
  });

  it('puts the name right after a cursor at the end of the text', () => {
    const layout = layoutOf('hello', 20);
    const [row] = renderTextRows(layout, { line: 0, row: 0 }, 1, [{ x: 5, y: 0, name: 'ann', color: '#ff0000' }]);
    expect(stripAnsi(row!)).toBe('hello ann');
  });

  it('covers text with the name only when the row is too full, never cutting a wide character in half', () => {
    const layout = layoutOf('漢字漢字漢', 10);
    const [row] = renderTextRows(layout, { line: 0, row: 0 }, 1, [{ x: 0, y: 0, name: 'abc', color: '#00ff00' }]);
    expect(stripAnsi(row!)).toBe('漢abc 字漢');
  });

  it('keeps two labels on one row apart', () => {
    const layout = layoutOf('abcdef', 30);
    const [row] = renderTextRows(layout, { line: 0, row: 0 }, 1, [
      { x: 1, y: 0, name: 'ann', color: '#ff0000' },
      { x: 3, y: 0, name: 'bob', color: '#0000ff' },
    ]);
    expect(stripAnsi(row!)).toBe('abcdef ann bob');
  });
});

describe('ScreenPainter', () => {
  it('clears and draws everything first, then only the rows that changed', () => {
    const painter = new ScreenPainter();
    const first = painter.paint({ lines: ['a', 'b', 'c'], cursor: { x: 1, y: 0 } });
    expect(first).toContain('\x1b[2J');
    const second = painter.paint({ lines: ['a', 'B', 'c'], cursor: { x: 1, y: 1 } });
    expect(second).toBe('\x1b[?25l\x1b[2;1H\x1b[2KB\x1b[2;2H\x1b[?25h');
    expect(painter.paint({ lines: ['a', 'B', 'c'], cursor: { x: 1, y: 1 } })).toBe('');
    expect(painter.paint({ lines: ['a', 'B', 'c'], cursor: { x: 0, y: 2 } })).toBe('\x1b[3;1H\x1b[?25h');
  });

  it('repaints everything after invalidate()', () => {
    const painter = new ScreenPainter();
    painter.paint({ lines: ['a', 'b'] });
    painter.invalidate();
    const out = painter.paint({ lines: ['a', 'b'] });
    expect(out).toContain('\x1b[2J');
    expect(out).toContain('\x1b[2;1H\x1b[2Kb');
  });
});

describe('status line', () => {
  const base = { server: 'localhost:8080', document: 'temp', now: 1000, saved: true, peers: [] };

  it('shows server, document, connected, saved and who else is here', () => {
    const line = renderStatusLine({ ...base, state: { kind: 'connected' }, peers: [{ clientId: 1, name: 'bob', color: '#ff0000' }] }, 80);
    expect(stripAnsi(line).trimEnd()).toBe(' localhost:8080 · temp · connected · saved · with  bob');
  });

  it('counts down to the next reconnect attempt and shows unsaved edits', () => {
    const line = renderStatusLine(
      { ...base, saved: false, state: { kind: 'reconnecting', inMs: 3000, reason: 'x' }, reconnectAt: 3500 },
      80,
    );
    expect(stripAnsi(line)).toContain('reconnecting in 3s · unsaved');
  });

  it('is exactly the width of the terminal, dropping the server first when narrow', () => {
    const line = stripAnsi(renderStatusLine({ ...base, state: { kind: 'connected' } }, 30));
    expect(line).toHaveLength(30);
    expect(line.trimEnd()).toBe(' temp · connected · saved');
  });

  it('shows a message at the right', () => {
    const line = stripAnsi(renderStatusLine({ ...base, state: { kind: 'connected' }, message: 'hi there' }, 60));
    expect(line.endsWith(' hi there ')).toBe(true);
  });
});
