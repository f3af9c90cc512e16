// A plain-text client (nc, telnet, the assignment's client.py) in the default document, as the
// assignment describes it: on connect it is sent the whole document as text; each line it sends
// is appended to the document as a new line (applied, stored, relayed to every other client and
// logged, like any client's change); others' changes reach it as text, a whole line at a time
// (LineUpdates: an appended line as it is, a change elsewhere as `(line 3): TEXT`). It counts
// against maxClients and the per-address limit like any client; with a token its first line must
// be `AUTH <token>`; the idle timeout, the rate limits and maxLineBytes apply. No cursor and no
// edits except appending lines; the others see it in their presence lists, named by its label.

import type * as Y from 'yjs';
import {
  DEFAULT_DOCUMENT,
  DEFAULT_ERROR_MESSAGES,
  ErrorCode,
  LineUpdates,
  TEXT_NAME,
  appendLine,
  insertedNewlines,
  plainTextLine,
  tokensMatch,
  type LineUpdate,
} from '@collab/collab-protocol';
import type { HostedSession, SessionHost } from './client-session';
import { TooManyDocumentsError } from './errors';
import { LineReader, type ReadLine } from './line-reader';
import type { DocumentPeer, SharedDocument } from './shared-document';
import { describeStorageFailure } from './storage-failure';
import { TokenBucket } from './token-bucket';
import type { TextConnection, TextTransport } from './text-transport';

/** The name plain-text clients go by in logs and as the origin of their changes: `text (127.0.0.1:51234)`. */
export const PLAIN_TEXT_CLIENT_NAME = 'text';

/**
 * A client that has not yet ended a line with a line break (the assignment's client sends each
 * line bare, with no newline) has its bytes taken as a line once this long passes without more:
 * long enough for a line cut in two by the network to come together, far shorter than anyone types.
 */
export const UNTERMINATED_LINE_MS = 100;

/**
 * Others' changes that end no line (keystrokes) are looked at together at most this often: each
 * look reads the whole text, and LineUpdates reports such a line only after a second anyway.
 */
const REMOTE_BATCH_MS = 100;

/** How often a client that keeps hitting a rate limit is logged. */
const REPEAT_LOG_INTERVAL_MS = 10_000;

/** C0 control characters but tab, and DEL: never in a line typed at a terminal (an arrow key or Ctrl-C would bring them). */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f]/;

type State = 'auth' | 'joining' | 'active' | 'closing' | 'closed';

/** One plain-text client, connected through a TextTransport. */
export class PlainTextSession implements TextConnection, HostedSession, DocumentPeer {
  private state: State = 'joining';
  private admitted = false;
  private document: SharedDocument | undefined;
  private text: Y.Text | undefined;
  private updates: LineUpdates | undefined;
  private readonly reader: LineReader;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** Lines that arrived while the document was opening. */
  private early: string[] = [];
  private handshakeTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lineTimer: NodeJS.Timeout | undefined;
  private remoteTimer: NodeJS.Timeout | undefined;
  /** Others changed the text since LineUpdates last looked. */
  private remotePending = false;
  private lastActivity = performance.now();
  private readonly edits: TokenBucket;
  private readonly bytes: TokenBucket;
  private throttledUntil = 0;
  private lastRateLog = -Infinity;

  constructor(
    readonly transport: TextTransport,
    private readonly host: SessionHost,
  ) {
    const { settings } = host;
    this.reader = new LineReader(settings.maxLineBytes);
    this.edits = new TokenBucket(settings.maxEditsPerSecond, settings.maxEditsPerSecond * 2);
    this.bytes = new TokenBucket(settings.maxBytesPerSecond, settings.maxBytesPerSecond * 2);
    if (settings.idleTimeoutMs > 0) this.armIdleTimer(settings.idleTimeoutMs);
    if (!settings.token) {
      this.enter();
      return;
    }
    this.state = 'auth';
    this.handshakeTimer = setTimeout(
      () => this.fail(ErrorCode.Timeout, `No AUTH line within ${settings.handshakeTimeoutMs / 1000} s; closing the connection.`),
      settings.handshakeTimeoutMs,
    );
    this.handshakeTimer.unref?.();
    transport.write('This server needs a token: send AUTH <token> as the first line.\n');
  }

  /** `text (127.0.0.1:51234)` once the client is in, its endpoint before. */
  get label(): string {
    return this.admitted ? `${PLAIN_TEXT_CLIENT_NAME} (${this.transport.remoteLabel})` : this.transport.remoteLabel;
  }

  /** Whether the session still waits for its AUTH line (the core bounds such connections as it does those waiting for HELLO). */
  get waitingForHello(): boolean {
    return this.state === 'auth';
  }

  /** Whether the session counts as a client (it was let in). */
  get isClient(): boolean {
    return this.admitted;
  }

  /** Binary messages (sync, presence) are not for a plain-text client: it reads the text itself. */
  send(_payload: Uint8Array): void {}

  /** Says `message` (a full sentence) as the last line and closes. */
  fail(code: ErrorCode, message?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.stopTimers();
    const text = message ?? DEFAULT_ERROR_MESSAGES[code];
    this.host.logger[code === ErrorCode.ShuttingDown ? 'debug' : 'warn'](`Closing plain-text client ${this.label}: ${text}`);
    this.transport.close(`${text}\n`);
  }

  receive(bytes: Uint8Array): void {
    if (this.ending) return;
    this.lastActivity = performance.now();
    if (!this.bytes.take(bytes.length)) this.throttle('bytes', this.host.settings.maxBytesPerSecond);
    clearTimeout(this.lineTimer);
    this.handle(this.reader.push(bytes));
    if (!this.reader.sawLineBreak && this.reader.pending > 0 && !this.ending) {
      this.lineTimer = setTimeout(() => this.handleRest(), UNTERMINATED_LINE_MS);
      this.lineTimer.unref?.();
    }
  }

  ended(): void {
    clearTimeout(this.lineTimer);
    this.handleRest();
  }

  closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopTimers();
    this.text?.unobserve(this.onTextChange);
    this.updates?.close();
    const document = this.document;
    this.document = undefined;
    if (document) {
      document.leave(this);
      this.host.releaseDocument(document);
    }
    this.host.sessionClosed(this);
  }

  /** Whether the session is closing or closed (the state may change under any call that tells the client something). */
  private get ending(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  private handleRest(): void {
    if (this.ending) return;
    const rest = this.reader.takeRest();
    if (rest) this.handle([rest]);
  }

  /** Lines read, in order: the AUTH line first when a token is set, then lines to append. */
  private handle(read: readonly ReadLine[]): void {
    const lines: string[] = [];
    for (const item of read) {
      if (this.ending) return;
      const line = this.decode(item);
      if (this.state === 'auth') {
        this.onAuthLine(line);
        continue;
      }
      if (line === undefined) continue;
      if (this.state === 'joining') this.early.push(line);
      else lines.push(line);
    }
    if (lines.length > 0 && this.state === 'active') this.append(lines);
  }

  /** The line as text; undefined, after telling the client why, when it cannot be added. */
  private decode(item: ReadLine): string | undefined {
    const auth = this.state === 'auth';
    if (item.kind === 'too-long') {
      if (!auth) this.refuseLine(`a line may hold at most ${this.host.settings.maxLineBytes} bytes; a longer one was not added.`);
      return undefined;
    }
    let line: string;
    try {
      line = this.decoder.decode(item.bytes);
    } catch {
      if (!auth) this.refuseLine('a line that is not UTF-8 text was not added.');
      return undefined;
    }
    if (CONTROL_CHARACTERS.test(line)) {
      if (!auth) this.refuseLine('a line with control characters (only tab is allowed) was not added.');
      return undefined;
    }
    return line;
  }

  private refuseLine(reason: string): void {
    this.transport.write(`Error: ${reason}\n`);
  }

  private onAuthLine(line: string | undefined): void {
    clearTimeout(this.handshakeTimer);
    const { settings } = this.host;
    const address = this.transport.remoteAddress;
    const wait = this.host.authWaitMs(this);
    if (wait > 0)
      return this.fail(ErrorCode.AuthFailed, `Too many wrong tokens from ${address}; try again in ${Math.ceil(wait / 1000)} s.`);
    const match = line === undefined ? null : /^AUTH (.*)$/i.exec(line);
    if (!match) {
      this.host.authResult(this, false);
      return this.fail(ErrorCode.AuthFailed, 'Authentication failed: this server needs a token, and the first line must be AUTH <token>.');
    }
    if (!tokensMatch(match[1]!, settings.token)) {
      this.host.authResult(this, false);
      return this.fail(ErrorCode.AuthFailed, 'Authentication failed: wrong token.');
    }
    this.host.authResult(this, true);
    this.enter();
  }

  /** Lets the client in (or refuses it: server full), opens the default document, and sends it. */
  private enter(): void {
    if (!this.host.admit(this)) return this.fail(ErrorCode.ServerFull, DEFAULT_ERROR_MESSAGES[ErrorCode.ServerFull]);
    this.admitted = true;
    this.state = 'joining';
    this.host.logger.info(`New client connected: ${this.label}`);
    // Nothing more is read until the document is open: what came already waits in `early`.
    this.transport.pause();
    this.host.acquireDocument(DEFAULT_DOCUMENT).then(
      (document) => {
        if (this.state !== 'joining') {
          this.host.releaseDocument(document);
          return;
        }
        this.open(document);
      },
      (error: Error) => {
        if (error instanceof TooManyDocumentsError) return this.fail(ErrorCode.ServerFull, error.message);
        this.host.logger.error(`Error opening document ${DEFAULT_DOCUMENT}: ${error.message}`);
        this.fail(ErrorCode.StorageUnavailable, `The document ${DEFAULT_DOCUMENT} cannot be opened: ${describeStorageFailure(error)}.`);
      },
    );
  }

  private open(document: SharedDocument): void {
    this.document = document;
    this.state = 'active';
    const text = document.doc.getText(TEXT_NAME);
    this.text = text;
    const current = text.toString();
    if (current) this.transport.write(current.endsWith('\n') ? current : `${current}\n`);
    this.host.logger.info(`Sent current document to client ${this.label}`);
    this.updates = new LineUpdates(current, { report: (update: LineUpdate) => this.transport.write(`${plainTextLine(update)}\n`) });
    text.observe(this.onTextChange);
    // A peer, so the log's `Broadcasted update to client ...` lines name it and its changes are never sent back to it.
    document.join(this);
    document.holdPresence(this, this.label);
    const early = this.early;
    this.early = [];
    if (early.length > 0) this.append(early);
    if (this.state === 'active' && performance.now() >= this.throttledUntil) this.transport.resume();
  }

  /** Appends lines at the end of the document as one edit by this client. */
  private append(lines: string[]): void {
    const document = this.document!;
    const text = this.text!;
    const { maxDocumentChars } = this.host.settings;
    if (!this.edits.take(lines.length)) this.throttle('edits', this.host.settings.maxEditsPerSecond);
    // As many lines as fit, in order; the document never passes maxDocumentChars.
    let room = maxDocumentChars - text.length - 1;
    let fit = 0;
    for (; fit < lines.length; fit++) {
      const cost = lines[fit]!.length + 1;
      if (cost > room) break;
      room -= cost;
    }
    if (fit < lines.length) {
      const left = lines.length - fit;
      this.refuseLine(
        `the document may hold at most ${maxDocumentChars} characters: ${left === 1 ? 'a line was' : `${left} lines were`} not added.`,
      );
      this.host.logger.warn(
        `Refused ${left} line(s) of client ${this.label}: document ${document.name} would pass ${maxDocumentChars} characters`,
      );
    }
    if (fit === 0) return;
    // Others' changes so far are told before ours change the text under LineUpdates.
    this.lookAtRemoteChanges();
    const stored = document.edit(this, (t) => appendLine(t, lines.slice(0, fit).join('\n')));
    stored.catch((error: Error) => {
      this.host.logger.error(`Could not store an edit of client ${this.label} to ${document.name}: ${error.message}`);
      this.fail(
        ErrorCode.StorageUnavailable,
        `The server cannot store edits right now (${describeStorageFailure(error)}); the last lines you sent are not stored yet.`,
      );
    });
  }

  /** Every change to the text: ours are known to the client; others' go through LineUpdates. */
  private readonly onTextChange = (event: Y.YTextEvent, transaction: Y.Transaction): void => {
    const updates = this.updates!;
    const text = this.text!;
    if (transaction.origin === this) {
      updates.change(text.toString());
      return;
    }
    const newlines = insertedNewlines(event.delta);
    if (newlines.length === 0) {
      // Keystrokes: looked at together, a little later.
      this.remotePending = true;
      if (!this.remoteTimer) {
        this.remoteTimer = setTimeout(() => this.lookAtRemoteChanges(), REMOTE_BATCH_MS);
        this.remoteTimer.unref?.();
      }
      return;
    }
    // A line ended (Enter, a line appended): told now, with the keystrokes before it, which ended no line.
    this.clearRemoteTimer();
    this.remotePending = false;
    updates.change(text.toString(), newlines);
  };

  private lookAtRemoteChanges(): void {
    this.clearRemoteTimer();
    if (!this.remotePending || this.state !== 'active') return;
    this.remotePending = false;
    this.updates!.change(this.text!.toString(), []);
  }

  private clearRemoteTimer(): void {
    clearTimeout(this.remoteTimer);
    this.remoteTimer = undefined;
  }

  /** Past a rate limit reading from the client pauses until its budget has refilled (nothing is dropped). */
  private throttle(what: 'edits' | 'bytes', limit: number): void {
    const wait = Math.max(this.edits.waitMs(), this.bytes.waitMs());
    const now = performance.now();
    const until = now + wait;
    if (until <= this.throttledUntil) return;
    this.throttledUntil = until;
    if (now - this.lastRateLog >= REPEAT_LOG_INTERVAL_MS) {
      this.lastRateLog = now;
      this.host.logger.warn(`Client ${this.label} sends more than ${limit} ${what} a second; reading from it more slowly`);
    }
    this.transport.pause();
    setTimeout(() => {
      // While the document opens reading stays paused; open() resumes it.
      if (performance.now() >= this.throttledUntil - 1 && (this.state === 'active' || this.state === 'auth')) this.transport.resume();
    }, wait).unref?.();
  }

  private armIdleTimer(delayMs: number): void {
    this.idleTimer = setTimeout(() => {
      const idle = this.host.settings.idleTimeoutMs;
      const silent = performance.now() - this.lastActivity;
      if (silent >= idle - 1) this.fail(ErrorCode.Timeout, `Nothing received for ${idle / 1000} s; closing the connection.`);
      else this.armIdleTimer(idle - silent);
    }, delayMs);
    this.idleTimer.unref?.();
  }

  private stopTimers(): void {
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.lineTimer);
    this.clearRemoteTimer();
  }
}
