import * as Y from 'yjs';
import { DocumentLayout, LineLayoutCache } from '../src/editor/text-layout';
import {
  colorForName,
  decodePosition,
  encodeCursor,
  PALETTE,
  peersOf,
  placeCursors,
  safeColor,
  safeName,
} from '../src/editor/remote-cursors';

function docWith(text: string): { doc: Y.Doc; text: Y.Text } {
  const doc = new Y.Doc();
  const t = doc.getText('content');
  t.insert(0, text);
  return { doc, text: t };
}

describe('remote cursors', () => {
  it('gives a name the same colour every time, from the palette', () => {
    expect(colorForName('ann')).toBe(colorForName('ann'));
    expect(PALETTE).toContain(colorForName('bob'));
    const colours = new Set(['ann', 'bob', 'cy', 'dee', 'eve', 'fay'].map(colorForName));
    expect(colours.size).toBeGreaterThan(2);
  });

  it('encodes a cursor as relative-position JSON that follows its character through edits elsewhere', () => {
    const { doc, text } = docWith('hello world');
    const cursor = encodeCursor(text, 6);
    const wire = JSON.parse(JSON.stringify(cursor)) as typeof cursor;
    text.insert(0, '>> ');
    text.delete(text.length - 1, 1);
    expect(decodePosition(wire.head, doc, text)).toBe(9);
    expect(text.toString().slice(9)).toBe('worl');
  });

  it('ignores malformed positions and positions in other types', () => {
    const { doc, text } = docWith('abc');
    expect(decodePosition('nope', doc, text)).toBeUndefined();
    expect(decodePosition({ item: 'x' }, doc, text)).toBeUndefined();
    const other = doc.getText('other');
    other.insert(0, 'zz');
    expect(decodePosition(Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(other, 1)), doc, text)).toBeUndefined();
  });

  it("strips escape sequences and control characters from a peer's name and shortens it", () => {
    expect(safeName('\x1b[2Jev\x07il\n')).toBe('[2Jevil');
    expect(safeName('')).toBe('anonymous');
    expect(safeName(42)).toBe('anonymous');
    expect([...safeName('x'.repeat(100))]).toHaveLength(24);
  });

  it('accepts only #rrggbb colours from peers', () => {
    expect(safeColor('#aabbcc', 1)).toBe('#aabbcc');
    expect(safeColor('red;1m', 1)).toBe(PALETTE[1]);
  });

  it('lists peers but not ourselves, sorted by name, with their cursor index', () => {
    const { doc, text } = docWith('abcdef');
    const states = new Map<number, Record<string, unknown>>([
      [doc.clientID, { user: { name: 'me', color: '#000000' } }],
      [101, { user: { name: 'zed', color: '#112233' }, cursor: encodeCursor(text, 2) }],
      [102, { user: { name: 'amy' } }],
    ]);
    expect(peersOf(states, doc.clientID, doc, text)).toEqual([
      { clientId: 102, name: 'amy', color: PALETTE[102 % PALETTE.length], index: undefined },
      { clientId: 101, name: 'zed', color: '#112233', index: 2 },
    ]);
  });

  it('places cursors on screen by display column, leaving out those scrolled off', () => {
    const layout = new DocumentLayout('l0\nl1\n漢字x\nl3\nl4', new LineLayoutCache(10));
    const peer = (index: number) => ({ clientId: 1, name: 'p', color: '#ffffff', index });
    const top = { line: 1, row: 0 };
    expect(placeCursors(layout, top, 3, [peer(layout.lineStart(2) + 2)])).toEqual([{ x: 4, y: 1, name: 'p', color: '#ffffff' }]);
    expect(placeCursors(layout, top, 3, [peer(0)])).toEqual([]);
    expect(placeCursors(layout, top, 3, [peer(layout.lineStart(4))])).toEqual([]);
    expect(placeCursors(layout, top, 3, [{ clientId: 2, name: 'q', color: '#ffffff' }])).toEqual([]);
  });
});
