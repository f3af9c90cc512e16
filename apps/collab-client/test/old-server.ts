// A collab server from before FLUSH (PROTOCOL.md version 1 without types 106/107), for tests:
// it welcomes, syncs, ACKs every change, and answers FLUSH as any unknown type, with ERROR 3
// and a close. Small on purpose; it listens on 127.0.0.1 only and keeps the document in memory.
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import * as Y from 'yjs';
import { readFrames } from '@collab/framing';
import {
  decodeMessage,
  encodeMessageFrame,
  ErrorCode,
  makeErrorMessage,
  makeWelcome,
  MessageType,
  SyncType,
  type Message,
} from '@collab/collab-protocol';

const MAX_FRAME = 1 << 20;

/** A running old server: its port, the document it holds, and close(). */
export interface OldServer {
  port: number;
  doc: Y.Doc;
  close(): Promise<void>;
}

/**
 * Starts an old server on a free port of 127.0.0.1. With `flush: 'ignore'` it says nothing to
 * FLUSH at all, as a server whose file write hangs would look.
 */
export async function startOldServer(options: { flush?: 'error' | 'ignore' } = {}): Promise<OldServer> {
  const doc = new Y.Doc();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let changes = 0;
    const send = (m: Message) => socket.write(encodeMessageFrame(m, MAX_FRAME));
    readFrames(
      socket,
      (payload) => {
        const m = decodeMessage(payload);
        switch (m.type) {
          case MessageType.Hello:
            send(makeWelcome({ server: 'old-server 0.0.1', document: m.document, maxFrameBytes: MAX_FRAME }));
            return send({ type: MessageType.Sync, syncType: SyncType.Step1, data: Y.encodeStateVector(doc) });
          case MessageType.Sync:
            if (m.syncType === SyncType.Step1) {
              return send({ type: MessageType.Sync, syncType: SyncType.Step2, data: Y.encodeStateAsUpdate(doc, m.data) });
            }
            Y.applyUpdate(doc, m.data);
            return send({ type: MessageType.Ack, count: ++changes });
          case MessageType.Ping:
            return send({ type: MessageType.Pong });
          case MessageType.Awareness:
          case MessageType.Pong:
            return;
          default:
            if (m.type === MessageType.Flush && options.flush === 'ignore') return;
            // FLUSH included: to this server it is a type like any unknown one.
            send(makeErrorMessage(ErrorCode.ProtocolError, `Unknown message type ${m.type}.`));
            socket.end();
        }
      },
      () => socket.destroy(),
      { maxFrameBytes: MAX_FRAME },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    doc,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
