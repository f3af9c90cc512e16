// What others changed in a document, told a whole line at a time: collab-client's line mode
// prints it, and the server sends it to plain-text clients (nc, telnet, the assignment's client).
// Someone in the terminal editor sends one edit per keystroke; telling each would be
// `Document updated: P`, `Document updated: R`... Instead every line someone else changes is
// reported once it settles:
//   - when a line break is typed right after it (Enter ends it), or
//   - when it has not changed for QUIET_MS.
// A line added at the end is reported as `appended`; any other changed or added line with its
// number (`changed`); a deleted line at once (`deleted`, one line with its text, or a range).
// Line mode prints them as `Document updated: TEXT`, `Document updated (line 3): TEXT`,
// `Document updated (line 3 deleted): TEXT`, `Document updated (lines 3-5 deleted)`; a plain-text
// client is sent what follows `Document updated` (`TEXT`, `(line 3): TEXT`, ...), which the
// assignment's client prints after its own `Document updated: `.
// Pure: the caller hands in each new text; the clock and timers are injected for tests.

import type * as Y from 'yjs';

/** One thing to tell about others' changes. Line numbers count from 1. */
export type LineUpdate =
  /** A new line at the end of the document (nothing after it but lines that are new too). */
  | { readonly kind: 'appended'; readonly text: string }
  /** A line changed, or added anywhere but at the end. */
  | { readonly kind: 'changed'; readonly line: number; readonly text: string }
  /** Lines `first` to `last` were deleted; `text` is the deleted line's, when it is one line. */
  | { readonly kind: 'deleted'; readonly first: number; readonly last: number; readonly text?: string };

/** What a plain-text client is sent for an update: `TEXT`, `(line 3): TEXT`, `(line 3 deleted): TEXT`, `(lines 3-5 deleted)`. */
export function plainTextLine(update: LineUpdate): string {
  switch (update.kind) {
    case 'appended':
      return update.text;
    case 'changed':
      return `(line ${update.line}): ${update.text}`;
    case 'deleted':
      return update.first === update.last
        ? `(line ${update.first} deleted): ${update.text ?? ''}`
        : `(lines ${update.first}-${update.last} deleted)`;
  }
}

/** What collab-client's line mode prints: `Document updated: TEXT`, `Document updated (line 3): TEXT`, ... */
export function lineModeText(update: LineUpdate): string {
  return update.kind === 'appended' ? `Document updated: ${update.text}` : `Document updated ${plainTextLine(update)}`;
}

/** Appends `line` as a new line at the end of the text (after a line break, if the text does not end with one). */
export function appendLine(text: Y.Text, line: string): void {
  const current = text.toString();
  const separator = current.length > 0 && !current.endsWith('\n') ? '\n' : '';
  text.insert(text.length, `${separator}${line}\n`);
}

/** Offsets, in the text after the change, of the line breaks a change inserted. */
export function insertedNewlines(delta: Y.YTextEvent['delta']): number[] {
  const offsets: number[] = [];
  let at = 0;
  for (const op of delta) {
    if (typeof op.retain === 'number') at += op.retain;
    else if (typeof op.insert === 'string') {
      for (let i = op.insert.indexOf('\n'); i !== -1; i = op.insert.indexOf('\n', i + 1)) offsets.push(at + i);
      at += op.insert.length;
    }
  }
  return offsets;
}

/** How long a line must stay unchanged before it is printed anyway. */
export const QUIET_MS = 1000;

/** One line of the document as line mode knows it. */
interface Line {
  text: string;
  /** The text last printed (or shown at start) for this line; undefined for a line not printed yet. */
  shown: string | undefined;
  /** When someone else last changed it, while that change is not printed yet. */
  pendingSince: number | undefined;
}

/** What LineUpdates is wired to. */
export interface LineUpdatesOptions {
  /** Receives each update, in order. */
  report: (update: LineUpdate) => void;
  quietMs?: number;
  now?: () => number;
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  setTimer?: (ms: number, fn: () => void) => () => void;
}

/** The document's lines; a final line break ends the last line rather than starting an empty one. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

function realTimer(ms: number, fn: () => void): () => void {
  const timer = setTimeout(fn, ms);
  // Pending lines never keep the process alive: line mode flushes them before it exits.
  timer.unref();
  return () => clearTimeout(timer);
}

/** Tracks the document's lines and reports other people's changes a whole line at a time. */
export class LineUpdates {
  private lines: Line[];
  private readonly quietMs: number;
  private readonly now: () => number;
  private readonly setTimer: (ms: number, fn: () => void) => () => void;
  private cancelTimer: (() => void) | undefined;

  /** Starts from the text already shown to the user. */
  constructor(
    initialText: string,
    private readonly options: LineUpdatesOptions,
  ) {
    this.lines = splitLines(initialText).map((text) => ({ text, shown: text, pendingSince: undefined }));
    this.quietMs = options.quietMs ?? QUIET_MS;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? realTimer;
  }

  /**
   * The document is now `text`. `insertedNewlines` (offsets in `text` of the line breaks the
   * change inserted) marks a change by someone else; without it the change is our own, which
   * the user knows already and is never printed.
   */
  change(text: string, insertedNewlines?: readonly number[]): void {
    const remote = insertedNewlines !== undefined;
    const now = this.now();
    const next = splitLines(text);
    const old = this.lines;
    // The changed stretch: lines equal at both ends keep what we know of them.
    let head = 0;
    while (head < old.length && head < next.length && old[head]!.text === next[head]) head++;
    let tail = 0;
    while (tail < old.length - head && tail < next.length - head && old[old.length - 1 - tail]!.text === next[next.length - 1 - tail])
      tail++;
    const removed = old.slice(head, old.length - tail);
    const added = next.slice(head, next.length - tail);
    // Old and new lines of the stretch pair up in order (a line edited in place, or split by
    // Enter, keeps its first part); what is left over was added or deleted.
    const replaced: Line[] = added.map((line, i) => ({
      text: line,
      shown: remote ? removed[i]?.shown : line,
      pendingSince: remote ? now : undefined,
    }));
    this.lines = [...old.slice(0, head), ...replaced, ...old.slice(old.length - tail)];
    if (remote) {
      this.reportDeleted(removed.slice(added.length), head + added.length + 1);
      this.printEnded(text, insertedNewlines);
    }
    this.arm();
  }

  /** Prints every line still waiting (at the end of input). */
  flush(): void {
    this.lines.forEach((line, index) => {
      if (line.pendingSince !== undefined) this.printLine(index);
    });
    this.arm();
  }

  /** Stops the timer; idempotent. */
  close(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Lines the user had seen and someone deleted: said at once. Lines never printed go silently. */
  private reportDeleted(gone: readonly Line[], firstNumber: number): void {
    const seen = gone.map((line, i) => ({ line, number: firstNumber + i })).filter(({ line }) => line.shown !== undefined);
    if (seen.length === 0) return;
    const first = seen[0]!;
    if (seen.length === 1) this.options.report({ kind: 'deleted', first: first.number, last: first.number, text: first.line.shown });
    else this.options.report({ kind: 'deleted', first: first.number, last: seen[seen.length - 1]!.number });
  }

  /** A line break typed right after a line ends it: print it now. */
  private printEnded(text: string, insertedNewlines: readonly number[]): void {
    if (insertedNewlines.length === 0) return;
    const ended = new Set<number>();
    let line = 0;
    let from = 0;
    for (const at of [...insertedNewlines].sort((a, b) => a - b)) {
      for (let i = text.indexOf('\n', from); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) {
        line++;
        from = i + 1;
      }
      ended.add(line);
    }
    for (const index of [...ended].sort((a, b) => a - b)) if (this.lines[index]?.pendingSince !== undefined) this.printLine(index);
  }

  private printLine(index: number): void {
    const line = this.lines[index]!;
    line.pendingSince = undefined;
    if (line.shown === line.text) return;
    // At the end: nothing after it but lines that are new too (a pasted block, say).
    const atEnd = line.shown === undefined && this.lines.slice(index + 1).every((l) => l.shown === undefined);
    this.options.report(atEnd ? { kind: 'appended', text: line.text } : { kind: 'changed', line: index + 1, text: line.text });
    line.shown = line.text;
  }

  /** Sets the timer for the line that will settle first. */
  private arm(): void {
    this.close();
    let first: number | undefined;
    for (const line of this.lines)
      if (line.pendingSince !== undefined && (first === undefined || line.pendingSince < first)) first = line.pendingSince;
    if (first === undefined) return;
    this.cancelTimer = this.setTimer(Math.max(0, first + this.quietMs - this.now()), () => {
      this.cancelTimer = undefined;
      const now = this.now();
      this.lines.forEach((line, index) => {
        if (line.pendingSince !== undefined && line.pendingSince + this.quietMs <= now) this.printLine(index);
      });
      this.arm();
    });
  }
}
