// What line mode prints about other people's edits. Someone in the terminal editor sends one
// edit per keystroke; printing each would be `Document updated: P`, `Document updated: R`...
// Instead every line someone else changes is printed once it settles:
//   - when a line break is typed right after it (Enter ends it), or
//   - when it has not changed for QUIET_MS.
// A line added at the end is printed as the assignment's `Document updated: TEXT`; any other
// changed or added line with its number, `Document updated (line 3): TEXT`; a deleted line at
// once, `Document updated (line 3 deleted): TEXT` (or `(lines 3-5 deleted)` for several).
// Pure: the caller hands in each new text; the clock and timers are injected for tests.

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
  /** Receives each line to print, without its newline. */
  print: (line: string) => void;
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

/** Tracks the document's lines and prints other people's changes a whole line at a time. */
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
    if (seen.length === 1) this.options.print(`Document updated (line ${first.number} deleted): ${first.line.shown}`);
    else this.options.print(`Document updated (lines ${first.number}-${seen[seen.length - 1]!.number} deleted)`);
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
    this.options.print(atEnd ? `Document updated: ${line.text}` : `Document updated (line ${index + 1}): ${line.text}`);
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
