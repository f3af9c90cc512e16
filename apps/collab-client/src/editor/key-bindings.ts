// Keys to editor actions. Keys arrive as Node's readline keypress events (emitKeypressEvents
// parses the escape sequences, bracketed paste included); this file only decides what each
// one means, so it is tested without a terminal.
import type { Motion } from './cursor-motion';
import { describeKey } from './key-names';

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
  /** With `select` (Shift held) the selection stretches from where the cursor was. */
  | { readonly kind: 'move'; readonly motion: Motion; readonly select?: boolean }
  | { readonly kind: 'backspace' }
  | { readonly kind: 'delete' }
  | { readonly kind: 'undo' }
  | { readonly kind: 'redo' }
  | { readonly kind: 'copy' }
  | { readonly kind: 'cut' }
  | { readonly kind: 'paste' }
  | { readonly kind: 'select-all' }
  | { readonly kind: 'escape' }
  | { readonly kind: 'find' }
  | { readonly kind: 'help' }
  | { readonly kind: 'quit' }
  | { readonly kind: 'redraw' }
  | { readonly kind: 'hint'; readonly text: string }
  /** A key that is bound to nothing: said on the status line rather than ignored. */
  | { readonly kind: 'unknown'; readonly key: string };

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

/** Where a movement key goes (Shift aside), or undefined for keys that are not movements. */
function motionFor(key: Keypress): Motion | undefined {
  const name = key.name;
  if (!name) return undefined;
  // Ctrl or Alt with Left/Right moves by word; Alt-B / Alt-F is what many terminals send for Alt (Option) arrows.
  if (name === 'left' || name === 'right') return key.ctrl || key.meta ? (name === 'left' ? 'word-left' : 'word-right') : name;
  if (key.meta) return !key.ctrl && (name === 'b' || name === 'f') ? (name === 'b' ? 'word-left' : 'word-right') : undefined;
  if (key.ctrl && (name === 'home' || name === 'end')) return name === 'home' ? 'doc-start' : 'doc-end';
  return MOTIONS[name];
}

/**
 * The action for one key outside a paste ('unknown' for a key bound to nothing). The keys are
 * those of nano's modern bindings and micro: ^C copy, ^X cut, ^V paste, ^F find, ^G help,
 * ^Z undo, ^Q quit. help-screen.ts lists them all.
 */
export function actionForKey(str: string | undefined, key: Keypress): EditorAction {
  const name = key.name;
  // A lone ESC arrives as name 'escape' with meta set.
  if (name === 'escape') return { kind: 'escape' };
  if (name === 'f1' && !key.ctrl && !key.meta && !key.shift) return { kind: 'help' };
  const motion = motionFor(key);
  if (motion) return key.shift ? { kind: 'move', motion, select: true } : { kind: 'move', motion };
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
        return { kind: 'copy' };
      case 'x':
        return { kind: 'cut' };
      case 'v':
        return { kind: 'paste' };
      case 'a':
        return { kind: 'select-all' };
      case 'f':
        return { kind: 'find' };
      case 'g':
        return { kind: 'help' };
      case 'h':
        return { kind: 'backspace' };
      case 's':
        return { kind: 'hint', text: 'No need to save: every edit is stored as you type' };
    }
  }
  switch (name) {
    case 'backspace':
      return { kind: 'backspace' };
    case 'delete':
      return { kind: 'delete' };
    case 'return':
    case 'enter':
      return { kind: 'insert', text: '\n' };
    case 'tab':
      if (!key.shift) return { kind: 'insert', text: '\t' };
  }
  if (key.ctrl || key.meta || !str || CONTROL.test(str) || str.includes('\x1b')) return { kind: 'unknown', key: describeKey(str, key) };
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
