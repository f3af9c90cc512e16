// One client's conversation (PROTOCOL.md), whatever transport carries it: the handshake, the
// document it joined, its messages turned into document operations, its acknowledgements, its
// rate limits and timeouts. No sockets here: bytes in and out go through a Transport.

import * as Y from 'yjs';
import {
  ErrorCode,
  MessageType,
  ProtocolError,
  SyncType,
  checkHello,
  decodeMessage,
  encodeMessage,
  makeErrorMessage,
  makeWelcome,
  messageTypeName,
  type Message,
} from '@collab/collab-protocol';
import type { Logger } from '@collab/logging';
import { PresenceRefusedError, TooManyDocumentsError, UpdateRefusedError } from './errors';
import type { SharedDocument } from './shared-document';
import type { CoreSettings } from './settings';
import { describeStorageFailure } from './storage-failure';
import { TokenBucket } from './token-bucket';
import type { Connection, Refusal, Transport } from './transport';

/** Longest client name shown in the logs. */
const MAX_NAME_CHARS = 64;

/** A client's name as logs show it: control characters (a newline would forge a log line) replaced, long names cut. */
function displayName(name: string): string {
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return clean.length > MAX_NAME_CHARS ? `${clean.slice(0, MAX_NAME_CHARS - 1)}…` : clean;
}

/** How often a connection that keeps hitting a rate limit, or keeps claiming another's presence, is logged. */
const REPEAT_LOG_INTERVAL_MS = 10_000;

/** A session as the core that holds it sees it: a framed ClientSession or a PlainTextSession. */
export interface HostedSession {
  /** The client as logs show it. */
  readonly label: string;
  readonly transport: { readonly remoteAddress: string };
  /** Whether it still has to say who it is (HELLO, or a plain-text client's AUTH line): it is not a client yet. */
  readonly waitingForHello: boolean;
  /** Tells the client why (as its protocol can) and closes. */
  fail(code: ErrorCode, message?: string): void;
}

/** What a session needs from the core that holds it. */
export interface SessionHost {
  readonly settings: CoreSettings;
  readonly logger: Logger;
  /** Milliseconds the session's address must still wait after wrong tokens (0: it may try). */
  authWaitMs(session: HostedSession): number;
  /** The session sent a wrong token, or the right one. */
  authResult(session: HostedSession, ok: boolean): void;
  /** Counts the session as a client after its HELLO; false when the server is full. */
  admit(session: HostedSession): boolean;
  /** Loads (or finds) a document and holds it for the session; release it with releaseDocument. */
  acquireDocument(name: string): Promise<SharedDocument>;
  releaseDocument(document: SharedDocument): void;
  /** The session has ended. */
  sessionClosed(session: HostedSession): void;
}

/** How a session starts. */
export interface SessionOptions {
  /**
   * The document and name, when the transport knows them already (a WebSocket's URL path): no
   * HELLO is awaited and no WELCOME sent, as in the y-websocket protocol. The token, if the
   * server has one, was checked by the transport.
   */
  join?: { document: string; clientName: string };
  /** Whether to send ACK (our protocol's durability signal; a standard y-websocket client does not know it). Default true. */
  acks?: boolean;
}

type State = 'hello' | 'joining' | 'active' | 'closing' | 'closed';

/** One client connected through a transport. */
export class ClientSession implements Connection, HostedSession {
  private state: State = 'hello';
  private document: SharedDocument | undefined;
  private clientName = '';
  /** Document-changing messages received (SYNC step 2 and update), for ACK numbering. */
  private changesReceived = 0;
  private changesAcked = 0;
  /** The most changes known stored; an ACK for them is queued while ackQueued. */
  private changesStored = 0;
  private ackQueued = false;
  /** The last change's storage promise, and the number of the last change waiting on it. */
  private awaiting: { readonly stored: Promise<void>; n: number; settled: boolean } | undefined;
  /** Messages that arrived while the document was loading. */
  private early: Message[] = [];
  private handshakeTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastActivity = performance.now();
  private readonly edits: TokenBucket;
  private readonly bytes: TokenBucket;
  private throttledUntil = 0;
  /**
   * While throttled no message is handled, not even one the transport had read already (one TCP
   * read can hold thousands of small messages, each of which may ask for the whole document):
   * they wait here, in order, until the budget has refilled.
   */
  private paused = false;
  private backlog: Uint8Array[] = [];
  private lastRateLog = -Infinity;
  private lastContestLog = -Infinity;
  private readonly acks: boolean;
  private admitted = false;

  constructor(
    readonly transport: Transport,
    private readonly host: SessionHost,
    options: SessionOptions = {},
  ) {
    const { settings } = host;
    this.acks = options.acks ?? true;
    this.edits = new TokenBucket(settings.maxEditsPerSecond, settings.maxEditsPerSecond * 2);
    this.bytes = new TokenBucket(settings.maxBytesPerSecond, settings.maxBytesPerSecond * 2);
    if (settings.idleTimeoutMs > 0) this.armIdleTimer(settings.idleTimeoutMs);
    if (options.join) {
      this.enter(options.join.document, options.join.clientName, false);
    } else {
      this.handshakeTimer = setTimeout(
        () => this.fail(ErrorCode.Timeout, `No HELLO within ${settings.handshakeTimeoutMs / 1000} s; closing the connection.`),
        settings.handshakeTimeoutMs,
      );
      this.handshakeTimer.unref?.();
    }
  }

  /** `ann (127.0.0.1:51234)` once the client said who it is, its endpoint before. */
  get label(): string {
    return this.clientName ? `${this.clientName} (${this.transport.remoteLabel})` : this.transport.remoteLabel;
  }

  /** The name the client gave in its HELLO. */
  get name(): string {
    return this.clientName;
  }

  /** Whether the session still waits for its HELLO. */
  get waitingForHello(): boolean {
    return this.state === 'hello';
  }

  /** Whether the session counts as a client (it said HELLO and was let in). */
  get isClient(): boolean {
    return this.admitted;
  }

  get maxMessageBytes(): number {
    return this.state === 'hello' ? this.host.settings.maxHelloBytes : this.host.settings.maxFrameBytes;
  }

  /** Queues one encoded message for the client. */
  send(payload: Uint8Array): void {
    if (this.state !== 'closing' && this.state !== 'closed') this.transport.send(payload);
  }

  /** Sends ERROR (through the transport) and closes: the protocol's only way for the server to end a conversation. */
  fail(code: ErrorCode, message?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.stopTimers();
    const text = message ?? makeErrorMessage(code).message;
    this.host.logger[code === ErrorCode.ShuttingDown ? 'debug' : 'warn'](`Sent ERROR ${code} to client ${this.label}: ${text}`);
    const refusal: Refusal = { code, message: text };
    this.transport.close(refusal);
  }

  activity(): void {
    this.lastActivity = performance.now();
  }

  receive(payload: Uint8Array): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.lastActivity = performance.now();
    if (this.paused) {
      this.backlog.push(payload);
      return;
    }
    this.handle(payload);
  }

  private handle(payload: Uint8Array): void {
    if (!this.bytes.take(payload.length)) this.throttle('bytes', this.host.settings.maxBytesPerSecond);
    try {
      let message: Message;
      try {
        message = decodeMessage(payload);
      } catch (error) {
        if (error instanceof ProtocolError) return this.fail(error.errorCode, error.message);
        throw error;
      }
      if (this.state === 'hello') return this.onHello(message);
      if (this.state === 'joining') {
        this.early.push(message);
        return;
      }
      this.onMessage(message);
    } catch (error) {
      this.internalError(error);
    }
  }

  closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.backlog = [];
    this.stopTimers();
    const document = this.document;
    this.document = undefined;
    if (document) {
      document.leave(this);
      this.host.releaseDocument(document);
    }
    this.host.sessionClosed(this);
  }

  private onHello(message: Message): void {
    clearTimeout(this.handshakeTimer);
    const { settings } = this.host;
    // Named from here on, so that every refusal's log line says who was refused.
    if (message.type === MessageType.Hello) this.clientName = displayName(message.clientName);
    const wait = settings.token ? this.host.authWaitMs(this) : 0;
    if (wait > 0) {
      return this.fail(
        ErrorCode.AuthFailed,
        `Too many wrong tokens from ${this.transport.remoteAddress}; try again in ${Math.ceil(wait / 1000)} s.`,
      );
    }
    const decision = checkHello(message, { token: settings.token });
    if (!decision.ok) {
      if (decision.code === ErrorCode.AuthFailed) {
        this.host.authResult(this, false);
        const sent = message.type === MessageType.Hello ? message.token : '';
        return this.fail(
          ErrorCode.AuthFailed,
          sent === '' ? 'Authentication failed: this server needs a token, and none was sent.' : decision.message,
        );
      }
      return this.fail(decision.code, decision.message);
    }
    if (settings.token) this.host.authResult(this, true);
    this.enter(decision.document, decision.clientName, true);
  }

  /** Lets the client in (or refuses it: server full) and opens its document. */
  private enter(documentName: string, clientName: string, welcome: boolean): void {
    this.clientName = displayName(clientName);
    if (!this.host.admit(this)) return this.fail(ErrorCode.ServerFull);
    this.admitted = true;
    this.state = 'joining';
    this.host.logger.info(`New client connected: ${this.label}`);
    this.host.acquireDocument(documentName).then(
      (document) => {
        if (this.state !== 'joining') {
          // Gone while the document loaded: give it back, or its slot stays taken for good.
          this.host.releaseDocument(document);
          return;
        }
        this.document = document;
        this.state = 'active';
        const { settings } = this.host;
        // A bug met while joining (encoding the presence of the others, say) closes this client
        // like one met while handling its messages; thrown here it would reject a promise nobody
        // holds, and the process would stop for everyone.
        try {
          if (welcome)
            this.send(
              encodeMessage(makeWelcome({ server: settings.serverName, document: documentName, maxFrameBytes: settings.maxFrameBytes })),
            );
          document.join(this);
          const early = this.early;
          this.early = [];
          for (const m of early) if (this.state === 'active') this.onMessage(m);
        } catch (error) {
          this.internalError(error);
        }
      },
      (error: Error) => {
        if (error instanceof TooManyDocumentsError) return this.fail(ErrorCode.ServerFull, error.message);
        this.host.logger.error(`Error opening document ${documentName}: ${error.message}`);
        this.fail(ErrorCode.StorageUnavailable, `The document ${documentName} cannot be opened: ${describeStorageFailure(error)}.`);
      },
    );
  }

  private onMessage(message: Message): void {
    const document = this.document!;
    switch (message.type) {
      case MessageType.Sync:
        if (message.syncType === SyncType.Step1) return this.onStepOne(document, message.data);
        return this.onChange(document, message.data);
      case MessageType.Awareness:
        return this.onAwareness(document, message.update);
      case MessageType.QueryAwareness: {
        const answer = document.awarenessMessages();
        for (const payload of answer) this.send(payload);
        return this.chargeAnswer(answer);
      }
      case MessageType.Ping:
        return this.send(encodeMessage({ type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Flush:
        document.flushText().then(
          () => this.state === 'active' && this.send(encodeMessage({ type: MessageType.Flushed })),
          (error: Error) => {
            this.host.logger.error(`Could not write the plain-text copy of ${document.name} for client ${this.label}: ${error.message}`);
            this.fail(
              ErrorCode.StorageUnavailable,
              `The server could not write the plain-text copy of the document: ${describeStorageFailure(error)}.`,
            );
          },
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

  private onStepOne(document: SharedDocument, stateVector: Uint8Array): void {
    try {
      Y.decodeStateVector(stateVector);
    } catch {
      return this.fail(ErrorCode.ProtocolError, 'The state vector of SYNC step 1 could not be decoded.');
    }
    let answer: Uint8Array[];
    try {
      answer = document.stepTwoFor(stateVector);
    } catch (error) {
      this.host.logger.error(`Could not encode document ${document.name} for client ${this.label}: ${(error as Error).message}`);
      return this.fail(
        ErrorCode.StorageUnavailable,
        `The server cannot send the document ${document.name} (an error on the server; it has been logged).`,
      );
    }
    for (const payload of answer) this.send(payload);
    this.host.logger.info(`Sent current document to client ${this.label}`);
    this.chargeAnswer(answer);
  }

  /**
   * An answer counts against the client's byte budget like what it sends: a 5-byte request may
   * ask for the whole document, and a client repeating it would otherwise keep the server busy
   * encoding (and its output growing) at no cost to itself.
   */
  private chargeAnswer(payloads: readonly Uint8Array[]): void {
    let bytes = 0;
    for (const payload of payloads) bytes += payload.length;
    if (bytes > 0 && !this.bytes.take(bytes)) this.throttle('bytes', this.host.settings.maxBytesPerSecond);
  }

  private onAwareness(document: SharedDocument, update: Uint8Array): void {
    let contested: readonly number[];
    try {
      ({ contested } = document.applyAwareness(this, update));
    } catch (error) {
      if (!(error instanceof PresenceRefusedError)) throw error;
      return this.fail(ErrorCode.ProtocolError, error.message);
    }
    if (contested.length && performance.now() - this.lastContestLog >= REPEAT_LOG_INTERVAL_MS) {
      this.lastContestLog = performance.now();
      this.host.logger.warn(
        `Client ${this.label} sent presence for id ${contested.join(', ')}, which another connection holds; set aside until that one leaves`,
      );
    }
  }

  private onChange(document: SharedDocument, update: Uint8Array): void {
    if (!this.edits.take()) this.throttle('edits', this.host.settings.maxEditsPerSecond);
    const n = ++this.changesReceived;
    let stored: Promise<void>;
    try {
      stored = document.applyChange(this, update);
    } catch (error) {
      if (!(error instanceof UpdateRefusedError)) throw error;
      const { settings } = this.host;
      this.host.logger.warn(
        error.reason === 'too-large'
          ? `Refused an edit of client ${this.label}: document ${document.name} would pass ${settings.maxDocumentChars} characters`
          : error.reason === 'too-many-items'
            ? `Refused an edit of client ${this.label}: document ${document.name} would pass ${settings.maxDocumentItems} items`
            : `Refused an edit of client ${this.label} to ${document.name}: ${error.message}`,
      );
      const tooLarge = error.reason === 'too-large' || error.reason === 'too-many-items';
      return this.fail(tooLarge ? ErrorCode.DocumentTooLarge : ErrorCode.ProtocolError, error.message);
    }
    // Changes stored by one commit may share one promise (the file storage's do): one handler
    // for them, which acknowledges the last. (A change that changed nothing gets the promise of
    // the last append, which may have settled already: it gets a handler of its own.)
    if (stored === this.awaiting?.stored && !this.awaiting.settled) {
      this.awaiting.n = n;
      return;
    }
    const awaiting: NonNullable<typeof this.awaiting> = (this.awaiting = { stored, n, settled: false });
    stored.then(
      () => {
        awaiting.settled = true;
        if (awaiting.n <= this.changesStored) return;
        this.changesStored = awaiting.n;
        // Changes stored by one commit are acknowledged together, with one ACK of the last.
        if (!this.ackQueued) {
          this.ackQueued = true;
          queueMicrotask(() => this.sendAck());
        }
      },
      (error: Error) => {
        awaiting.settled = true;
        this.host.logger.error(`Could not store an edit of client ${this.label} to ${document.name}: ${error.message}`);
        this.fail(
          ErrorCode.StorageUnavailable,
          `The server cannot store edits right now (${describeStorageFailure(error)}); yours are kept on your side and sent again when you reconnect.`,
        );
      },
    );
  }

  private sendAck(): void {
    this.ackQueued = false;
    if (this.changesStored <= this.changesAcked || this.state !== 'active') return;
    this.changesAcked = this.changesStored;
    if (this.acks) this.send(encodeMessage({ type: MessageType.Ack, count: this.changesAcked }));
  }

  /** A bug: logged with its stack, and the client closed rather than the server crashed. */
  private internalError(error: unknown): void {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.host.logger.error(`Internal error while handling a message from client ${this.label}: ${detail}`);
    this.fail(ErrorCode.ProtocolError, 'The server could not handle a message (an internal error, logged on the server).');
  }

  /**
   * Past a rate limit the client is not cut off (its edits would be lost to nobody's benefit):
   * reading from it pauses until its budget has refilled, so TCP slows it down.
   */
  private throttle(what: 'edits' | 'bytes', limit: number): void {
    const wait = Math.max(this.edits.waitMs(), this.bytes.waitMs());
    const now = performance.now();
    const until = now + wait;
    if (until <= this.throttledUntil) return;
    this.throttledUntil = until;
    if (now - this.lastRateLog >= REPEAT_LOG_INTERVAL_MS) {
      this.lastRateLog = now;
      const does = what === 'bytes' ? 'sends or asks for' : 'sends';
      this.host.logger.warn(`Client ${this.label} ${does} more than ${limit} ${what} a second; reading from it more slowly`);
    }
    this.paused = true;
    this.transport.pause();
    setTimeout(() => this.unpause(), wait).unref?.();
  }

  /** The budget has refilled: handles what waited, in order, and reads again unless that throttles anew. */
  private unpause(): void {
    if (this.ending) return;
    if (performance.now() < this.throttledUntil - 1) return; // a later throttle has its own timer
    this.paused = false;
    // Each message handled may throttle again, or end the session.
    while (this.backlog.length > 0 && !this.paused && !this.ending) this.handle(this.backlog.shift()!);
    if (!this.paused && !this.ending) this.transport.resume();
  }

  /** Whether the session is closing or closed (read afresh: handling a message can end it). */
  private get ending(): boolean {
    return this.state === 'closing' || this.state === 'closed';
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
  }
}
