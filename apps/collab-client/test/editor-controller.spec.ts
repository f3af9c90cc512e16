import { EventEmitter } from 'node:events';
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import type { ConnectionState } from '@collab/collab-protocol';
import { Editor, UNSAVED_WARNING, cursorAfterDelta } from '../src/editor/editor';
import type { EditorAction } from '../src/editor/key-bindings';
import { stripAnsi } from './editor-screen';

class FakeConnection extends EventEmitter {
  state: ConnectionState = { kind: 'connected' };
  isSaved = true;
}

interface Side {
  doc: Y.Doc;
  awareness: Awareness;
  connection: FakeConnection;
  editor: Editor;
  written: string[];
  quits: number;
  terminal: { columns: number; rows: number; write(s: string): void };
}

const REMOTE = 'remote';
let sides: Side[] = [];

function open(name: string, columns = 40, rows = 8): Side {
  const doc = new Y.Doc();
  const awareness = new Awareness(doc);
  const connection = new FakeConnection();
  const written: string[] = [];
  const terminal = { columns, rows, write: (s: string) => void written.push(s) };
  const side: Side = { doc, awareness, connection, written, quits: 0, terminal } as Side;
  side.editor = new Editor({
    doc,
    awareness,
    connection,
    server: 'localhost:8080',
    document: 'temp',
    name,
    terminal,
    onQuit: () => side.quits++,
    schedule: (paint) => paint(), // synchronous: every change is on "screen" at once
  });
  sides.push(side);
  return side;
}

/** Links two sides like a server would: document updates and awareness both ways. */
function link(a: Side, b: Side): void {
  Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc), REMOTE);
  Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc), REMOTE);
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    from.doc.on('update', (u: Uint8Array, origin: unknown) => origin !== REMOTE && Y.applyUpdate(to.doc, u, REMOTE));
    from.awareness.on('update', ({ added, updated, removed }: Record<string, number[]>, origin: unknown) => {
      if (origin === REMOTE) return;
      applyAwarenessUpdate(to.awareness, encodeAwarenessUpdate(from.awareness, [...added!, ...updated!, ...removed!]), REMOTE);
    });
  }
}

const type = (side: Side, text: string) => {
  for (const ch of text) side.editor.apply(ch === '\n' ? { kind: 'insert', text: '\n' } : { kind: 'insert', text: ch });
};
const act = (side: Side, ...actions: EditorAction[]) => actions.forEach((a) => side.editor.apply(a));
const screen = (side: Side) => side.editor.frame().lines.map(stripAnsi);
const content = (side: Side) => side.doc.getText('content').toString();

afterEach(() => {
  for (const s of sides) {
    s.editor.destroy();
    s.awareness.destroy();
  }
  sides = [];
});

describe('Editor', () => {
  it('types text, moves and deletes by grapheme', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'ab👍🏽c');
    act(a, { kind: 'move', motion: 'left' }, { kind: 'backspace' });
    expect(content(a)).toBe('abc');
    act(a, { kind: 'move', motion: 'home' }, { kind: 'delete' });
    expect(content(a)).toBe('bc');
    expect(a.editor.cursorIndex).toBe(0);
  });

  it('keeps the local cursor on its text when someone else edits before it', () => {
    const a = open('ann');
    const b = open('bob');
    link(a, b);
    a.editor.start();
    b.editor.start();
    type(a, 'hello world');
    act(a, { kind: 'move', motion: 'home' });
    for (let i = 0; i < 6; i++) act(a, { kind: 'move', motion: 'right' });
    expect(a.editor.cursorIndex).toBe(6); // before "world"
    act(b, { kind: 'move', motion: 'doc-start' });
    type(b, 'Oh, ');
    expect(content(a)).toBe('Oh, hello world');
    expect(content(a).slice(a.editor.cursorIndex)).toBe('world');
    type(a, 'big ');
    expect(content(b)).toBe('Oh, hello big world');
  });

  it('keeps an idle cursor at the end where it was when someone else types after it', () => {
    const a = open('ann');
    const b = open('bob');
    link(a, b);
    a.editor.start();
    b.editor.start();
    type(a, 'hello\n');
    act(b, { kind: 'move', motion: 'doc-end' });
    type(b, 'world');
    expect(content(a)).toBe('hello\nworld');
    expect(a.editor.cursorIndex).toBe(6); // still at the start of the last line, before bob's text
    expect(a.editor.frame().cursor).toEqual({ x: 0, y: 1 });
    type(a, '> ');
    expect(content(b)).toBe('hello\n> world');
  });

  it('keeps an idle cursor before text someone types right at it, on their screen as on ours', () => {
    const a = open('ann');
    const b = open('bob');
    link(a, b);
    a.editor.start();
    b.editor.start();
    type(a, 'hello world');
    act(a, { kind: 'move', motion: 'home' });
    for (let i = 0; i < 5; i++) act(a, { kind: 'move', motion: 'right' });
    act(b, { kind: 'move', motion: 'home' });
    for (let i = 0; i < 5; i++) act(b, { kind: 'move', motion: 'right' });
    type(b, ', dear');
    expect(content(a)).toBe('hello, dear world');
    expect(a.editor.cursorIndex).toBe(5);
    // Bob sees Ann's cursor where Ann sees it: right after "hello", not dragged along.
    expect(screen(b)[0]).toBe('hello, dear world ann');
    expect(b.editor.frame().cursor).toEqual({ x: 11, y: 0 });
  });

  it("undoes only one's own edits", () => {
    const a = open('ann');
    const b = open('bob');
    link(a, b);
    a.editor.start();
    b.editor.start();
    type(a, 'mine ');
    act(b, { kind: 'move', motion: 'doc-end' });
    type(b, 'theirs');
    act(a, { kind: 'undo' });
    expect(content(a)).toBe('theirs');
    expect(content(b)).toBe('theirs');
    act(a, { kind: 'redo' });
    expect(content(b)).toBe('mine theirs');
  });

  it('makes a paste one undo step of its own', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'x');
    act(a, { kind: 'insert', text: 'pasted\ntext\n', paste: true });
    type(a, 'y');
    act(a, { kind: 'undo' });
    expect(content(a)).toBe('xpasted\ntext\n');
    act(a, { kind: 'undo' });
    expect(content(a)).toBe('x');
    expect(a.editor.cursorIndex).toBe(1);
  });

  it("shows the peer's cursor with their name and lists them on the status line", () => {
    const a = open('ann');
    const b = open('bob');
    link(a, b);
    a.editor.start();
    b.editor.start();
    type(b, 'bob was here');
    expect(screen(a)[0]).toBe('bob was here bob');
    expect(screen(a)[6]).toContain('with  bob');
    expect(screen(b)[6]).toContain('with  ann');
  });

  it('scrolls to keep the cursor on screen and keeps the top on its text when lines are added above', () => {
    const a = open('ann', 20, 5); // 3 text rows
    const b = open('bob', 20, 5);
    link(a, b);
    a.editor.start();
    b.editor.start();
    type(a, 'l1\nl2\nl3\nl4\nl5');
    act(b, { kind: 'move', motion: 'doc-start' });
    expect(screen(a).slice(0, 3)).toEqual(['l3', 'l4', 'l5']);
    type(b, 'new\n');
    expect(screen(a).slice(0, 3)).toEqual(['l3', 'l4', 'l5']);
    expect(a.editor.frame().cursor).toEqual({ x: 2, y: 2 });
  });

  it('re-wraps on resize', () => {
    const a = open('ann', 20, 5);
    a.editor.start();
    type(a, 'abcdefghij');
    a.terminal.columns = 4;
    a.editor.resize();
    expect(screen(a).slice(0, 3)).toEqual(['abcd', 'efgh', 'ij']);
    expect(a.editor.frame().cursor).toEqual({ x: 2, y: 2 });
    expect(a.written[a.written.length - 1]).toContain('\x1b[2J');
  });

  it('warns once before quitting with unsaved edits; a second Ctrl-Q quits', () => {
    const a = open('ann');
    a.editor.start();
    a.connection.isSaved = false;
    act(a, { kind: 'quit' });
    expect(a.quits).toBe(0);
    expect(screen(a)[6]).toContain(UNSAVED_WARNING);
    act(a, { kind: 'quit' });
    expect(a.quits).toBe(1);
  });

  it('quits at once when everything is saved', () => {
    const a = open('ann');
    a.editor.start();
    act(a, { kind: 'quit' });
    expect(a.quits).toBe(1);
  });

  it('shows the reconnect countdown and unsaved state', () => {
    const a = open('ann');
    a.editor.start();
    a.connection.state = { kind: 'reconnecting', inMs: 2000, reason: 'gone' };
    a.connection.isSaved = false;
    a.connection.emit('state', a.connection.state);
    expect(screen(a)[6]).toMatch(/reconnecting in [12]s · unsaved/);
  });

  it('withdraws its presence when destroyed', () => {
    const a = open('ann');
    const b = open('bob');
    link(a, b);
    a.editor.start();
    b.editor.start();
    expect(b.awareness.getStates().has(a.doc.clientID)).toBe(true);
    a.editor.destroy();
    expect(b.awareness.getStates().has(a.doc.clientID)).toBe(false);
  });

  it('selects with Shift and replaces the selection with what is typed', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'hello world');
    act(a, { kind: 'move', motion: 'home' });
    act(a, { kind: 'move', motion: 'word-right', select: true });
    expect(a.editor.selectedText).toBe('hello');
    type(a, 'J');
    expect(content(a)).toBe('J world');
    expect(a.editor.selectedText).toBe('');
  });

  it('deletes the selection with Backspace or Delete, and collapses it with Left, Right or Esc', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'one two three');
    act(a, { kind: 'move', motion: 'word-left', select: true }, { kind: 'backspace' });
    expect(content(a)).toBe('one two ');
    act(a, { kind: 'move', motion: 'home', select: true }, { kind: 'move', motion: 'left' });
    expect(a.editor.cursorIndex).toBe(0);
    expect(a.editor.selectedText).toBe('');
    act(a, { kind: 'move', motion: 'end', select: true }, { kind: 'move', motion: 'right' });
    expect(a.editor.cursorIndex).toBe(8);
    act(a, { kind: 'move', motion: 'home', select: true }, { kind: 'escape' });
    expect(a.editor.selectedText).toBe('');
    expect(a.editor.cursorIndex).toBe(0);
    act(a, { kind: 'move', motion: 'word-right', select: true }, { kind: 'delete' });
    expect(content(a)).toBe(' two ');
  });

  it('cuts and pastes the selection (Ctrl-X, Ctrl-V), each one undo step', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'alpha beta');
    a.editor.undoManager.stopCapturing();
    act(a, { kind: 'move', motion: 'word-left', select: true }, { kind: 'cut' });
    expect(content(a)).toBe('alpha ');
    act(a, { kind: 'move', motion: 'home' }, { kind: 'paste' }, { kind: 'paste' });
    expect(content(a)).toBe('betabetaalpha ');
    act(a, { kind: 'undo' });
    expect(content(a)).toBe('betaalpha ');
    act(a, { kind: 'undo' }, { kind: 'undo' });
    expect(content(a)).toBe('alpha beta');
  });

  it('copies or cuts the whole line when nothing is selected, and pastes it as a line', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'first\nsecond\n');
    act(a, { kind: 'move', motion: 'up' }, { kind: 'copy' });
    expect(content(a)).toBe('first\nsecond\n');
    expect(screen(a)[6]).toContain('Copied the line');
    act(a, { kind: 'move', motion: 'doc-start' }, { kind: 'paste' });
    expect(content(a)).toBe('second\nfirst\nsecond\n');
    act(a, { kind: 'cut' });
    expect(content(a)).toBe('second\nsecond\n');
    expect(screen(a)[6]).toContain('Cut the line');
  });

  it('says how to fill the clipboard when there is nothing to paste', () => {
    const a = open('ann');
    a.editor.start();
    act(a, { kind: 'paste' });
    expect(screen(a)[6]).toContain('Nothing to paste');
    expect(content(a)).toBe('');
  });

  it('selects everything with Ctrl-A', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'all\nof it');
    act(a, { kind: 'move', motion: 'doc-start' }, { kind: 'select-all' });
    expect(a.editor.selectedText).toBe('all\nof it');
  });

  it('copies to the terminal clipboard too (OSC 52)', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'héllo');
    act(a, { kind: 'select-all' }, { kind: 'copy' });
    expect(a.written.join('')).toContain(`\x1b]52;c;${Buffer.from('héllo').toString('base64')}\x07`);
  });

  it('draws the selection in reverse video', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'abc def');
    act(a, { kind: 'move', motion: 'word-left', select: true });
    const row = a.editor.frame().lines[0]!;
    expect(row).toContain('\x1b[0;7mdef');
    expect(stripAnsi(row)).toBe('abc def');
  });

  it("keeps the selection on its text through someone else's edits, and shows it to them underlined in our colour", () => {
    const a = open('ann');
    const b = open('bob');
    link(a, b);
    a.editor.start();
    b.editor.start();
    type(a, 'keep this part');
    act(a, { kind: 'move', motion: 'word-left' }, { kind: 'move', motion: 'end', select: true });
    act(b, { kind: 'move', motion: 'doc-start' });
    type(b, '>> ');
    expect(a.editor.selectedText).toBe('part');
    const row = b.editor.frame().lines[0]!;
    expect(stripAnsi(row)).toBe('>> keep this part ann');
    expect(row).toMatch(/\x1b\[0;4;58;2;\d+;\d+;\d+mpart/);
  });

  it('finds text with Ctrl-F: the prompt on the status line, Enter selects the next match, and wraps to the top', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'one fish\ntwo fish\nred fish');
    act(a, { kind: 'move', motion: 'doc-start' }, { kind: 'find' });
    type(a, 'fish');
    expect(screen(a)[6]).toMatch(/^ Find: fish +Enter: next · Esc: done $/);
    expect(a.editor.frame().cursor).toEqual({ x: 11, y: 6 });
    act(a, { kind: 'insert', text: '\n' });
    expect([a.editor.cursorIndex, a.editor.selectedText]).toEqual([8, 'fish']);
    act(a, { kind: 'insert', text: '\n' }, { kind: 'insert', text: '\n' });
    expect(a.editor.cursorIndex).toBe(26);
    act(a, { kind: 'insert', text: '\n' });
    expect(a.editor.cursorIndex).toBe(8);
    expect(screen(a)[6]).toContain('Wrapped to the top');
  });

  it('says when nothing matches, and closes the prompt with Esc keeping the match selected', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'Hello world');
    act(a, { kind: 'find' });
    type(a, 'World');
    act(a, { kind: 'insert', text: '\n' });
    expect(screen(a)[6]).toContain('Not found: World');
    act(a, { kind: 'backspace' }, { kind: 'backspace' }, { kind: 'backspace' }, { kind: 'backspace' }, { kind: 'backspace' });
    type(a, 'world');
    act(a, { kind: 'insert', text: '\n' }, { kind: 'escape' });
    expect(screen(a)[6]).toContain('connected');
    expect(a.editor.selectedText).toBe('world');
    // ^F offers the last text searched for again.
    act(a, { kind: 'find' });
    expect(screen(a)[6]).toMatch(/^ Find: world /);
  });

  it('closes the find prompt on any other key, which then does what it always does', () => {
    const a = open('ann');
    a.editor.start();
    type(a, 'abc');
    act(a, { kind: 'find' }, { kind: 'move', motion: 'home' });
    expect(screen(a)[6]).toContain('connected');
    expect(a.editor.cursorIndex).toBe(0);
  });

  it('lists every key on the help screen (F1 / Ctrl-G); arrows scroll it, any other key goes back', () => {
    const a = open('ann', 80, 30);
    a.editor.start();
    type(a, 'my text');
    act(a, { kind: 'help' });
    const help = screen(a).join('\n');
    for (const key of [
      'Arrows',
      'Ctrl-Left',
      'Home / End',
      'PgUp',
      'Ctrl-Home',
      'Shift',
      'Ctrl-A',
      'Esc',
      'Ctrl-C',
      'Ctrl-X',
      'Ctrl-V',
      'Backspace',
      'Enter',
      'Ctrl-Z',
      'Ctrl-F',
      'Ctrl-L',
      'F1 / Ctrl-G',
      'Ctrl-Q',
    ]) {
      expect(help).toContain(key);
    }
    expect(help).not.toContain('my text');
    expect(a.editor.frame().cursor).toBeUndefined();
    act(a, { kind: 'insert', text: 'x' });
    expect(screen(a)[0]).toBe('my text');
    expect(content(a)).toBe('my text'); // the key that closed the help typed nothing
  });

  it('scrolls the help screen when it does not fit', () => {
    const a = open('ann', 80, 8);
    a.editor.start();
    act(a, { kind: 'help' });
    expect(screen(a)[0]).toMatch(/^Keys/);
    act(a, { kind: 'move', motion: 'page-down' });
    expect(screen(a)[0]).not.toMatch(/^Keys/);
    act(a, { kind: 'move', motion: 'page-down' }, { kind: 'move', motion: 'page-down' }, { kind: 'move', motion: 'page-down' });
    expect(screen(a).slice(0, 6).join('\n')).toContain('Ctrl-Q');
  });

  it('says that a key does nothing instead of ignoring it', () => {
    const a = open('ann', 60);
    a.editor.start();
    act(a, { kind: 'unknown', key: 'Ctrl-B' });
    expect(screen(a)[6]).toContain('Ctrl-B does nothing here · F1 or ^G: help');
  });

  it('places the cursor after undo where the change was', () => {
    expect(cursorAfterDelta([{ retain: 3 }, { insert: 'abc' }])).toBe(6);
    expect(cursorAfterDelta([{ retain: 3 }, { delete: 2 }])).toBe(3);
    expect(cursorAfterDelta([])).toBeUndefined();
  });
});
