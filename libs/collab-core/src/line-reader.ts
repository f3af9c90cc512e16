// Cuts a plain-text client's byte stream into lines. A line ends at a line feed (a carriage
// return before it is dropped: telnet and Windows send CR LF); what comes after the last line feed
// waits for the next bytes, or becomes a line of its own when the caller says so (the
// assignment's client sends each line bare, without a line break; the end of input). A line
// longer than the limit is reported once, as soon as it passes the limit, and its bytes are
// dropped up to its line break, so one never holds more than the limit in memory.
// Works on bytes, not text: a line feed is never part of a multi-byte UTF-8 character, and each
// line is decoded whole by the caller.

/** One thing read: a whole line (its bytes, without the line break), or a line that was too long. */
export type ReadLine = { readonly kind: 'line'; readonly bytes: Uint8Array } | { readonly kind: 'too-long' };

const LF = 0x0a;
const CR = 0x0d;

/** Line assembly over a byte stream, with a bound on the length of a line. */
export class LineReader {
  private parts: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Inside a line that was too long: its bytes are dropped until its line break. */
  private skipping = false;
  private lineBreakSeen = false;

  /** `maxLineBytes`: the longest line, without its line break. */
  constructor(private readonly maxLineBytes: number) {}

  /** Whether the client has ended a line with a line feed yet (then only line feeds end its lines). */
  get sawLineBreak(): boolean {
    return this.lineBreakSeen;
  }

  /** Bytes after the last line break, waiting for the rest of their line. */
  get pending(): number {
    return this.pendingBytes;
  }

  /** The lines `bytes` completes, in order. */
  push(bytes: Uint8Array): ReadLine[] {
    const read: ReadLine[] = [];
    let start = 0;
    for (let end = bytes.indexOf(LF, start); end !== -1; end = bytes.indexOf(LF, start)) {
      this.lineBreakSeen = true;
      if (this.skipping) this.skipping = false;
      else this.collect(bytes.subarray(start, end), read, true);
      this.parts = [];
      this.pendingBytes = 0;
      start = end + 1;
    }
    if (start < bytes.length && !this.skipping) this.collect(bytes.subarray(start), read, false);
    return read;
  }

  /** What waits after the last line break, as a line of its own (undefined when nothing waits). */
  takeRest(): ReadLine | undefined {
    if (this.skipping) {
      this.skipping = false;
      return undefined;
    }
    if (this.pendingBytes === 0) return undefined;
    const line = this.line(new Uint8Array(0));
    this.parts = [];
    this.pendingBytes = 0;
    return line;
  }

  /** Adds a piece of a line: the last piece when `ends`, else a piece that waits for more. */
  private collect(piece: Uint8Array, read: ReadLine[], ends: boolean): void {
    // One byte of slack for the carriage return that may come before the line feed.
    if (this.pendingBytes + piece.length > this.maxLineBytes + 1) {
      read.push({ kind: 'too-long' });
      this.parts = [];
      this.pendingBytes = 0;
      this.skipping = !ends;
      return;
    }
    if (ends) {
      read.push(this.line(piece));
      return;
    }
    // A copy: the caller may reuse its buffer.
    this.parts.push(piece.slice());
    this.pendingBytes += piece.length;
  }

  /** The waiting parts and `last` as one line, its trailing carriage return dropped. */
  private line(last: Uint8Array): ReadLine {
    let length = this.pendingBytes + last.length;
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const part of this.parts) {
      bytes.set(part, at);
      at += part.length;
    }
    bytes.set(last, at);
    if (length > 0 && bytes[length - 1] === CR) length--;
    if (length > this.maxLineBytes) return { kind: 'too-long' };
    return { kind: 'line', bytes: bytes.subarray(0, length) };
  }
}
