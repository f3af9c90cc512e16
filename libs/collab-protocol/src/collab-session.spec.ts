// FLUSH / FLUSHED from the client's side, against a scripted server on a real socket: one that
// answers FLUSH, an old one that does not know it (ERROR 3), and one that drops the connection.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import * as Y from 'yjs';
import { readFrames } from '@collab/framing';
import { CollabSession } from './collab-session';
import { ReconnectingClient } from './reconnecting-client';
import { decodeMessage } from './message-decoder';
import { encodeMessageFrame } from './message-encoder';
import { makeErrorMessage } from './messages';
import { makeWelcome } from './handshake';
import { ErrorCode, MessageType, SyncType } from './message-type';
import type { Message } from './messages';

/** What the scripted server does with a FLUSH on the n-th connection (0-based). */
type FlushAnswer = 'flushed' | 'error-3' | 'drop';

interface Scripted {
  server: Server;
  port: number;
  flushes: number;
}

const servers: Server[] = [];
/** Both ends of every connection, destroyed after each test even when it failed half-way. */
const sockets: Socket[] = [];

/** A server that welcomes, syncs, ACKs every change and answers FLUSH as `answers[connection]` says. */
async function scriptedServer(answers: FlushAnswer[]): Promise<Scripted> {
  let connections = 0;
  const scripted = { flushes: 0 } as Scripted;
  const server = createServer((socket) => {
    sockets.push(socket);
    const answer = answers[Math.min(connections++, answers.length - 1)]!;
    let changes = 0;
    const send = (m: Message) => socket.write(encodeMessageFrame(m, 1 << 20));
    readFrames(
      socket,
      (payload) => {
        const m = decodeMessage(payload);
        if (m.type === MessageType.Hello) {
          send(makeWelcome({ server: 'scripted', document: m.document, maxFrameBytes: 1 << 20 }));
          send({ type: MessageType.Sync, syncType: SyncType.Step1, data: Y.encodeStateVector(new Y.Doc()) });
        } else if (m.type === MessageType.Sync && m.syncType === SyncType.Step1) {
          send({ type: MessageType.Sync, syncType: SyncType.Step2, data: Y.encodeStateAsUpdate(new Y.Doc()) });
        } else if (m.type === MessageType.Sync) {
          send({ type: MessageType.Ack, count: ++changes });
        } else if (m.type === MessageType.Flush) {
          scripted.flushes++;
          if (answer === 'flushed') send({ type: MessageType.Flushed });
          else if (answer === 'drop') socket.destroy();
          else {
            send(makeErrorMessage(ErrorCode.ProtocolError, 'FLUSH (type 106) is not a message a client sends.'));
            socket.end();
          }
        }
      },
      () => socket.destroy(),
      { maxFrameBytes: 1 << 20 },
    );
    socket.on('error', () => undefined);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  scripted.server = server;
  scripted.port = (server.address() as { port: number }).port;
  return scripted;
}

async function session(port: number): Promise<CollabSession> {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  await once(socket, 'connect');
  const s = new CollabSession(socket, { document: 'temp', clientName: 'test', doc: new Y.Doc() });
  await s.whenSynced();
  return s;
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('CollabSession.flush', () => {
  it('resolves when the server answers FLUSHED', async () => {
    const { port } = await scriptedServer(['flushed']);
    const s = await session(port);
    await expect(s.flush()).resolves.toBeUndefined();
    s.close();
  });

  it('answers several flushes in order', async () => {
    const scripted = await scriptedServer(['flushed']);
    const s = await session(scripted.port);
    await expect(Promise.all([s.flush(), s.flush(), s.flush()])).resolves.toHaveLength(3);
    expect(scripted.flushes).toBe(3);
    s.close();
  });

  it('rejects with the refusal (errorCode 3) when an old server does not know FLUSH', async () => {
    const { port } = await scriptedServer(['error-3']);
    const s = await session(port);
    await expect(s.flush()).rejects.toMatchObject({ code: 'COLLAB_ERR_REFUSED', errorCode: ErrorCode.ProtocolError });
  });

  it('rejects when the connection closes before FLUSHED, and at once after the end', async () => {
    const { port } = await scriptedServer(['drop']);
    const s = await session(port);
    await expect(s.flush()).rejects.toMatchObject({ code: 'COLLAB_ERR_CLOSED' });
    await expect(s.flush()).rejects.toMatchObject({ code: 'COLLAB_ERR_CLOSED' });
  });
});

describe('ReconnectingClient.flush', () => {
  const clientFor = (port: number, doc = new Y.Doc()) =>
    new ReconnectingClient({
      document: 'temp',
      clientName: 'test',
      doc,
      initialDelayMs: 10,
      connect: async () => {
        const socket = connect({ host: '127.0.0.1', port });
        sockets.push(socket);
        await once(socket, 'connect');
        return socket;
      },
    });

  it('asks again on the next connection when the first one is lost', async () => {
    const scripted = await scriptedServer(['drop', 'flushed']);
    const client = clientFor(scripted.port);
    await client.start();
    await expect(client.flush()).resolves.toBeUndefined();
    expect(scripted.flushes).toBe(2);
    client.stop();
  });

  it("passes an old server's ERROR 3 on instead of retrying", async () => {
    const scripted = await scriptedServer(['error-3']);
    const doc = new Y.Doc();
    const client = clientFor(scripted.port, doc);
    await client.start();
    doc.getText('content').insert(0, 'stored');
    await client.whenSaved();
    await expect(client.flush()).rejects.toMatchObject({ code: 'COLLAB_ERR_REFUSED', errorCode: ErrorCode.ProtocolError });
    expect(scripted.flushes).toBe(1);
    client.stop();
  });

  it('rejects once the client is stopped', async () => {
    const scripted = await scriptedServer(['drop']);
    const client = clientFor(scripted.port);
    await client.start();
    const flushed = client.flush();
    client.stop('closed by the test');
    await expect(flushed).rejects.toThrow();
  });
});
