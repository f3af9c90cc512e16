import type { Socket } from 'node:net';
import { readFrames, FrameTooLargeError, type FramingError } from '@collab/framing';
import {
  checkHello,
  decodeMessage,
  encodeMessageFrame,
  ErrorCode,
  makeErrorMessage,
  makeWelcome,
  MessageType,
  messageTypeName,
  ProtocolError,
  SyncType,
  type Message,
} from '@collab/collab-protocol';
import { StorageError } from '@collab/persistence';
import type { Logger } from '@collab/logging';
import { MissingDependencyError, type DocumentPeer, type SharedDocument } from './shared-document';
import { TokenBucket } from './token-bucket';

/** How often a connection that keeps hitting a rate limit is logged. */
const RATE_LOG_INTERVAL_MS = 10_000;

/** Limits and identity every connection shares; limits carry their units. */
export interface ConnectionSettings {
  serverName: string;
  maxFrameBytes: number;
  handshakeTimeoutMs: number;
  /** 0 turns the idle timeout off. */
  idleTimeoutMs: number;
  /** Unsent output past which a client that does not read is dropped. */
  maxSendBufferBytes: number;
  token: string | undefined;
  /** Document-changing frames a second one client may send (reading slows down past it). */
  maxEditsPerSecond: number;
  /** Bytes a second one client may send (reading slows down past it). */
  maxBytesPerSecond: number;
  /** Longest document (in characters) an edit may make; past it: ERROR 10. */
  maxDocumentChars: number;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly logger: Logger;
  /** Loads (or finds) the named document. */
  openDocument(name: string): Promise<SharedDocument>;
  /** Counts the connection as a client after its HELLO; false when the server is full. */
  admit(connection: ClientConnection): boolean;
  /** The connection has closed and left its document. */
  connectionClosed(connection: ClientConnection, document: SharedDocument | undefined): void;
}

type State = 'handshake' | 'joining' | 'active' | 'closing';

/**
 * One client: reads frames, holds the handshake, turns messages into document operations,
 * and writes what goes back, all frames of one tick in one write (cork until next tick).
 */
export class ClientConnection implements DocumentPeer {
  private state: State = 'handshake';
  private document: SharedDocument | undefined;
  private clientName = '';
  /** Document-changing frames received (SYNC step 2 and update), for ACK numbering. */
  private changesReceived = 0;
  private changesAcked = 0;
  private corked = false;
  /** Frames that arrived while the document was loading. */
  private early: Message[] = [];
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly detach: () => void;
  private readonly edits: TokenBucket;
  private readonly bytes: TokenBucket;
  private throttledUntil = 0;
  private lastRateLog = -Infinity;

  constructor(
    private readonly socket: Socket,
    readonly label: string,
    private readonly settings: ConnectionSettings,
    private readonly host: ConnectionHost,
  ) {
    socket.setNoDelay(true);
    this.edits = new TokenBucket(settings.maxEditsPerSecond, settings.maxEditsPerSecond * 2);
    this.bytes = new TokenBucket(settings.maxBytesPerSecond, settings.maxBytesPerSecond * 2);
    this.handshakeTimer = setTimeout(
      () => this.fail(ErrorCode.Timeout, `No HELLO within ${settings.handshakeTimeoutMs / 1000} s; closing the connection.`),
      settings.handshakeTimeoutMs,
    );
    if (settings.idleTimeoutMs > 0) {
      socket.setTimeout(settings.idleTimeoutMs, () =>
        this.fail(ErrorCode.Timeout, `Nothing received for ${settings.idleTimeoutMs / 1000} s; closing the connection.`),
      );
    }
    this.detach = readFrames(socket, (payload) => this.onFrame(payload), (error) => this.onFramingError(error), {
      maxFrameBytes: settings.maxFrameBytes,
    });
    socket.on('error', (error: NodeJS.ErrnoException) => host.logger.debug(`Socket error for ${label}: ${error.code ?? error.message}`));
    socket.on('close', () => this.onClose());
  }

  /** The name the client gave in its HELLO. */
  get name(): string {
    return this.clientName;
  }

  /** Queues a message; everything queued in one tick goes out in one write. */
  send(message: Message): void {
    this.sendFrame(encodeMessageFrame(message));
  }

  /** Queues a framed message (see send). */
  sendFrame(frame: Buffer): void {
    const { socket } = this;
    if (socket.destroyed || !socket.writable) return;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    socket.write(frame);
    if (socket.writableLength > this.settings.maxSendBufferBytes) {
      this.host.logger.warn(
        `Client ${this.label} is not reading (${socket.writableLength} bytes waiting); disconnecting it, it will resynchronise when it reconnects`,
      );
      socket.destroy();
    }
  }

  /** Sends ERROR and closes: the protocol's only way to end a conversation from the server. */
  fail(code: ErrorCode, message?: string): void {
    if (this.state === 'closing') return;
    this.state = 'closing';
    clearTimeout(this.handshakeTimer);
    this.detach();
    const text = message ?? makeErrorMessage(code).message;
    this.host.logger[code === ErrorCode.ShuttingDown ? 'debug' : 'warn'](`Sent ERROR ${code} to client ${this.label}: ${text}`);
    this.send(makeErrorMessage(code, text));
    this.socket.end();
    // A client that does not read its ERROR must not hold the connection open.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private onFramingError(error: FramingError): void {
    this.fail(error instanceof FrameTooLargeError ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolError, error.message);
  }

  private onFrame(payload: Buffer): void {
    if (!this.bytes.take(payload.length + 4)) this.throttle('bytes', this.settings.maxBytesPerSecond);
    let message: Message;
    try {
      message = decodeMessage(payload);
    } catch (error) {
      if (error instanceof ProtocolError) return this.fail(error.errorCode, error.message);
      throw error;
    }
    if (this.state === 'handshake') return this.onHello(message);
    if (this.state === 'joining') {
      this.early.push(message);
      return;
    }
    if (this.state === 'active') this.onMessage(message);
  }

  private onHello(message: Message): void {
    clearTimeout(this.handshakeTimer);
    const decision = checkHello(message, { token: this.settings.token });
    if (!decision.ok) return this.fail(decision.code, decision.message);
    if (!this.host.admit(this)) return this.fail(ErrorCode.ServerFull);
    this.state = 'joining';
    this.clientName = decision.clientName;
    this.host.openDocument(decision.document).then(
      (document) => {
        if (this.state !== 'joining') return; // gone while the document loaded
        this.document = document;
        this.state = 'active';
        this.send(
          makeWelcome({ server: this.settings.serverName, document: decision.document, maxFrameBytes: this.settings.maxFrameBytes }),
        );
        document.join(this);
        const early = this.early;
        this.early = [];
        for (const m of early) if (this.state === 'active') this.onMessage(m);
      },
      (error: Error & { code?: string }) => {
        if (error.code === 'COLLAB_ERR_TOO_MANY_DOCUMENTS') return this.fail(ErrorCode.ServerFull, error.message);
        this.host.logger.error(`Error opening document ${decision.document}: ${error.message}`);
        this.fail(ErrorCode.StorageUnavailable, `The document ${decision.document} cannot be opened: ${error.message}`);
      },
    );
  }

  private onMessage(message: Message): void {
    const document = this.document!;
    switch (message.type) {
      case MessageType.Sync:
        if (message.syncType === SyncType.Step1) {
          let answer: Message;
          try {
            answer = document.stepTwoFor(message.data);
          } catch {
            return this.fail(ErrorCode.ProtocolError, 'The state vector of SYNC step 1 could not be decoded.');
          }
          this.send(answer);
          this.host.logger.info(`Sent current document to client ${this.label}`);
          return;
        }
        return this.onChange(document, message.data);
      case MessageType.Awareness:
        try {
          document.applyAwareness(this, message.update);
        } catch {
          this.fail(ErrorCode.ProtocolError, 'The AWARENESS update could not be decoded.');
        }
        return;
      case MessageType.QueryAwareness:
        return this.send(document.awarenessMessage());
      case MessageType.Ping:
        return this.send({ type: MessageType.Pong });
      case MessageType.Pong:
        return;
      case MessageType.Flush:
        document.flushText().then(
          () => this.state === 'active' && this.send({ type: MessageType.Flushed }),
          () => this.fail(ErrorCode.StorageUnavailable, 'The server could not write the plain-text file of the document.'),
        );
        return;
      case MessageType.Hello:
        return this.fail(ErrorCode.ProtocolError, 'HELLO may be sent only once, as the first message.');
      default:
        return this.fail(
          ErrorCode.ProtocolError,
          `${messageTypeName(message.type)} (type ${message.type}) is not a message a client sends.`,
        );
    }
  }

  private onChange(document: SharedDocument, update: Uint8Array): void {
    if (!this.edits.take()) this.throttle('edits', this.settings.maxEditsPerSecond);
    if (document.wouldExceed(update, this.settings.maxDocumentChars)) {
      this.host.logger.warn(`Refused an edit of client ${this.label}: document ${document.name} would pass ${this.settings.maxDocumentChars} characters`);
      return this.fail(
        ErrorCode.DocumentTooLarge,
        `The document may hold at most ${this.settings.maxDocumentChars} characters; this edit would make it longer. It was not applied.`,
      );
    }
    const n = ++this.changesReceived;
    let stored: Promise<void>;
    try {
      stored = document.applyChange(this, update);
    } catch (error) {
      return this.fail(
        ErrorCode.ProtocolError,
        error instanceof MissingDependencyError
          ? "The Yjs update depends on changes the server does not have (send those first, or answer the server's sync step 1); the parts that need them were not applied."
          : 'The Yjs update could not be applied.',
      );
    }
    stored.then(
      () => {
        if (n > this.changesAcked && this.state === 'active') {
          this.changesAcked = n;
          this.send({ type: MessageType.Ack, count: n });
        }
      },
      (error: Error) => {
        this.host.logger.error(`Could not store an edit of client ${this.label}: ${error.message}`);
        this.fail(
          ErrorCode.StorageUnavailable,
          error instanceof StorageError
            ? `The server cannot store edits right now (${error.message}); yours are kept on your side and sent again when you reconnect.`
            : undefined,
        );
      },
    );
  }

  /**
   * Past a rate limit the client is not cut off (its edits would be lost to nobody's benefit):
   * reading from its socket pauses until its budget has refilled, so TCP slows it down.
   */
  private throttle(what: 'edits' | 'bytes', limit: number): void {
    const wait = Math.max(this.edits.waitMs(), this.bytes.waitMs());
    const until = performance.now() + wait;
    if (until <= this.throttledUntil) return;
    this.throttledUntil = until;
    const now = performance.now();
    if (now - this.lastRateLog >= RATE_LOG_INTERVAL_MS) {
      this.lastRateLog = now;
      this.host.logger.warn(`Client ${this.label} sends more than ${limit} ${what} a second; reading from it more slowly`);
    }
    this.socket.pause();
    setTimeout(() => {
      if (performance.now() >= this.throttledUntil - 1 && this.state !== 'closing') this.socket.resume();
    }, wait).unref();
  }

  private onClose(): void {
    clearTimeout(this.handshakeTimer);
    this.state = 'closing';
    this.document?.leave(this);
    this.host.connectionClosed(this, this.document);
  }
}
