import type { Server, Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTcpServer, formatEndpoint, listenDualStack, normalizeAddress, type ListenResult } from '@collab/address';
import { DEFAULT_DOCUMENT, encodeMessageFrame, ErrorCode, makeErrorMessage } from '@collab/collab-protocol';
import { DocumentStore, type FsOps } from '@collab/persistence';
import { DEFAULT_MAX_FRAME_BYTES } from '@collab/framing';
import type { Logger } from '@collab/logging';
import { ClientConnection, type ConnectionHost } from './client-connection';
import { SharedDocument, type DocumentPeer } from './shared-document';
import { exposureWarning } from './exposure-warning';

/** Settings of a CollabServer; limits carry their units in the name. */
export interface CollabServerOptions {
  host?: string;
  port: number;
  /** Where NAME.txt and the update logs live. */
  dataDir: string;
  /** Clients connected at once; one more gets ERROR 1. */
  maxClients: number;
  maxFrameBytes?: number;
  /** A client silent this long is closed with ERROR 8; 0 never. */
  idleTimeoutMs: number;
  handshakeTimeoutMs?: number;
  /** Unsent output past which a client that does not read is dropped. */
  maxSendBufferBytes?: number;
  /** Connections allowed to wait for their HELLO at once; past it the oldest is closed. */
  maxPendingHandshakes?: number;
  /** Connections one remote address may hold at once; 0 for no limit. */
  maxConnectionsPerAddress?: number;
  /** Documents loaded at once; a HELLO for one more gets ERROR 1. */
  maxDocuments?: number;
  /** Edits a second per client before reading from it slows down. */
  maxEditsPerSecond?: number;
  /** Bytes a second per client before reading from it slows down. */
  maxBytesPerSecond?: number;
  /** Longest document in characters; an edit past it gets ERROR 10. */
  maxDocumentChars?: number;
  /** How long a document stays loaded after its last client leaves. */
  unloadAfterMs?: number;
  /** Shared secret clients must send in HELLO; none when undefined or ''. */
  token?: string;
  /** PEM certificate and key: clients connect with TLS (summary is logged at start). */
  tls?: { cert: Buffer | string; key: Buffer | string; summary?: string };
  /** Log size past which a document is compacted (persistence default otherwise). */
  compactBytes?: number;
  /** The file system calls of the store; tests inject disk faults here (default: the real ones). */
  storageFs?: FsOps;
  serverName: string;
  logger: Logger;
}

/** Default limits; each is an option of CollabServer and a flag of collab-server. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 64;
export const DEFAULT_MAX_DOCUMENTS = 1000;
export const DEFAULT_MAX_EDITS_PER_SECOND = 1000;
export const DEFAULT_MAX_BYTES_PER_SECOND = 8 * 1024 * 1024;
export const DEFAULT_MAX_DOCUMENT_CHARS = 16 * 1024 * 1024;

/** A HELLO asked for a document while the maximum number is open. */
export class TooManyDocumentsError extends Error {
  readonly code = 'COLLAB_ERR_TOO_MANY_DOCUMENTS';
  constructor(readonly limit: number) {
    super(`${limit} documents are open, the most this server holds at once. Please try again later.`);
    this.name = 'TooManyDocumentsError';
  }
}

/** The default document could not be loaded or created at start. */
export class DefaultDocumentError extends Error {
  readonly code = 'COLLAB_ERR_DEFAULT_DOCUMENT';
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`Error opening file ${file}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'DefaultDocumentError';
  }
}

interface OpenDocument {
  loading: Promise<SharedDocument>;
  unloadTimer?: NodeJS.Timeout;
}

/**
 * The collab daemon: accepts clients (dual stack), hands each to a ClientConnection, and keeps
 * the documents they edit loaded while anyone uses them. The default document `temp` is loaded
 * at start, as the assignment's server loaded temp.txt.
 */
export class CollabServer implements ConnectionHost {
  readonly logger: Logger;
  private readonly server: Server;
  /** Every open connection; in insertion order, so the first waiting ones are the oldest. */
  private readonly connections = new Set<ClientConnection>();
  /** Connections that have said HELLO and count against maxClients. */
  private readonly admitted = new Set<ClientConnection>();
  /** Open connections per remote address, for maxConnectionsPerAddress. */
  private readonly perAddress = new Map<string, number>();
  private readonly documents = new Map<string, OpenDocument>();
  /** Documents being written out and closed; a client asking for one waits, then reloads it. */
  private readonly unloading = new Map<string, Promise<void>>();
  private store: DocumentStore | undefined;
  private closing: Promise<void> | undefined;
  private listenResult: ListenResult | undefined;

  constructor(private readonly options: CollabServerOptions) {
    if (!Number.isInteger(options.maxClients) || options.maxClients < 1) throw new RangeError('maxClients must be a whole number of at least 1');
    if (!(options.idleTimeoutMs >= 0)) throw new RangeError('idleTimeoutMs must be a number of milliseconds, 0 or more');
    this.logger = options.logger;
    this.server = createTcpServer(
      {
        tls: options.tls,
        noDelay: true,
        handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
        // A failed handshake is never a client; port probes and resets only at debug level.
        onHandshakeFailure: ({ remote, reason, quiet }) => this.logger[quiet ? 'debug' : 'warn'](`TLS handshake failed with ${remote}: ${reason}`),
      },
      (socket) => this.accept(socket),
    );
    this.server.on('error', (error) => this.logger.error(`Server error: ${error.message}`));
  }

  /** Opens the data directory (taking its lock), loads `temp`, and listens. */
  async start(): Promise<ListenResult> {
    const textFile = join(this.options.dataDir, `${DEFAULT_DOCUMENT}.txt`);
    const existed = existsSync(textFile);
    this.store = await DocumentStore.open({
      dataDir: this.options.dataDir,
      compactBytes: this.options.compactBytes,
      fs: this.options.storageFs,
      onWarning: (message) => this.logger.warn(message),
    });
    try {
      const temp = await this.openDocument(DEFAULT_DOCUMENT);
      if (!existed) await temp.flushText();
      this.logger.info(existed ? `Loaded existing content from ${DEFAULT_DOCUMENT}.txt` : `Created ${DEFAULT_DOCUMENT}.txt`);
      this.scheduleUnload(DEFAULT_DOCUMENT);
    } catch (error) {
      await this.store.close().catch(() => undefined);
      throw new DefaultDocumentError(`${DEFAULT_DOCUMENT}.txt`, error);
    }
    try {
      this.listenResult = await listenDualStack(this.server, { host: this.options.host ?? '::', port: this.options.port });
    } catch (error) {
      await this.releaseDocuments();
      throw error;
    }
    this.logger.info(`Server listening on port ${this.listenResult.port}`);
    const { tls } = this.options;
    this.logger.info(tls ? `TLS is on: ${tls.summary ?? 'certificate loaded'}` : 'TLS is off: connections are not encrypted');
    const warning = exposureWarning(this.listenResult, { tls: tls !== undefined, token: Boolean(this.options.token) });
    if (warning) this.logger.warn(warning);
    return this.listenResult;
  }

  /** The address actually listened on. */
  get address(): ListenResult | undefined {
    return this.listenResult;
  }

  /** Clients connected now that have said HELLO. */
  get clientCount(): number {
    return this.admitted.size;
  }

  /**
   * Called at HELLO: a connection counts as a client only from here on, so connections that
   * never say anything (slowloris) cannot fill the server. False when it is full.
   */
  admit(connection: ClientConnection): boolean {
    if (this.admitted.size >= this.options.maxClients) {
      this.logger.warn(`Server full. Rejected connection from ${connection.label}`);
      return false;
    }
    this.admitted.add(connection);
    return true;
  }

  /** Loads the named document, or finds it loaded; cancels a pending unload. */
  openDocument(name: string): Promise<SharedDocument> {
    const open = this.documents.get(name);
    if (open) {
      clearTimeout(open.unloadTimer);
      open.unloadTimer = undefined;
      return open.loading;
    }
    const maxDocuments = this.options.maxDocuments ?? DEFAULT_MAX_DOCUMENTS;
    if (this.documents.size + this.unloading.size >= maxDocuments) {
      this.logger.warn(`${maxDocuments} documents are open (the limit); refused to open ${name}`);
      return Promise.reject(new TooManyDocumentsError(maxDocuments));
    }
    const unloading = this.unloading.get(name);
    if (unloading) return unloading.then(() => this.openDocument(name));
    if (!this.store || this.closing) return Promise.reject(new Error('the server is shutting down'));
    const loading = this.store.openFiles(name).then(
      (stored) =>
        new SharedDocument(name, stored, {
          onTextChanged: (peer, summary) => {
            if (this.logger.isEnabled('update')) this.logger.update(`Document updated by ${peer.label}: ${summary()}`);
          },
          onRelayed: (recipients) => this.logRelay(recipients),
        }),
    );
    const entry: OpenDocument = { loading };
    this.documents.set(name, entry);
    loading.catch(() => {
      if (this.documents.get(name) === entry) this.documents.delete(name);
    });
    return loading;
  }

  /** Called by a connection once it has closed. */
  connectionClosed(connection: ClientConnection, document: SharedDocument | undefined): void {
    if (!this.connections.delete(connection)) return;
    this.admitted.delete(connection);
    this.logger.info(`Client ${connection.label} disconnected`);
    if (document && document.peerCount === 0) this.scheduleUnload(document.name);
  }

  /**
   * Graceful stop: no new clients, ERROR 9 to everyone, every stored edit flushed, every
   * document's text file written, the data directory unlocked. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const connection of this.connections) connection.fail(ErrorCode.ShuttingDown, 'The server is shutting down.');
      await this.releaseDocuments();
      await serverClosed;
      this.logger.info('Server shut down');
    })();
    return this.closing;
  }

  /** Stores and closes every loaded document, then the store (lock released). */
  private async releaseDocuments(): Promise<void> {
    const documents = [...this.documents.values()];
    this.documents.clear();
    await Promise.all(
      documents.map(async (entry) => {
        clearTimeout(entry.unloadTimer);
        const document = await entry.loading.catch(() => undefined);
        await document?.settled();
        await document?.close().catch((error: Error) => this.logger.error(`Error closing document ${document.name}: ${error.message}`));
      }),
    );
    await Promise.all([...this.unloading.values()]);
    await this.store?.close().catch((error: Error) => this.logger.error(`Error closing the data directory: ${error.message}`));
  }

  private accept(socket: Socket): void {
    const label = formatEndpoint(normalizeAddress(socket.remoteAddress ?? '?'), socket.remotePort ?? 0);
    socket.on('error', () => undefined);
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.logger.info(`Accepted connection from ${label}`);
    const address = normalizeAddress(socket.remoteAddress ?? '?');
    const fromAddress = (this.perAddress.get(address) ?? 0) + 1;
    const perAddressLimit = this.options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    if (perAddressLimit > 0 && fromAddress > perAddressLimit) {
      this.logger.warn(`Too many connections from ${address} (limit ${perAddressLimit}). Rejected connection from ${label}`);
      socket.end(encodeMessageFrame(makeErrorMessage(ErrorCode.ServerFull, `Too many connections from ${address}. Please try again later.`)));
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    if (this.admitted.size >= this.options.maxClients) {
      this.logger.warn(`Server full. Rejected connection from ${label}`);
      socket.end(encodeMessageFrame(makeErrorMessage(ErrorCode.ServerFull)));
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const connection = new ClientConnection(
      socket,
      label,
      {
        serverName: this.options.serverName,
        maxFrameBytes: this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
        handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 10_000,
        idleTimeoutMs: this.options.idleTimeoutMs,
        maxSendBufferBytes: this.options.maxSendBufferBytes ?? 64 * 1024 * 1024,
        token: this.options.token || undefined,
        maxEditsPerSecond: this.options.maxEditsPerSecond ?? DEFAULT_MAX_EDITS_PER_SECOND,
        maxBytesPerSecond: this.options.maxBytesPerSecond ?? DEFAULT_MAX_BYTES_PER_SECOND,
        maxDocumentChars: this.options.maxDocumentChars ?? DEFAULT_MAX_DOCUMENT_CHARS,
      },
      this,
    );
    this.connections.add(connection);
    this.perAddress.set(address, fromAddress);
    socket.once('close', () => {
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
    this.logger.info(`New client connected: ${label}`);
    this.dropOldestWaitingPastLimit();
  }

  /** Bounds the connections still waiting for their HELLO: past the limit the oldest goes. */
  private dropOldestWaitingPastLimit(): void {
    const limit = this.options.maxPendingHandshakes ?? 1024;
    if (this.connections.size - this.admitted.size <= limit) return;
    for (const connection of this.connections) {
      if (this.admitted.has(connection)) continue;
      this.logger.warn(`More than ${limit} connections are waiting for their HELLO; closing the oldest, from ${connection.label}`);
      connection.fail(ErrorCode.Timeout, 'Too many connections are waiting for their HELLO; this one waited longest.');
      return;
    }
  }

  private logRelay(recipients: readonly DocumentPeer[]): void {
    // Past 10 recipients a line each would drown the log: those go to debug.
    const level = recipients.length > 10 ? 'debug' : 'info';
    if (!this.logger.isEnabled(level)) return;
    for (const peer of recipients) this.logger[level](`Broadcasted update to client ${peer.label}`);
  }

  private scheduleUnload(name: string): void {
    const entry = this.documents.get(name);
    if (!entry || this.closing) return;
    clearTimeout(entry.unloadTimer);
    entry.unloadTimer = setTimeout(() => {
      void entry.loading.then(async (document) => {
        if (document.peerCount > 0 || this.documents.get(name) !== entry || this.closing) return;
        this.documents.delete(name);
        const unloading = (async () => {
          await document.settled();
          await document.close().catch((error: Error) => this.logger.error(`Error closing document ${name}: ${error.message}`));
          this.logger.debug(`Unloaded document ${name}`);
        })();
        this.unloading.set(name, unloading);
        await unloading;
        this.unloading.delete(name);
      });
    }, this.options.unloadAfterMs ?? 60_000);
    entry.unloadTimer.unref();
  }
}
