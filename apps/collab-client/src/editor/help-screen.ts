// F1 / ^G: every key of the editor on one screen, as nano's help does; the bottom line shows
// the most used ones. This list is what the README's key table mirrors.
import { textWidth } from './screen-renderer';

/** Every key the editor knows and what it does, in the order the help screen lists them. */
export const KEY_HELP: ReadonlyArray<readonly [keys: string, does: string]> = [
  ['Arrows', 'move the cursor'],
  ['Ctrl-Left / Ctrl-Right', 'a word left / right (also Alt-Left / Alt-Right, Alt-B / Alt-F)'],
  ['Home / End', 'start / end of the line'],
  ['PgUp / PgDn', 'a screen up / down'],
  ['Ctrl-Home / Ctrl-End', 'start / end of the document'],
  ['Shift + any of these', 'select text as the cursor moves'],
  ['Ctrl-A', 'select everything'],
  ['Esc', 'drop the selection; leave find or this help'],
  ['Ctrl-C', 'copy the selection (nothing selected: the line)'],
  ['Ctrl-X', 'cut the selection (nothing selected: the line)'],
  ['Ctrl-V', "paste what was copied or cut (the terminal's own paste works too)"],
  ['Backspace / Delete', 'delete before / after the cursor, or the selection'],
  ['Enter / Tab', 'new line / tab'],
  ['Ctrl-Z / Ctrl-Y', "undo / redo your own edits (never someone else's)"],
  ['Ctrl-F', 'find: type the text, Enter for the next match (wraps), Esc to stop'],
  ['Ctrl-L', 'redraw the screen'],
  ['F1 / Ctrl-G', 'this help'],
  ['Ctrl-Q', 'quit (press it twice while edits are not stored yet)'],
];

/** The bottom line: the keys most needed, and where the rest are. */
export const HELP_LINE = '^Q quit  ^G help  ^F find  ^C copy  ^X cut  ^V paste  ^Z undo  ^Y redo  Shift+arrows select';

/** The title of the help screen. */
export const HELP_TITLE = 'Keys (arrows and PgUp/PgDn scroll, any other key goes back)';

/** The help screen's rows, from row `scroll` of the list, `height` rows of at most `columns` cells. */
export function renderHelpScreen(columns: number, height: number, scroll: number): string[] {
  const keysWidth = Math.max(...KEY_HELP.map(([keys]) => textWidth(keys)));
  const all = [HELP_TITLE, '', ...KEY_HELP.map(([keys, does]) => `  ${keys}${' '.repeat(keysWidth - textWidth(keys))}   ${does}`)];
  const rows = all.slice(Math.max(0, Math.min(scroll, all.length - height)));
  return Array.from({ length: height }, (_, i) => cut(rows[i] ?? '', columns));
}

/** How far the help screen can scroll on a text area `height` rows tall. */
export function helpScrollLimit(height: number): number {
  return Math.max(0, KEY_HELP.length + 2 - height);
}

function cut(line: string, columns: number): string {
  if (textWidth(line) <= columns) return line;
  let out = '';
  for (const ch of line) {
    if (textWidth(out + ch) > columns) break;
    out += ch;
  }
  return out;
}
