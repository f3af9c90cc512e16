// The collab server without its listeners: admission of connections (clients, connections per
// address, connections still waiting for their HELLO, wrong tokens), the documents, and the
// server's own edits. Transports (TCP, WebSocket, in-memory in tests) hand it connections with
// connect(); storages (files, memory, Redis) keep the documents.

import { DEFAULT_DOCUMENT, ErrorCode, tokensMatch } from '@collab/collab-protocol';
import type { Logger } from '@collab/logging';
import type * as Y from 'yjs';
import { AuthThrottle } from './auth-throttle';
import { ClientSession, type HostedSession, type SessionHost, type SessionOptions } from './client-session';
import { DocumentRegistry } from './document-registry';
import { CollabCoreError } from './errors';
import { resolveCoreSettings, type CoreSettings } from './settings';
import { PlainTextSession } from './plain-text-session';
import { ServerOrigin, type SharedDocument } from './shared-document';
import type { DocumentStorage } from './storage';
import type { TextConnection, TextTransport } from './text-transport';
import type { Connection, Refusal, Transport } from './transport';
import { UpdateLogLines } from './update-log-lines';

/** What a CollabCore is made of. */
export interface CollabCoreOptions {
  /** Limits; the defaults of DEFAULT_CORE_SETTINGS where not given. */
  settings?: Partial<CoreSettings>;
  storage: DocumentStorage;
  logger: Logger;
}

/** The default document could not be loaded or created at start: the assignment's `[ERROR] Error opening file temp.txt`. */
export class DefaultDocumentError extends CollabCoreError {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super('COLLAB_ERR_DEFAULT_DOCUMENT', `Error opening file ${file}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'DefaultDocumentError';
  }
}

/** How a plain-text connection starts. */
export interface TextSessionOptions {
  /**
   * The connection this one started as, when its transport learned only later that the client
   * speaks plain text (TCP serves framed and plain-text clients on one port and tells them apart
   * by their first byte, or their silence): it is ended without a word and its place taken over.
   */
  replacing?: Connection;
}

/** A transport's token check (checkToken): let in, or refused and why. */
export type TokenCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** `missing`: none was sent; `wrong`: it does not match; `wait`: the address sent too many wrong ones and must wait. */
      readonly reason: 'missing' | 'wrong' | 'wait';
      /** A sentence for the client. */
      readonly message: string;
      /** For `wait`: how long, in milliseconds. */
      readonly waitMs?: number;
    };

/** Documents, sessions and admission of one collab server. */
export class CollabCore implements SessionHost {
  readonly settings: CoreSettings;
  readonly logger: Logger;
  readonly documents: DocumentRegistry;
  private readonly storage: DocumentStorage;
  private readonly sessions = new Set<HostedSession>();
  /** Sessions still waiting for their HELLO (or a plain-text client's AUTH line), oldest first. */
  private readonly waiting = new Set<HostedSession>();
  /** Sessions that said HELLO (or were let in as plain-text clients) and count against maxClients. */
  private readonly clients = new Set<HostedSession>();
  /** A session being ended because its connection turned out to speak plain text: it leaves no log line. */
  private retiring: HostedSession | undefined;
  private readonly perAddress = new Map<string, number>();
  private readonly auth: AuthThrottle;
  private readonly logLines: UpdateLogLines;
  private closing: Promise<void> | undefined;

  /** Checks the settings (InvalidSettingError naming the one that is wrong). */
  constructor(options: CollabCoreOptions) {
    this.settings = resolveCoreSettings(options.settings);
    this.logger = options.logger;
    this.storage = options.storage;
    this.auth = new AuthThrottle(this.settings.authFailuresAllowed, this.settings.authBackoffMaxMs);
    this.logLines = new UpdateLogLines(this.logger);
    const { settings } = this;
    this.documents = new DocumentRegistry(
      this.storage,
      {
        maxDocuments: settings.maxDocuments,
        unloadAfterMs: settings.unloadAfterMs,
        document: {
          maxMessageBytes: settings.maxFrameBytes,
          maxDocumentChars: settings.maxDocumentChars,
          maxDocumentItems: settings.maxDocumentItems,
          relayIntervalMs: settings.relayIntervalMs,
          presence: {
            maxStateBytes: settings.maxPresenceBytes,
            maxDepth: settings.maxPresenceDepth,
            maxIdsPerPeer: settings.maxPresenceIdsPerClient,
          },
          onChange: (name, origin, shape, recipients) => this.logLines.note(name, origin, shape, recipients),
        },
      },
      this.logger,
    );
  }

  /**
   * Loads the default document `temp` (creating temp.txt when the storage keeps files), as the
   * assignment's server loaded temp.txt at start; throws DefaultDocumentError when it cannot.
   */
  async start(): Promise<void> {
    const file = `${DEFAULT_DOCUMENT}.txt`;
    let document: SharedDocument;
    try {
      document = await this.documents.acquire(DEFAULT_DOCUMENT);
    } catch (error) {
      throw new DefaultDocumentError(file, error);
    }
    try {
      if (!document.existed) await document.flushText();
    } catch (error) {
      this.documents.release(document);
      throw new DefaultDocumentError(file, error);
    }
    this.logger.info(document.existed ? `Loaded existing content from ${file}` : `Created ${file}`);
    this.documents.release(document);
  }

  /** Clients now (connections that said HELLO and were let in). */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Connections now, clients or not. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  /**
   * A new connection: refused at once (the transport is closed with ERROR 1 and undefined is
   * returned) when its address holds too many connections or the server is full; otherwise its
   * session, which the transport feeds.
   */
  connect(transport: Transport, options: SessionOptions = {}): Connection | undefined {
    const { logger } = this;
    const label = transport.remoteLabel;
    if (this.closing) {
      transport.close({ code: ErrorCode.ShuttingDown, message: 'The server is shutting down.' });
      return undefined;
    }
    logger.info(`Accepted connection from ${label}`);
    const refusal = this.refusalFor(transport.remoteAddress, label);
    if (refusal) {
      transport.close(refusal);
      return undefined;
    }
    const session = new ClientSession(transport, this, options);
    this.added(session);
    return session;
  }

  /**
   * A new plain-text connection (nc, telnet, the assignment's client): admitted as connect()
   * admits (the per-address limit; a full server answers `Server is full. Please try again
   * later.` as text, and undefined is returned), then a session on the default document that
   * counts against maxClients once it is in: at once, or with a token after its AUTH line.
   */
  connectText(transport: TextTransport, options: TextSessionOptions = {}): TextConnection | undefined {
    const label = transport.remoteLabel;
    if (options.replacing) this.retire(options.replacing);
    if (this.closing) {
      transport.close('The server is shutting down.\n');
      return undefined;
    }
    // A connection that started as another already said `Accepted connection from`.
    if (!options.replacing) this.logger.info(`Accepted connection from ${label}`);
    const refusal = this.refusalFor(transport.remoteAddress, label);
    if (refusal) {
      transport.close(`${refusal.message}\n`);
      return undefined;
    }
    const session = new PlainTextSession(transport, this);
    this.added(session);
    return session;
  }

  /**
   * The token check for transports that carry the token themselves (a WebSocket's URL), before
   * they connect() a session that joins without HELLO: constant-time, with the same per-address
   * back-off after wrong tokens as HELLO's (a missing token counts as a wrong one). Always ok
   * when the server has no token. `remote` is the transport-to-be: its address and log label.
   */
  checkToken(remote: { readonly remoteAddress: string; readonly remoteLabel: string }, presented: string | undefined): TokenCheck {
    const expected = this.settings.token;
    if (!expected) return { ok: true };
    const address = remote.remoteAddress;
    const waitMs = this.auth.waitMs(address);
    if (waitMs > 0)
      return {
        ok: false,
        reason: 'wait',
        waitMs,
        message: `Too many wrong tokens from ${address}; try again in ${Math.ceil(waitMs / 1000)} s.`,
      };
    const ok = presented !== undefined && presented !== '' && tokensMatch(presented, expected);
    this.noteToken(address, remote.remoteLabel, ok);
    if (ok) return { ok: true };
    return presented
      ? { ok: false, reason: 'wrong', message: 'Authentication failed: the token is wrong.' }
      : { ok: false, reason: 'missing', message: 'Authentication failed: this server needs a token, and none was sent.' };
  }

  /**
   * An edit by the server itself (an outside edit of NAME.txt, a restore, an import): applied,
   * stored, relayed to every client and logged like a client's, under `originLabel` (`file`).
   */
  edit(document: string, originLabel: string, change: (text: Y.Text) => void): Promise<void> {
    return this.documents.edit(document, new ServerOrigin(originLabel), change);
  }

  /**
   * Graceful stop: no new connections, ERROR 9 to everyone, every document stored and closed,
   * the storage released. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const session of [...this.sessions]) session.fail(ErrorCode.ShuttingDown, 'The server is shutting down.');
      this.logLines.flushAll();
      await this.documents.close();
      await this.storage.close().catch((error: Error) => this.logger.error(`Error closing the storage: ${error.message}`));
    })();
    return this.closing;
  }

  // SessionHost

  admit(session: HostedSession): boolean {
    this.waiting.delete(session);
    if (this.clients.size >= this.settings.maxClients) {
      this.logger.warn(`Server full. Rejected connection from ${session.label}`);
      return false;
    }
    this.clients.add(session);
    return true;
  }

  authWaitMs(session: HostedSession): number {
    return this.auth.waitMs(session.transport.remoteAddress);
  }

  authResult(session: HostedSession, ok: boolean): void {
    this.noteToken(session.transport.remoteAddress, session.label, ok);
  }

  acquireDocument(name: string): Promise<SharedDocument> {
    return this.documents.acquire(name);
  }

  releaseDocument(document: SharedDocument): void {
    this.documents.release(document);
  }

  sessionClosed(session: HostedSession): void {
    if (!this.sessions.delete(session)) return;
    this.waiting.delete(session);
    const address = session.transport.remoteAddress;
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
    if (this.clients.delete(session)) {
      this.logLines.flushAuthor(session.label);
      this.logger.info(`Client ${session.label} disconnected`);
    } else if (session !== this.retiring) {
      this.logger.debug(`Connection from ${session.label} closed`);
    }
  }

  /** Why a new connection from `address` is refused (logged), if it is: its address holds too many, or the server is full. */
  private refusalFor(address: string, label: string): Refusal | undefined {
    const { settings, logger } = this;
    const fromAddress = (this.perAddress.get(address) ?? 0) + 1;
    if (settings.maxConnectionsPerAddress > 0 && fromAddress > settings.maxConnectionsPerAddress) {
      logger.warn(`Too many connections from ${address} (limit ${settings.maxConnectionsPerAddress}). Rejected connection from ${label}`);
      return { code: ErrorCode.ServerFull, message: `Too many connections from ${address}. Please try again later.` };
    }
    if (this.clients.size >= settings.maxClients) {
      logger.warn(`Server full. Rejected connection from ${label}`);
      return { code: ErrorCode.ServerFull, message: 'Server is full. Please try again later.' };
    }
    return undefined;
  }

  /** Counts a session admitted by refusalFor. */
  private added(session: HostedSession): void {
    const address = session.transport.remoteAddress;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.sessions.add(session);
    if (session.waitingForHello) {
      this.waiting.add(session);
      this.dropOldestWaitingPastLimit();
    }
  }

  /** Ends, without a word or a log line, the session a connection started as (see TextSessionOptions.replacing). */
  private retire(connection: Connection): void {
    const session = connection as unknown as HostedSession;
    if (!this.sessions.has(session)) return;
    this.retiring = session;
    try {
      connection.closed();
    } finally {
      this.retiring = undefined;
    }
  }

  /** Records a right or wrong token from `address` (the back-off), warning once it must wait. */
  private noteToken(address: string, label: string, ok: boolean): void {
    if (ok) return this.auth.succeeded(address);
    this.auth.failed(address);
    const wait = this.auth.waitMs(address);
    if (wait > 0) this.logger.warn(`Wrong token from ${label}; ${address} must wait ${Math.ceil(wait / 1000)} s before its next try`);
  }

  /** Bounds the connections still waiting for their HELLO: past the limit the oldest goes. */
  private dropOldestWaitingPastLimit(): void {
    const limit = this.settings.maxPendingHandshakes;
    while (this.waiting.size > limit) {
      const oldest = this.waiting.values().next().value as HostedSession;
      this.waiting.delete(oldest);
      this.logger.warn(`More than ${limit} connections are waiting for their HELLO; closing the oldest, from ${oldest.label}`);
      oldest.fail(ErrorCode.Timeout, 'Too many connections are waiting for their HELLO (or AUTH line); this one waited longest.');
    }
  }
}
