// The collab daemon: the collab core over a data directory, reached through a dual-stack TCP
// (or TLS) listener whose connections become TcpTransports, and, on a second port, a web
// listener (the web editor, and WebSocket clients as WsTransports on the same core).

import type { Server, Socket } from 'node:net';
import { createTcpServer, listenDualStack, type ListenResult } from '@collab/address';
import { CollabCore, DEFAULT_CORE_SETTINGS, type CoreSettings } from '@collab/collab-core';
import { DEFAULT_DOCUMENT } from '@collab/collab-protocol';
import type { Logger } from '@collab/logging';
import { DocumentStore, type FsOps, type StoreOptions } from '@collab/persistence';
import { exposureWarning } from './exposure-warning';
import { DEFAULT_WEB_PORT, TEXT_AFTER_SILENCE_MS } from './protocol-detection';
import { TcpTextTransport } from './tcp-text-transport';
import { TcpTransport } from './tcp-transport';
import { describeOriginPolicy, type OriginPolicy } from './web/origin-policy';
import { WebFiles } from './web/web-files';
import { WebListener } from './web/web-listener';

/** The web port: the web editor and the WebSocket endpoint for Yjs clients. */
export interface WebPortOptions {
  /** 0 picks a free port. */
  port: number;
  /** Which pages may open a WebSocket (default: this server's own). */
  origins: OriginPolicy;
  /** Where the built web editor is (dist/apps/collab-web); without it pages answer 503. */
  webRoot?: string;
  /** Ping interval and longest silence towards a WebSocket client (default 15 s). */
  keepAliveMs?: number;
}

/** Settings of a CollabServer: the core's limits (defaults where not given), plus where to listen and store. */
export interface CollabServerOptions extends Partial<CoreSettings> {
  host?: string;
  port: number;
  /** Where NAME.txt and the update logs live (created if missing, when its parent exists). */
  dataDir: string;
  /** Merge an outside edit of NAME.txt while its document is open (default true). */
  watchFiles?: boolean;
  /** How long NAME.txt must hold still before an outside edit of it is read (persistence default otherwise). */
  fileSettleMs?: number;
  /** PEM certificate and key: clients connect with TLS (summary is logged at start). */
  tls?: { cert: Buffer | string; key: Buffer | string; summary?: string };
  /** Unsent output past which a client that does not read is dropped (default 64 MiB). */
  maxSendBufferBytes?: number;
  /** Log size past which a document is compacted (persistence default otherwise). */
  compactBytes?: number;
  /** The web port; none when undefined. */
  web?: WebPortOptions;
  /** The file system calls of the store; tests inject disk faults here (default: the real ones). */
  storageFs?: FsOps;
  /** How long a new connection may stay silent before it is taken as a plain-text client (default 300 ms). */
  textAfterMs?: number;
  /** Share documents with other instances through Redis (the data directory is then written a document at a time, by each document's lease holder). */
  redis?: { url: string; allowUnsafe?: boolean; leaseMs?: number; trimEntries?: number };
  /** The web editor's port, which an HTTP request on this port is pointed at (default 8090). */
  webPort?: number;
  logger: Logger;
}

/** Default backlog of unsent output per client: past it, a client that does not read is dropped. */
export const DEFAULT_MAX_SEND_BUFFER_BYTES = 64 * 1024 * 1024;

/** collab-server: storage, core and TCP listener, started and stopped together. */
export class CollabServer {
  readonly logger: Logger;
  private readonly server: Server;
  private core: CollabCore | undefined;
  private listenResult: ListenResult | undefined;
  private web: WebListener | undefined;
  private webResult: ListenResult | undefined;
  private webFiles: WebFiles | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: CollabServerOptions) {
    this.logger = options.logger;
    this.server = createTcpServer(
      {
        tls: options.tls,
        noDelay: true,
        handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
        // A failed handshake is never a client; port probes and resets only at debug level.
        onHandshakeFailure: ({ remote, reason, quiet }) =>
          this.logger[quiet ? 'debug' : 'warn'](`TLS handshake failed with ${remote}: ${reason}`),
      },
      (socket) => this.accept(socket),
    );
  }

  /** Opens the data directory (taking its lock), listens, and loads `temp`; rejects with one sentence when it cannot. */
  async start(): Promise<ListenResult> {
    const { options } = this;
    // The rest are the core's settings; the transports' own options are read where they are made.
    const {
      host,
      port,
      dataDir,
      watchFiles,
      fileSettleMs,
      tls,
      maxSendBufferBytes,
      compactBytes,
      storageFs,
      textAfterMs,
      webPort,
      logger,
      web,
      redis,
      ...settings
    } = options;
    void [maxSendBufferBytes, textAfterMs, webPort];
    const files: StoreOptions = {
      dataDir,
      compactBytes,
      fs: storageFs,
      onWarning: (message) => logger.warn(message),
      watchFiles: watchFiles ?? true,
      fileSettleMs,
      maxTextChars: settings.maxDocumentChars ?? DEFAULT_CORE_SETTINGS.maxDocumentChars,
    };
    // Loaded only for --redis: ioredis is a tenth of the bundle, and memory a server without Redis does not need.
    const store = redis ? await openRedisStorage({ ...redis, files, logger }) : await DocumentStore.open(files);
    let core: CollabCore;
    try {
      core = new CollabCore({ settings, storage: store, logger });
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
    this.core = core;
    try {
      // The ports first, then `temp`: a server that cannot listen (the port is another's) leaves
      // no temp.txt behind. A client that connects meanwhile is served once its document loads.
      this.listenResult = await listenDualStack(this.server, { host: host ?? '::', port });
      // Only now: a failed listen is start()'s rejection (one line), not a second log line.
      this.server.on('error', (error) => this.logger.error(`Server error: ${error.message}`));
      if (web) await this.startWeb(core, web);
      await core.start();
    } catch (error) {
      this.server.close();
      const webClosed = this.web?.close(); // once its clients are gone: core.close() ends them
      await core.close();
      await webClosed;
      throw error;
    }
    logger.info(`Server listening on port ${this.listenResult.port}`);
    logger.info(tls ? `TLS is on: ${tls.summary ?? 'certificate loaded'}` : 'TLS is off: connections are not encrypted');
    if (web) this.logWeb(web);
    const security = { tls: tls !== undefined, token: Boolean(core.settings.token) };
    for (const listening of [this.listenResult, this.webResult]) {
      const warning = listening && exposureWarning(listening, security);
      if (warning) logger.warn(warning);
    }
    return this.listenResult;
  }

  /** The address actually listened on. */
  get address(): ListenResult | undefined {
    return this.listenResult;
  }

  /** The address the web port listens on, when it is on. */
  get webAddress(): ListenResult | undefined {
    return this.webResult;
  }

  /** The core: documents, sessions, the server's own edits. */
  get collab(): CollabCore {
    if (!this.core) throw new Error('the server has not started');
    return this.core;
  }

  /** Clients connected now that have said HELLO. */
  get clientCount(): number {
    return this.core?.clientCount ?? 0;
  }

  /**
   * Graceful stop: no new clients, ERROR 9 to everyone, every stored edit flushed, every
   * document's text file written, the data directory unlocked. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      const webClosed = this.web?.close();
      await this.core?.close();
      await serverClosed;
      await webClosed;
      this.logger.info('Server shut down');
    })();
    return this.closing;
  }

  private async startWeb(core: CollabCore, web: WebPortOptions): Promise<void> {
    const { options, logger } = this;
    const files = web.webRoot ? WebFiles.load(web.webRoot) : undefined;
    this.web = new WebListener(core, {
      host: options.host ?? '::',
      port: web.port,
      tls: options.tls,
      origins: web.origins,
      files,
      maxSendBufferBytes: options.maxSendBufferBytes ?? DEFAULT_MAX_SEND_BUFFER_BYTES,
      handshakeTimeoutMs: core.settings.handshakeTimeoutMs,
      keepAliveMs: web.keepAliveMs,
      logger,
    });
    this.webResult = await this.web.listen();
    this.webFiles = files;
  }

  private logWeb(web: WebPortOptions): void {
    const { options, logger } = this;
    const scheme = options.tls ? 'https' : 'http';
    const port = this.webResult!.port;
    logger.info(
      `Web editor on port ${port}: ${scheme}://localhost:${port}/${DEFAULT_DOCUMENT}; WebSocket for Yjs clients at ${scheme === 'https' ? 'wss' : 'ws'}://HOST:${port}/NAME, from ${describeOriginPolicy(web.origins)}`,
    );
    if (!this.webFiles)
      logger.warn(
        `The web editor is not built (no index.html in ${web.webRoot ?? 'its directory'}: npm run build); its pages answer 503, WebSockets work`,
      );
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    if (!this.core || this.closing) {
      socket.destroy();
      return;
    }
    const maxSendBufferBytes = this.options.maxSendBufferBytes ?? DEFAULT_MAX_SEND_BUFFER_BYTES;
    const transport: TcpTransport = new TcpTransport(socket, {
      maxSendBufferBytes,
      logger: this.logger,
      textAfterMs: this.options.textAfterMs ?? TEXT_AFTER_SILENCE_MS,
      webPort: this.options.webPort ?? this.webResult?.port ?? DEFAULT_WEB_PORT,
      onText: (first, replacing) => {
        const text = new TcpTextTransport(
          socket,
          { maxSendBufferBytes, logger: this.logger },
          transport.remoteAddress,
          transport.remoteLabel,
        );
        text.attach(this.collab.connectText(text, { replacing }), first);
      },
    });
    transport.attach(this.core.connect(transport));
  }
}

/** The Redis storage, its module loaded now (see start). */
async function openRedisStorage(options: NonNullable<CollabServerOptions['redis']> & { files: StoreOptions; logger: Logger }) {
  const { RedisStorage } = await import('@collab/redis-storage');
  const { logger, ...rest } = options;
  return RedisStorage.open({ ...rest, warn: (message) => logger.warn(message), info: (message) => logger.info(message) });
}
