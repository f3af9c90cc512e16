// Reading what the editor draws, for tests: its output without the ANSI styling.

/** The text of an ANSI string with every CSI sequence (colours, cursor moves, modes) removed. */
export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}
