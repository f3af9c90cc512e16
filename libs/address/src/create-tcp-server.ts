import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { describeSystemError } from './describe-system-error';
import { formatEndpoint } from './format-endpoint';
import { normalizeAddress } from './normalize-address';

/** A TLS handshake that failed: who, why, and whether it is mere noise (a probe, a client gone). */
export interface HandshakeFailure {
  /** The client as `127.0.0.1:51234` or `[::1]:51234`. */
  remote: string;
  /** e.g. 'ERR_SSL_WRONG_VERSION_NUMBER wrong version number' (a client not speaking TLS). */
  reason: string;
  /** True when the client just went away or stayed silent (port probes, timeouts): log it quietly. */
  quiet: boolean;
}

/** Options of createTcpServer; with `tls` the server is a tls.Server. */
export interface TcpServerOptions {
  /** PEM certificate (chain) and key; when absent the server speaks plain TCP. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** setNoDelay on every accepted socket. */
  noDelay?: boolean;
  /** TLS only: a handshake not done in this long is dropped (node's default is 120 s). */
  handshakeTimeoutMs?: number;
  /** TLS only: called for each failed handshake; the connection never reaches onConnection. */
  onHandshakeFailure?: (failure: HandshakeFailure) => void;
}

const QUIET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_TLS_HANDSHAKE_TIMEOUT']);

/**
 * A net.Server, or a tls.Server when credentials are given; either way onConnection gets a
 * ready socket (after the handshake for TLS), so the code above it is the same for both.
 */
export function createTcpServer(options: TcpServerOptions, onConnection: (socket: Socket) => void): Server {
  if (!options.tls) return createServer({ noDelay: options.noDelay }, onConnection);
  const server = createTlsServer(
    {
      cert: options.tls.cert,
      key: options.tls.key,
      noDelay: options.noDelay,
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    },
    onConnection,
  );
  // A client that left has no remote address any more: note it when the TCP connection arrives.
  const remotes = new WeakMap<Socket, string>();
  server.on('connection', (raw: Socket) => remotes.set(raw, describeRemote(raw)));
  // Without a listener node destroys the socket silently; a failed handshake is never a client.
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    // _parent is the TCP socket a server-side TLSSocket wraps (not in node's typings).
    const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
    const remote = (raw && remotes.get(raw)) ?? describeRemote(socket);
    options.onHandshakeFailure?.({ remote, reason: describeSystemError(error), quiet: QUIET_CODES.has(error.code ?? '') });
  });
  return server;
}

function describeRemote(socket: Socket): string {
  return formatEndpoint(normalizeAddress(socket.remoteAddress ?? '?'), socket.remotePort ?? 0);
}
