// Test helpers: a CollabServer in this process on port 0 with a temporary data directory,
// clients that speak the protocol through CollabSession, and raw sockets for bad input.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { CollabSession, decodeMessage, encodeMessageFrame, makeHello, type Message } from '@collab/collab-protocol';
import { FrameDecoder } from '@collab/framing';
import { createLogger } from '@collab/logging';
import { CollabServer, type CollabServerOptions } from '../src/collab-server';

export interface TestServer {
  server: CollabServer;
  port: number;
  dataDir: string;
  lines: string[];
}

export interface TestClient {
  doc: Y.Doc;
  awareness: Awareness;
  session: CollabSession;
  text(): string;
  close(): void;
}

const cleanups: Array<() => Promise<void> | void> = [];

/** Runs every cleanup registered by the helpers; call from afterEach. */
export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

/** Starts a server on port 0 in a fresh data directory (or the one given). */
export async function startServer(overrides: Partial<CollabServerOptions> = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'collab-server-test-'));
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
  const server = new CollabServer({
    host: '::',
    port: 0,
    dataDir,
    maxClients: 10,
    idleTimeoutMs: 0,
    serverName: 'collab-server test',
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'debug', stream }),
    ...overrides,
  });
  const { port } = await server.start();
  cleanups.push(async () => {
    await server.close();
    if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return { server, port, dataDir, lines };
}

/** Connects a protocol client and waits until it is synced. */
export async function connectClient(
  port: number,
  options: { host?: string; document?: string; name?: string; token?: string; doc?: Y.Doc; awareness?: Awareness; wait?: boolean } = {},
): Promise<TestClient> {
  const socket = connect({ host: options.host ?? '127.0.0.1', port });
  await once(socket, 'connect');
  const doc = options.doc ?? new Y.Doc();
  const awareness = options.awareness ?? new Awareness(doc);
  const session = new CollabSession(socket, {
    document: options.document ?? 'temp',
    clientName: options.name ?? 'tester',
    token: options.token,
    doc,
    awareness,
  });
  const client: TestClient = {
    doc,
    awareness,
    session,
    text: () => doc.getText('content').toString(),
    close: () => session.close(),
  };
  cleanups.push(() => {
    session.close();
    if (!options.awareness) awareness.destroy();
  });
  if (options.wait !== false) await session.whenSynced();
  return client;
}

/**
 * A raw socket that collects decoded messages, for malformed input. The server may answer in
 * plain text (a connection that stays silent, or sends text first, is a plain-text client):
 * `received` keeps every byte, and `messages` what could be read as frames.
 */
export async function rawClient(port: number, host = '127.0.0.1') {
  const socket: Socket = connect({ host, port });
  await once(socket, 'connect');
  const decoder = new FrameDecoder({ maxFrameBytes: 1 << 30 });
  const messages: Message[] = [];
  const received: Buffer[] = [];
  let framed = true;
  socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    if (!framed) return;
    try {
      for (const payload of decoder.write(chunk)) messages.push(decodeMessage(payload));
    } catch {
      framed = false;
    }
  });
  socket.on('error', () => undefined);
  const closed = once(socket, 'close');
  cleanups.push(() => {
    socket.destroy();
  });
  /** The HELLO frame, minus the bytes already sent with startFrame(). */
  let helloSent = 0;
  const helloFrame = (document: string, token: string) => encodeMessageFrame(makeHello({ document, clientName: 'raw', token }));
  return {
    socket,
    messages,
    closed,
    /** Everything the server sent, as text. */
    text: () => Buffer.concat(received).toString('utf8'),
    send: (m: Message) => socket.write(encodeMessageFrame(m)),
    hello: (document = 'temp', token = '') => socket.write(helloFrame(document, token).subarray(helloSent)),
    /** Sends the first byte of a HELLO frame (0x00): the server now knows a framed client is speaking, and waits for the rest. */
    startFrame: () => {
      helloSent = 1;
      return socket.write(Buffer.from([0]));
    },
  };
}

/** Polls until check() is true, failing after timeoutMs with the message given. */
export async function waitFor(check: () => boolean, what = 'condition', timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
