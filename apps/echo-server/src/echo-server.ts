import type { Server, Socket } from 'node:net';
import { createTcpServer, familyOf, formatEndpoint, listenDualStack, normalizeAddress, type ListenResult } from '@collab/address';
import { shorten, type Logger } from '@collab/logging';
import { AddressCounts } from './address-counts';

/** Settings of an EchoServer; limits carry their units in the name. */
export interface EchoServerOptions {
  host?: string;
  port: number;
  /** Connections served at once; one more is logged and closed. */
  maxConnections: number;
  /**
   * Connections one remote address may hold at once, so one client cannot take every slot;
   * one more is logged and closed. 0: no limit. Default DEFAULT_MAX_CONNECTIONS_PER_ADDRESS.
   */
  maxConnectionsPerAddress?: number;
  /** A connection with no traffic for this long is closed; 0 turns the timeout off. */
  idleTimeoutMs: number;
  logger: Logger;
  /** PEM certificate and key: the server speaks TLS (summary is logged at start). */
  tls?: { cert: Buffer | string; key: Buffer | string; summary?: string };
  /** TLS only: a client that has not finished its handshake in this long is dropped; default 10 s. */
  handshakeTimeoutMs?: number;
  /** Longest message text shown in a `Received:` log line. */
  maxLoggedChars?: number;
  /**
   * `Received:` lines per connection per second; chunks past it are counted and summed up
   * in one line, so a bulk transfer cannot flood the log or slow the echo down.
   */
  maxReceivedLinesPerSecond?: number;
}

/** The default of maxConnectionsPerAddress: a sixth of the default 100 slots. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 16;

/** Each open connection as the logs show it, and its `Received:` line budget. */
interface Peer {
  address: string;
  port: number;
  label: string;
  windowStart: number;
  linesInWindow: number;
  quietChunks: number;
  quietBytes: number;
}

/**
 * RFC 862 echo over TCP: every byte read is written back unchanged. Backpressure as
 * `pipe` does it: when the socket's write buffer is full, reading stops until it drains,
 * so a client that sends but never reads holds at most one read chunk plus the write
 * high-water mark in this process (the rest waits in the kernel's socket buffers).
 */
export class EchoServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly perAddress = new AddressCounts();
  private readonly maxConnectionsPerAddress: number;
  private closing: Promise<void> | undefined;
  private listenResult: ListenResult | undefined;

  constructor(private readonly options: EchoServerOptions) {
    if (!Number.isInteger(options.maxConnections) || options.maxConnections < 1) {
      throw new RangeError('maxConnections must be a whole number of at least 1');
    }
    this.maxConnectionsPerAddress = options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    if (!Number.isInteger(this.maxConnectionsPerAddress) || this.maxConnectionsPerAddress < 0) {
      throw new RangeError('maxConnectionsPerAddress must be a whole number, 0 (no limit) or more');
    }
    if (!Number.isFinite(options.idleTimeoutMs) || options.idleTimeoutMs < 0) {
      throw new RangeError('idleTimeoutMs must be a number of milliseconds, 0 or more');
    }
    this.server = createTcpServer(
      {
        tls: options.tls,
        noDelay: true,
        handshakeTimeoutMs: options.handshakeTimeoutMs,
        // A failed handshake never counts against maxConnections; probes and resets only at debug.
        onHandshakeFailure: ({ remote, reason, quiet }) =>
          options.logger[quiet ? 'debug' : 'warn'](`TLS handshake failed with ${remote}: ${reason}`),
      },
      (socket) => this.accept(socket),
    );
  }

  /** Listens (dual stack on '::' by default) and logs the assignment's start line. */
  async start(): Promise<ListenResult> {
    const result = await listenDualStack(this.server, { host: this.options.host ?? '::', port: this.options.port });
    // Only now: a failed listen is start()'s rejection, not a second log line. Past listen(),
    // errors on the listening socket are rare (EMFILE on accept); keep serving.
    this.server.on('error', (error) => this.options.logger.error(`Server error: ${error.message}`));
    this.listenResult = result;
    const shown = result.dualStack ? `[::]:${result.port}` : formatEndpoint(result.address, result.port);
    this.options.logger.info(`Server is listening on ${shown} (IPv${result.family})`);
    if (this.options.tls) this.options.logger.info(`TLS is on: ${this.options.tls.summary ?? 'certificate loaded'}`);
    return result;
  }

  /** The address actually listened on (the port is real even when 0 was asked for). */
  get address(): ListenResult | undefined {
    return this.listenResult;
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress ?? '?');
    const peer: Peer = {
      address,
      port: socket.remotePort ?? 0,
      label: `[${address}]:${socket.remotePort ?? 0}`,
      windowStart: 0,
      linesInWindow: 0,
      quietChunks: 0,
      quietBytes: 0,
    };
    const { logger } = this.options;
    if (this.closing) {
      socket.destroy();
      return;
    }
    const perAddressLimit = this.maxConnectionsPerAddress;
    if (perAddressLimit > 0 && this.perAddress.get(address) >= perAddressLimit) {
      logger.warn(`Too many connections from ${address} (limit ${perAddressLimit}). Rejected connection from ${peer.label}`);
      refuse(socket);
      return;
    }
    if (this.sockets.size >= this.options.maxConnections) {
      logger.warn(`Connection limit (${this.options.maxConnections}) reached. Rejected connection from ${peer.label}`);
      refuse(socket);
      return;
    }
    this.sockets.add(socket);
    const countedOut = this.perAddress.add(address);
    logger.info(`Connection from [${peer.address}]: port [${peer.port}] (IPv${familyOf(peer.address) ?? 6})`);

    if (this.options.idleTimeoutMs > 0) {
      socket.setTimeout(this.options.idleTimeoutMs, () => {
        logger.info(`Idle timeout: closing connection for ${peer.label}`);
        socket.end();
        socket.setTimeout(1000, () => socket.destroy());
      });
    }
    socket.on('data', (chunk: Buffer) => this.echo(socket, peer, chunk));
    // The client's half-close ends our side too, once every echoed byte is written.
    socket.on('end', () => socket.end());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      logger.debug(`Socket error for ${peer.label}: ${error.code ?? error.message}`);
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      countedOut();
      this.flushQuietChunks(peer);
      logger.info(`Connection closed for ${peer.label}`);
    });
  }

  private echo(socket: Socket, peer: Peer, chunk: Buffer): void {
    if (!socket.write(chunk)) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
    if (!this.options.logger.isEnabled('info')) return;
    const now = Date.now();
    if (now - peer.windowStart >= 1000) {
      this.flushQuietChunks(peer);
      peer.windowStart = now;
      peer.linesInWindow = 0;
    }
    if (peer.linesInWindow < (this.options.maxReceivedLinesPerSecond ?? 20)) {
      peer.linesInWindow++;
      this.options.logger.info(`Received: ${describeChunk(chunk, this.options.maxLoggedChars ?? 80)} from ${peer.label}`);
    } else {
      peer.quietChunks++;
      peer.quietBytes += chunk.length;
    }
  }

  private flushQuietChunks(peer: Peer): void {
    if (peer.quietChunks === 0) return;
    this.options.logger.info(
      `Received: ${peer.quietChunks} more chunks (${peer.quietBytes} bytes) from ${peer.label}, not shown one by one`,
    );
    peer.quietChunks = 0;
    peer.quietBytes = 0;
  }

  /**
   * Stops accepting, half-closes every connection so clients see their last echoes,
   * and destroys what is still open after graceMs. Idempotent.
   */
  close(graceMs = 2000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const serverClosed = new Promise<void>((done) => this.server.close(() => done()));
      for (const socket of this.sockets) socket.end();
      const timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, graceMs);
      timer.unref();
      void serverClosed.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.closing;
  }
}

// Nothing is written: in the echo protocol any byte would be taken for an echo.
function refuse(socket: Socket): void {
  socket.on('error', () => undefined);
  socket.end();
  socket.setTimeout(1000, () => socket.destroy());
}

/** The text of a received chunk for the log: shortened text, or its size when it is not text. */
export function describeChunk(chunk: Buffer, maxChars: number): string {
  const limit = 4 * maxChars;
  let text = chunk.toString('utf8', 0, Math.min(chunk.length, limit));
  // Cutting may split a multi-byte character; that is not a sign of binary data.
  if (chunk.length > limit) text = text.replace(/\ufffd+$/, '');
  // Control characters other than tab/newline, or invalid UTF-8 (U+FFFD): binary data.
  if (/[\x00-\x08\x0b-\x1f\x7f\ufffd]/.test(text.replace(/\r\n/g, '\n'))) return `(${chunk.length} bytes of binary data)`;
  return shorten(text.replace(/\r?\n$/, ''), maxChars);
}
