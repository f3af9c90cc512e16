// Keys by name for the status line, so a key that does nothing says which key it was:
// "Ctrl-B", "Alt-X", "F5", "Shift-Tab", "ESC [99~".
import type { Keypress } from './key-bindings';

function caret(text: string): string {
  return text
    .replace(/\x1b/g, 'ESC ')
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `^${String.fromCharCode(c === '\x7f' ? 0x3f : c.charCodeAt(0) + 0x40)}`);
}

/** A key as a person would name it. */
export function describeKey(str: string | undefined, key: Keypress): string {
  // readline names an escape sequence it does not know 'undefined', as a string.
  const name = key.name === 'undefined' ? undefined : key.name;
  if (name) {
    const base = name.length === 1 || /^f\d+$/.test(name) ? name.toUpperCase() : `${name[0]!.toUpperCase()}${name.slice(1)}`;
    const modifiers = [key.ctrl ? 'Ctrl' : '', key.meta ? 'Alt' : '', key.shift ? 'Shift' : ''].filter(Boolean);
    return [...modifiers, base].join('-');
  }
  const sequence = key.sequence ?? str ?? '';
  // Ctrl-\ Ctrl-] Ctrl-^ Ctrl-_ come without a name.
  if (sequence.length === 1 && sequence.charCodeAt(0) < 0x20) return `Ctrl-${String.fromCharCode(sequence.charCodeAt(0) + 0x40)}`;
  return caret(sequence) || 'That key';
}
