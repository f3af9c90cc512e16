// Copying to the terminal's own clipboard with OSC 52, which most terminal emulators (xterm,
// iTerm2, kitty, WezTerm, Windows Terminal, foot, tmux with set-clipboard on) turn into the
// system clipboard, even over SSH. Terminals that do not know it ignore it.

/** Largest text sent this way: several terminals drop longer OSC 52 sequences. */
export const MAX_OSC52_BYTES = 74_994; // 100,000 characters of base64, less the framing

/** The OSC 52 sequence that puts `text` on the terminal's clipboard, or undefined when it is too long for terminals to take. */
export function osc52(text: string): string | undefined {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_OSC52_BYTES) return undefined;
  return `\x1b]52;c;${bytes.toString('base64')}\x07`;
}
