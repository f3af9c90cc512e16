// Progress on stderr, only when it is a terminal: one line, rewritten in place.
let shown = false;

export function status(text: string): void {
  if (!process.stderr.isTTY) return;
  const width = process.stderr.columns || 120;
  process.stderr.write(`\r\x1b[K${text.length >= width ? text.slice(0, width - 1) : text}`);
  shown = true;
}

export function clearStatus(): void {
  if (shown && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  shown = false;
}
