// Keys to editor actions. Keys arrive as Node's readline keypress events (emitKeypressEvents
// parses the escape sequences, bracketed paste included); this file only decides what each
// one means, so it is tested without a terminal.
import type { Motion } from './cursor-motion';

/** What readline's emitKeypressEvents reports for one key. */
export interface Keypress {
  name?: string;
  sequence?: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
}

/** Everything a key can ask the editor to do. */
export type EditorAction =
  | { readonly kind: 'insert'; readonly text: string; readonly paste?: boolean }
  | { readonly kind: 'move'; readonly motion: Motion }
  | { readonly kind: 'backspace' }
  | { readonly kind: 'delete' }
  | { readonly kind: 'undo' }
  | { readonly kind: 'redo' }
  | { readonly kind: 'quit' }
  | { readonly kind: 'redraw' }
  | { readonly kind: 'hint'; readonly text: string };

/** The help line's text. */
export const HELP_TEXT = '^Q quit  ^Z undo  ^Y redo  ^L redraw  arrows Home End PgUp PgDn move  ^Left/^Right word  ^Home/^End top/bottom';

const MOTIONS: Record<string, Motion> = {
  left: 'left',
  right: 'right',
  up: 'up',
  down: 'down',
  home: 'home',
  end: 'end',
  pageup: 'page-up',
  pagedown: 'page-down',
};

// C0 controls and DEL: never inserted from a key (they would only garble the document).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');

/** The action for one key outside a paste, or undefined for keys that do nothing. */
export function actionForKey(str: string | undefined, key: Keypress): EditorAction | undefined {
  const name = key.name;
  if (key.ctrl && !key.meta) {
    switch (name) {
      case 'q':
        return { kind: 'quit' };
      case 'z':
        return { kind: 'undo' };
      case 'y':
        return { kind: 'redo' };
      case 'l':
        return { kind: 'redraw' };
      case 'c':
        return { kind: 'hint', text: 'Press Ctrl-Q to quit' };
      case 'home':
        return { kind: 'move', motion: 'doc-start' };
      case 'end':
        return { kind: 'move', motion: 'doc-end' };
      case 'h':
        return { kind: 'backspace' };
    }
  }
  // Ctrl or Alt with Left/Right moves by word; Alt-B / Alt-F is what many terminals send for Alt (Option) arrows.
  if ((name === 'left' || name === 'right') && (key.ctrl || key.meta)) return { kind: 'move', motion: name === 'left' ? 'word-left' : 'word-right' };
  if (key.meta && !key.ctrl && (name === 'b' || name === 'f')) return { kind: 'move', motion: name === 'b' ? 'word-left' : 'word-right' };
  if (name && MOTIONS[name] && !key.meta) return { kind: 'move', motion: MOTIONS[name] };
  switch (name) {
    case 'backspace':
      return { kind: 'backspace' };
    case 'delete':
      return { kind: 'delete' };
    case 'return':
    case 'enter':
      return { kind: 'insert', text: '\n' };
    case 'tab':
      return key.shift ? undefined : { kind: 'insert', text: '\t' };
  }
  if (key.ctrl || key.meta || !str || CONTROL.test(str) || str.includes('\x1b')) return undefined;
  return { kind: 'insert', text: str };
}

/**
 * Turns keypress events into actions, collecting everything between 'paste-start' and
 * 'paste-end' (bracketed paste) into ONE insert: a large paste is one edit and one undo step,
 * and its newlines and tabs are text, not Enter and Tab.
 */
export class KeyInput {
  private pasted: string[] | undefined;

  /** True between paste-start and paste-end. */
  get isPasting(): boolean {
    return this.pasted !== undefined;
  }

  /** The action for this key, if it completes one. */
  feed(str: string | undefined, key: Keypress): EditorAction | undefined {
    if (key.name === 'paste-start') {
      this.pasted = [];
      return undefined;
    }
    if (key.name === 'paste-end') {
      const text = pastedText(this.pasted ?? []);
      this.pasted = undefined;
      return text ? { kind: 'insert', text, paste: true } : undefined;
    }
    if (this.pasted) {
      // Escape sequences inside a paste were text that happened to contain ESC: drop them.
      const seq = key.sequence ?? str ?? '';
      if (!seq.startsWith('\x1b')) this.pasted.push(seq);
      return undefined;
    }
    return actionForKey(str, key);
  }
}

/** A paste's pieces as document text: CR LF and lone CR become LF, other control characters go. */
export function pastedText(pieces: readonly string[]): string {
  return pieces.join('').replace(/\r\n?/g, '\n').replace(CONTROLS, '');
}
