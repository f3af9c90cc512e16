import { emitKeypressEvents } from 'node:readline';
import { PassThrough } from 'node:stream';
import { actionForKey, KeyInput, pastedText, type EditorAction, type Keypress } from '../src/editor/key-bindings';

/** Feeds raw terminal bytes through Node's own keypress parser, as the editor gets them. */
function actionsFor(bytes: string): EditorAction[] {
  const stream = new PassThrough();
  emitKeypressEvents(stream);
  const input = new KeyInput();
  const actions: EditorAction[] = [];
  stream.on('keypress', (str: string | undefined, key: Keypress) => {
    const action = input.feed(str, key);
    if (action) actions.push(action);
  });
  stream.write(bytes);
  return actions;
}

describe('key bindings', () => {
  it('inserts printable characters, wide ones and emoji included', () => {
    expect(actionsFor('a漢👍')).toEqual([
      { kind: 'insert', text: 'a' },
      { kind: 'insert', text: '漢' },
      { kind: 'insert', text: '👍' },
    ]);
  });

  it('maps the cursor keys, Home/End and PageUp/PageDown, in both xterm encodings', () => {
    expect(actionsFor('\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F\x1bOH\x1b[4~\x1b[5~\x1b[6~').map((a) => a.kind === 'move' && a.motion)).toEqual(
      ['up', 'down', 'right', 'left', 'home', 'end', 'home', 'end', 'page-up', 'page-down'],
    );
  });

  it('maps Ctrl-Home and Ctrl-End to the start and end of the document', () => {
    expect(actionsFor('\x1b[1;5H\x1b[1;5F')).toEqual([
      { kind: 'move', motion: 'doc-start' },
      { kind: 'move', motion: 'doc-end' },
    ]);
  });

  it('moves by word with Ctrl-Left / Ctrl-Right, and with Alt-Left / Alt-Right, Alt-B / Alt-F as terminals send them', () => {
    expect(actionsFor('\x1b[1;5D\x1b[1;5C\x1b[1;3D\x1b[1;3C\x1bb\x1bf').map((a) => a.kind === 'move' && a.motion)).toEqual([
      'word-left',
      'word-right',
      'word-left',
      'word-right',
      'word-left',
      'word-right',
    ]);
  });

  it('maps Backspace (DEL and ^H), Delete, Enter and Tab', () => {
    expect(actionsFor('\x7f\x08\x1b[3~\r\t')).toEqual([
      { kind: 'backspace' },
      { kind: 'backspace' },
      { kind: 'delete' },
      { kind: 'insert', text: '\n' },
      { kind: 'insert', text: '\t' },
    ]);
  });

  it('maps Ctrl-Q, Ctrl-Z, Ctrl-Y and Ctrl-L', () => {
    expect(actionsFor('\x11\x1a\x19\x0c')).toEqual([{ kind: 'quit' }, { kind: 'undo' }, { kind: 'redo' }, { kind: 'redraw' }]);
  });

  it('maps Ctrl-C, Ctrl-X and Ctrl-V to copy, cut and paste (Ctrl-C does not quit), Ctrl-A to select all', () => {
    expect(actionsFor('\x03\x18\x16\x01')).toEqual([{ kind: 'copy' }, { kind: 'cut' }, { kind: 'paste' }, { kind: 'select-all' }]);
  });

  it('selects with Shift and any movement key: arrows, Home/End, PgUp/PgDn, by word, to the document ends', () => {
    const moves = actionsFor(
      '\x1b[1;2D\x1b[1;2C\x1b[1;2A\x1b[1;2B\x1b[1;2H\x1b[1;2F\x1b[5;2~\x1b[6;2~\x1b[1;6D\x1b[1;6C\x1b[1;6H\x1b[1;6F',
    );
    expect(moves.every((a) => a.kind === 'move' && a.select === true)).toBe(true);
    expect(moves.map((a) => a.kind === 'move' && a.motion)).toEqual([
      'left',
      'right',
      'up',
      'down',
      'home',
      'end',
      'page-up',
      'page-down',
      'word-left',
      'word-right',
      'doc-start',
      'doc-end',
    ]);
  });

  it('maps a lone Esc to escape', () => {
    expect(actionForKey(undefined, { name: 'escape', sequence: '\x1b', meta: true })).toEqual({ kind: 'escape' });
  });

  it('opens find with Ctrl-F and the help screen with F1 (both encodings) or Ctrl-G', () => {
    expect(actionsFor('\x06\x1bOP\x1b[11~\x07')).toEqual([{ kind: 'find' }, { kind: 'help' }, { kind: 'help' }, { kind: 'help' }]);
  });

  it('names a key bound to nothing instead of ignoring it: other Ctrl keys, Alt keys, function keys, unknown sequences', () => {
    expect(actionsFor('\x02\x1bx\x1b[15~\x1b[Z\x1b[2~\x1c\x1b[99~')).toEqual([
      { kind: 'unknown', key: 'Ctrl-B' },
      { kind: 'unknown', key: 'Alt-X' },
      { kind: 'unknown', key: 'F5' },
      { kind: 'unknown', key: 'Shift-Tab' },
      { kind: 'unknown', key: 'Insert' },
      { kind: 'unknown', key: 'Ctrl-\\' },
      { kind: 'unknown', key: 'ESC [99~' },
    ]);
  });

  it('answers Ctrl-S, which people press out of habit, with why there is nothing to save', () => {
    expect(actionsFor('\x13')).toEqual([{ kind: 'hint', text: 'No need to save: every edit is stored as you type' }]);
  });

  it('turns a bracketed paste into one insert, newlines and tabs as text', () => {
    expect(actionsFor('\x1b[200~line 1\r\nline 2\rline\t3\n\x1b[201~x')).toEqual([
      { kind: 'insert', text: 'line 1\nline 2\nline\t3\n', paste: true },
      { kind: 'insert', text: 'x' },
    ]);
  });

  it('keeps a paste split over many chunks together', () => {
    const stream = new PassThrough();
    emitKeypressEvents(stream);
    const input = new KeyInput();
    const actions: EditorAction[] = [];
    stream.on('keypress', (str: string | undefined, key: Keypress) => {
      const a = input.feed(str, key);
      if (a) actions.push(a);
    });
    const bytes = `\x1b[200~${'abc漢\n'.repeat(1000)}\x1b[201~`;
    for (let i = 0; i < bytes.length; i += 7) stream.write(bytes.slice(i, i + 7));
    expect(actions).toEqual([{ kind: 'insert', text: 'abc漢\n'.repeat(1000), paste: true }]);
  });

  it('drops control characters and escape sequences from pasted text', () => {
    expect(pastedText(['a', '\x07', 'b\r\n'])).toBe('ab\n');
    expect(actionsFor('\x1b[200~a\x1b[31mb\x1b[201~')).toEqual([{ kind: 'insert', text: 'ab', paste: true }]);
  });
});
