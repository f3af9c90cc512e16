// The web port of collab-server: one HTTP (or HTTPS) server, dual-stack like the TCP port, that
// serves the web editor at GET /NAME and y-websocket's protocol at ws(s)://HOST:PORT/NAME. Every
// WebSocket becomes a WsTransport on the same core as the TCP clients: the same documents, limits
// and logs. Before a WebSocket is accepted: its Origin is checked (403), then its token (401, or
// 429 while its address must wait after wrong ones), so a refused client never opens a document.

import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createTcpServer, formatEndpoint, listenDualStack, normalizeAddress, type ListenResult } from '@collab/address';
import { DEFAULT_DOCUMENT, ErrorCode, validateDocumentName } from '@collab/collab-protocol';
import type { CollabCore, TokenCheck } from '@collab/collab-core';
import type { Logger } from '@collab/logging';
import { WebSocketServer, type WebSocket } from 'ws';
import { closeCodeFor, closeReason } from './close-codes';
import { originAllowed, type OriginPolicy } from './origin-policy';
import { tokenPage } from './token-page';
import type { WebFiles } from './web-files';
import { WsTransport } from './ws-transport';

/** Settings of a WebListener. */
export interface WebListenerOptions {
  host: string;
  port: number;
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Which pages may open a WebSocket here. */
  origins: OriginPolicy;
  /** The built web editor; undefined when it is not built (pages answer 503, WebSockets work). */
  files: WebFiles | undefined;
  maxSendBufferBytes: number;
  /** TLS handshake, and the HTTP request head, must be done within this long. */
  handshakeTimeoutMs: number;
  /** Ping interval and longest silence towards a WebSocket client (WsTransportOptions.keepAliveMs). */
  keepAliveMs?: number;
  logger: Logger;
}

/** Prefix of the editor's assets: a slash makes it never a document name. */
const ASSETS = '/assets/';
const DEFAULT_KEEPALIVE_MS = 15_000;

/** Headers of every answer: nothing is cached without asking, sniffed, framed, or told where the user came from (tokens ride in URLs). */
const COMMON_HEADERS = {
  'Cache-Control': 'no-cache',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};
/** The page loads only its own scripts and styles and connects only back here; CodeMirror sets style attributes. */
const PAGE_HEADERS = {
  ...COMMON_HEADERS,
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

/** The document a path names: `/` is `temp`; anything else must be `/NAME` with a valid name. */
function documentOf(pathname: string): { name: string } | { error: string } {
  if (pathname === '/') return { name: DEFAULT_DOCUMENT };
  let name: string;
  try {
    name = decodeURIComponent(pathname.slice(1));
  } catch {
    return { error: 'The path is not valid percent-encoding.' };
  }
  try {
    return { name: validateDocumentName(name) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The web editor and the WebSocket endpoint, on one port. */
export class WebListener {
  private readonly tcp: Server;
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  /** Connections not upgraded to WebSocket (HTTP keep-alive): closed on close(). */
  private readonly httpSockets = new Set<Socket>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly core: CollabCore,
    private readonly options: WebListenerOptions,
  ) {
    const { logger } = options;
    this.http = createHttpServer({ headersTimeout: options.handshakeTimeoutMs, requestTimeout: options.handshakeTimeoutMs });
    this.http.on('request', (req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
    this.http.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      const remote = describeRemote(socket as Socket);
      if (error.code === 'ECONNRESET' || !socket.writable) {
        logger.debug(`HTTP connection from ${remote} ended: ${error.code ?? error.message}`);
        socket.destroy();
        return;
      }
      logger.warn(`Bad HTTP request from ${remote}: ${error.message}`);
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      // No compression: WsTransport writes frames it made once for every client past ws's sender.
      perMessageDeflate: false,
      // ws refuses a larger message (close 1009) as soon as its header says so.
      maxPayload: core.settings.maxFrameBytes,
    });
    this.wss.on('wsClientError', (error: Error, socket: Duplex, req: IncomingMessage) => {
      logger.warn(`Refused a WebSocket upgrade from ${describeRemote(socket as Socket)} for ${pathOf(req)}: ${error.message}`);
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    this.tcp = createTcpServer(
      {
        tls: options.tls,
        noDelay: true,
        handshakeTimeoutMs: options.handshakeTimeoutMs,
        onHandshakeFailure: ({ remote, reason, quiet }) =>
          logger[quiet ? 'debug' : 'warn'](`TLS handshake failed with ${remote}: ${reason}`),
      },
      (socket) => this.onConnection(socket),
    );
  }

  /** Listens (dual stack on `::`); rejects with one sentence when it cannot. */
  async listen(): Promise<ListenResult> {
    const result = await listenDualStack(this.tcp, { host: this.options.host, port: this.options.port });
    // Only now: a failed listen is this rejection (one line at start), not a second log line.
    this.tcp.on('error', (error) => this.options.logger.error(`Server error: ${error.message}`));
    return result;
  }

  /**
   * Stops accepting and ends the HTTP connections; WebSocket clients are the core's to close
   * (it sends them 1001 when it closes). Resolves once every connection is gone. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.tcp.close(() => resolve());
      for (const socket of this.httpSockets) socket.destroy();
    });
    return this.closing;
  }

  private onConnection(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.httpSockets.add(socket);
    socket.once('close', () => this.httpSockets.delete(socket));
    this.http.emit('connection', socket);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const { logger, files } = this.options;
    const remote = describeRemote(req.socket);
    const url = new URL(req.url ?? '/', 'http://host');
    const answer = (status: number, headers: Record<string, string | number>, body: string | Buffer) => {
      res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      logger.debug(`${req.method} ${url.pathname} from ${remote}: ${status}`);
    };
    const plain = (status: number, text: string, extra: Record<string, string> = {}) =>
      answer(status, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra }, `${text}\n`);

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      logger.warn(`Refused ${String(req.method).slice(0, 16)} ${url.pathname.slice(0, 100)} from ${remote}: only GET and HEAD are served`);
      return plain(405, 'Only GET and HEAD are served here.', { Allow: 'GET, HEAD' });
    }
    if (url.pathname.startsWith(ASSETS)) {
      const file = files?.asset(url.pathname.slice(ASSETS.length));
      if (!file) {
        logger.warn(`No such file: GET ${url.pathname.slice(0, 100)} from ${remote} (404)`);
        return plain(404, 'No such file.');
      }
      return answer(200, { ...COMMON_HEADERS, 'Content-Type': file.contentType }, file.body);
    }
    const target = documentOf(url.pathname);
    if ('error' in target) {
      logger.warn(`No such page: GET ${url.pathname.slice(0, 100)} from ${remote} (404): ${target.error}`);
      return plain(
        404,
        `Not a document: ${target.error} Open /NAME, where NAME is 1 to 64 of A-Z a-z 0-9 . _ - (not starting with a dot).`,
      );
    }
    if (!files) return plain(503, 'The web editor is not built on this server (npm run build); the WebSocket endpoint works.');
    const token = this.checkToken(req.socket, url);
    if (!token.ok) {
      const status = token.reason === 'wait' ? 429 : 401;
      const extra: Record<string, string | number> = token.waitMs ? { 'Retry-After': Math.ceil(token.waitMs / 1000) } : {};
      return answer(status, { ...PAGE_HEADERS, 'Content-Type': 'text/html; charset=utf-8', ...extra }, tokenPage(target.name, token));
    }
    return answer(200, { ...PAGE_HEADERS, 'Content-Type': files.page.contentType }, files.page.body);
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const { logger, origins, tls } = this.options;
    const remote = describeRemote(socket);
    const refuse = (status: number, reason: string, text: string, extra = '') => {
      logger.warn(`Refused a WebSocket from ${remote} for ${pathOf(req)}: ${text} (HTTP ${status})`);
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n${extra}` +
          `Content-Length: ${Buffer.byteLength(text) + 1}\r\n\r\n${text}\n`,
      );
    };
    if (this.closing) return void socket.destroy();
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return refuse(400, 'Bad Request', 'Only WebSocket upgrades are served.');
    if (!originAllowed(origins, req.headers.origin, req.headers.host, tls !== undefined)) {
      return refuse(
        403,
        'Forbidden',
        `The page's origin ${JSON.stringify(String(req.headers.origin).slice(0, 100))} is not allowed (--allow-origin).`,
      );
    }
    const url = new URL(req.url ?? '/', 'http://host');
    const token = this.checkToken(socket, url);
    if (!token.ok) {
      if (token.reason === 'wait')
        return refuse(429, 'Too Many Requests', token.message, `Retry-After: ${Math.ceil((token.waitMs ?? 0) / 1000)}\r\n`);
      return refuse(401, 'Unauthorized', token.message);
    }
    // From here on the socket is the WebSocket's; the core closes it.
    this.httpSockets.delete(socket);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, url));
  }

  private accept(ws: WebSocket, socket: Socket, url: URL): void {
    const { logger } = this.options;
    socket.setNoDelay(true);
    const remoteAddress = normalizeAddress(socket.remoteAddress ?? '?');
    const remoteLabel = formatEndpoint(remoteAddress, socket.remotePort ?? 0);
    const target = url.pathname === '/' ? { error: 'The path names no document: connect to /NAME.' } : documentOf(url.pathname);
    if ('error' in target) {
      const code = closeCodeFor(ErrorCode.BadDocumentName);
      logger.warn(`Refused a WebSocket from ${remoteLabel} for ${url.pathname.slice(0, 100)}: ${target.error} (close ${code})`);
      ws.on('error', () => undefined);
      ws.close(code, closeReason(target.error));
      setTimeout(() => ws.terminate(), 2000).unref();
      return;
    }
    const transport = new WsTransport(ws, {
      remoteAddress,
      remoteLabel,
      socket,
      maxSendBufferBytes: this.options.maxSendBufferBytes,
      keepAliveMs: this.options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS,
      logger,
    });
    if (this.closing) {
      transport.close({ code: ErrorCode.ShuttingDown, message: 'The server is shutting down.' });
      transport.attach(undefined);
      return;
    }
    const clientName = url.searchParams.get('name') ?? '';
    const acks = url.searchParams.get('ack') === '1';
    transport.attach(this.core.connect(transport, { join: { document: target.name, clientName }, acks }));
  }

  private checkToken(socket: Socket, url: URL): TokenCheck {
    const remoteAddress = normalizeAddress(socket.remoteAddress ?? '?');
    return this.core.checkToken(
      { remoteAddress, remoteLabel: formatEndpoint(remoteAddress, socket.remotePort ?? 0) },
      url.searchParams.get('token') ?? undefined,
    );
  }
}

function describeRemote(socket: Socket): string {
  return formatEndpoint(normalizeAddress(socket.remoteAddress ?? '?'), socket.remotePort ?? 0);
}

/** The request's path for a log line, without its query (which may hold the token). */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!.slice(0, 100);
}
