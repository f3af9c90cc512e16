import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  connectHappyEyeballs,
  connectTls,
  describeSystemError,
  formatEndpoint,
  parseHostPort,
  type Family,
  type TlsClientOptions,
} from '@collab/address';
import { ByteQueue } from './byte-queue';
import { withPortHint } from './port-hint';

/** An open echo connection: the socket, who answered, and the bytes received so far. */
export interface EchoConnection {
  socket: Socket;
  /** The server as `127.0.0.1:8081` or `[::1]:8081`. */
  endpoint: string;
  family: Family;
  /** The TLS version in use ('TLSv1.3'), or undefined over plain TCP. */
  tlsProtocol?: string;
  replies: ByteQueue;
  /**
   * Aborted once the server ends or breaks the connection, with the ConnectionClosedError as
   * its reason: every mode stops waiting on it, so a lost server is one sentence, never an
   * unhandled socket error. (A signal, not a promise: racing a long-pending promise on every
   * write would keep a reaction per write until the end of the run.)
   */
  lost: AbortSignal;
  /** Why the connection is gone, once it is; undefined while it works. */
  readonly failure: ConnectionClosedError | undefined;
  /** Ends the connection; idempotent. */
  close(): void;
}

/** How to reach the server. */
export interface ConnectSettings {
  /** What the user typed: a name or address, optionally with a port (`[::1]:8081`). */
  target: string;
  defaultPort: number;
  family: 0 | 4 | 6;
  timeoutMs: number;
  /** Connect with TLS, verifying the server's certificate. */
  tls?: TlsClientOptions;
  /** Aborting gives up connecting (Ctrl-C in interactive mode). */
  signal?: AbortSignal;
}

/** Resolves and connects (every address, IPv6 and IPv4 raced), and starts queueing replies. */
export async function openConnection(settings: ConnectSettings): Promise<EchoConnection> {
  const { host, port } = parseHostPort(settings.target, settings.defaultPort);
  const target = { host, port, family: settings.family, timeoutMs: settings.timeoutMs, signal: settings.signal };
  let connected;
  try {
    connected = settings.tls ? await connectTls({ ...target, tls: settings.tls }) : await connectHappyEyeballs(target);
  } catch (error) {
    throw withPortHint(error, settings.target);
  }
  const { socket, address, family } = connected;
  const replies = new ByteQueue();
  let failure: ConnectionClosedError | undefined;
  let closedByUs = false;
  const lost = new AbortController();
  const fail = (error: ConnectionClosedError) => {
    // The first cause wins: a reset after the server's FIN is still "closed".
    failure ??= error;
    replies.fail(failure);
    lost.abort(failure);
  };
  socket.on('end', () => fail(new ConnectionClosedError()));
  socket.on('error', (error: NodeJS.ErrnoException) =>
    fail(new ConnectionClosedError(`the connection failed: ${describeSystemError(error)}`, { cause: error })),
  );
  socket.on('close', () => {
    if (!closedByUs) fail(new ConnectionClosedError());
  });
  socket.on('data', (chunk: Buffer) => replies.push(chunk));
  return {
    socket,
    endpoint: formatEndpoint(address, port),
    family,
    tlsProtocol: settings.tls ? ((socket as TLSSocket).getProtocol() ?? undefined) : undefined,
    replies,
    lost: lost.signal,
    get failure() {
      return failure;
    },
    close: () => {
      closedByUs = true;
      // A read still waiting (given up on after Ctrl-C) ends now, and its timer with it.
      replies.fail(new ConnectionClosedError('the connection was closed'));
      if (!socket.destroyed) socket.destroy();
    },
  };
}

/**
 * The server went away while replies were expected: it closed the connection, or (with a
 * `cause`, the socket's error) the connection broke. Replies were lost, so exit code 1.
 */
export class ConnectionClosedError extends Error {
  readonly code = 'COLLAB_ERR_CONNECTION_CLOSED';
  readonly exitCode = 1;
  constructor(message = 'the server closed the connection', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionClosedError';
  }
}

/** Waits for exactly `bytes` bytes, or rejects after timeoutMs (the bytes stay queued). */
export async function readReply(connection: EchoConnection, bytes: number, timeoutMs: number): Promise<Buffer | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      connection.replies.cancel();
      resolve(undefined);
    }, timeoutMs);
  });
  try {
    return await Promise.race([connection.replies.read(bytes), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
