// Test helpers for the web port: a CollabServer in this process with its web port on 0, the
// standard y-websocket provider (in Node, over `ws`), raw `ws` clients, and raw sockets that
// speak the upgrade by hand for frames no WebSocket library would send.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { CollabServerOptions, WebPortOptions } from '../src/collab-server';
import { SAME_ORIGIN } from '../src/web/origin-policy';
import { startServer, type TestServer } from './harness';

const cleanups: Array<() => Promise<void> | void> = [];

/** Runs every cleanup registered here; call from afterEach (before the harness's cleanup). */
export async function wsCleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

export interface WebTestServer extends TestServer {
  webPort: number;
  /** A web root with a stand-in page, for serving tests. */
  webRoot: string;
}

/** A CollabServer with its web port on a free port, serving a stand-in web editor. */
export async function startWebServer(
  overrides: Partial<CollabServerOptions> = {},
  web: Partial<WebPortOptions> = {},
): Promise<WebTestServer> {
  const webRoot = mkdtempSync(join(tmpdir(), 'collab-web-root-'));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>stand-in editor</title>');
  writeFileSync(join(webRoot, 'editor.js'), 'console.log("stand-in")');
  cleanups.push(() => rmSync(webRoot, { recursive: true, force: true }));
  const started = await startServer({ web: { port: 0, origins: SAME_ORIGIN, webRoot, ...web }, ...overrides });
  return { ...started, webPort: started.server.webAddress!.port, webRoot };
}

/** How a WebSocket ended: its close code and reason. */
export interface Closed {
  code: number;
  reason: string;
}

/** A raw `ws` client: binary messages in `messages`, `closed` resolves with the close code, `refused` with an HTTP status. */
export function rawWs(url: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
  const messages: Buffer[] = [];
  ws.on('message', (data: Buffer) => messages.push(data));
  ws.on('error', () => undefined);
  const closed = new Promise<Closed>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const terminate = () => {
    try {
      ws.terminate();
    } catch {
      // closed before it opened: nothing to end
    }
  };
  // With this listener ws leaves the refused request to us: read the status, then drop it.
  const refused = new Promise<number>((resolve) =>
    ws.on('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      req.destroy();
    }),
  );
  const opened = once(ws, 'open').then(
    () => true,
    () => false,
  );
  cleanups.push(terminate);
  return { ws, messages, closed, refused, opened };
}

/** The standard y-websocket provider on `doc`, in Node over `ws`. */
export function provider(
  webPort: number,
  document: string,
  doc = new Y.Doc(),
  options: { host?: string; params?: Record<string, string>; name?: string } = {},
): WebsocketProvider {
  const host = options.host ?? '127.0.0.1';
  const p = new WebsocketProvider(`ws://${host.includes(':') ? `[${host}]` : host}:${webPort}`, document, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof WebSocket,
    disableBc: true,
    params: options.params ?? {},
  } as unknown as ConstructorParameters<typeof WebsocketProvider>[3]);
  if (options.name) p.awareness.setLocalStateField('user', { name: options.name, color: '#61afef' });
  cleanups.push(() => {
    p.destroy();
    p.awareness.destroy();
  });
  return p;
}

/** Resolves once the provider has synced with the server. */
export function synced(p: WebsocketProvider): Promise<void> {
  return p.synced ? Promise.resolve() : new Promise((resolve) => p.once('sync', (s: boolean) => s && resolve()));
}

/**
 * A TCP socket that has done a WebSocket upgrade by hand; `write` sends raw bytes (frames no
 * library would send), `closeCode` resolves with the code of the server's close frame (0 if none came).
 */
export async function rawUpgrade(webPort: number, path = '/temp') {
  const socket: Socket = connect({ host: '127.0.0.1', port: webPort });
  await once(socket, 'connect');
  socket.on('error', () => undefined);
  cleanups.push(() => {
    socket.destroy();
  });
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${webPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  const ended = once(socket, 'close');
  const head = async () => {
    while (received.indexOf('\r\n\r\n') < 0) await new Promise((r) => setTimeout(r, 5));
    return received.subarray(0, received.indexOf('\r\n\r\n')).toString();
  };
  const status = await head();
  /** The server's frames after the upgrade's head. */
  const frames = () => received.subarray(received.indexOf('\r\n\r\n') + 4);
  return {
    socket,
    status,
    write: (bytes: Buffer | number[]) => socket.write(Buffer.from(bytes)),
    /** The code of the first close frame the server sent (0 when it closed without one). */
    closeCode: async (): Promise<number> => {
      await ended;
      let rest = frames();
      while (rest.length >= 2) {
        const opcode = rest[0]! & 0x0f;
        let length = rest[1]! & 0x7f;
        let offset = 2;
        if (length === 126) {
          length = rest.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          length = Number(rest.readBigUInt64BE(2));
          offset = 10;
        }
        if (opcode === 0x8) return length >= 2 ? rest.readUInt16BE(offset) : 1005;
        rest = rest.subarray(offset + length);
      }
      return 0;
    },
  };
}

/** A masked client frame (RFC 6455 5.2) with the given first byte (FIN, RSV, opcode) and payload. */
export function clientFrame(first: number, payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  const header =
    payload.length < 126
      ? Buffer.from([first, 0x80 | payload.length])
      : Buffer.concat([Buffer.from([first, 0x80 | 126]), Buffer.from([payload.length >> 8, payload.length & 0xff])]);
  return Buffer.concat([header, mask, masked]);
}
