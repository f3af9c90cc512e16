// Bench clients for the collab bench: one for our collab-server (CollabSession over TCP) and one
// for the y-websocket server (a `ws` WebSocket speaking y-protocols sync), with the same shape, so
// the bench drives both with the same workload.
//
// Both are *cheap receivers* while they are measured: a relayed SYNC update (sync type 2) is not
// integrated into the client's Y.Doc but handed to `onRemoteUpdate` with its receive time (the
// bench reads the item ids out of it). Integrating every update in every client would cost
// (clients - 1) Y.applyUpdate calls per edit in the bench process, and with 100 clients on 2 cores
// the bench would measure itself instead of the server. Local edits still go out through the
// client's Y.Doc 'update' event, exactly as an editor's do; the initial sync (step 1 / step 2) is
// the real one.
import { Duplex } from 'node:stream';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import WebSocket from 'ws';
import { encodeFrame, readFrames, MAX_FRAME_BYTES_LIMIT } from '@collab/framing';
import { CollabSession } from '@collab/collab-protocol';

export const BENCH_DOCUMENT = 'bench';
const HOST = '127.0.0.1';
const CONNECT_TIMEOUT_MS = 10_000;

/** Called for each update a server relays (SYNC update), when the client does not integrate it. */
export type RemoteUpdateListener = (update: Uint8Array) => void;

export interface BenchClient {
  readonly doc: Y.Doc;
  /** Document-changing messages sent so far (ours: the session's count, matched against ACKs). */
  changesSent(): number;
  /** How many of them the server has ACKed (ours; y-websocket has no ACK: always 0). */
  changesAcked(): number;
  /** Registers a listener for ACK n (ours only; y-websocket has no ACK). */
  onAck(listener: (count: number) => void): void;
  /** Called once if the connection ends before close() (server gone, error). */
  onLost(listener: (why: string) => void): void;
  close(): void;
}

export interface ClientOptions {
  port: number;
  doc: Y.Doc;
  name: string;
  /** Set: relayed updates go here, not into the doc. Unset: the client integrates everything (a late joiner). */
  onRemoteUpdate?: RemoteUpdateListener;
}

/** Origin of updates a client applied from its server, so that they are not sent back. */
const FROM_SERVER = Symbol('from-server');

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** If a y-protocols sync payload (message type 0) is an update (sync type 2), its Yjs update. */
function syncUpdateOf(payload: Uint8Array): Uint8Array | undefined {
  // Both varUints are single bytes for these small values.
  if (payload.length < 3 || payload[0] !== 0 || payload[1] !== 2) return undefined;
  const decoder = decoding.createDecoder(payload);
  decoder.pos = 2;
  return decoding.readVarUint8Array(decoder);
}

/**
 * The duplex a CollabSession talks through: frames from the socket go to the session, except SYNC
 * updates, which go to `onRemoteUpdate`; what the session writes goes to the socket.
 */
class UpdateTap extends Duplex {
  private readonly detach: () => void;

  constructor(
    private readonly socket: Socket,
    onRemoteUpdate: RemoteUpdateListener,
  ) {
    super();
    this.detach = readFrames(
      socket,
      (payload) => {
        const update = syncUpdateOf(payload);
        if (update) onRemoteUpdate(update);
        else this.push(encodeFrame(payload, MAX_FRAME_BYTES_LIMIT));
      },
      (error) => this.destroy(error),
      { maxFrameBytes: MAX_FRAME_BYTES_LIMIT },
    );
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    // No backpressure towards the server: the bench reads as fast as it can.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk);
    callback();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.socket.write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)));
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.detach();
    this.socket.destroy();
    callback(error);
  }
}

/** A client of our collab-server: CollabSession over TCP, HELLO for document `bench`. */
export async function connectOurs(options: ClientOptions): Promise<BenchClient> {
  const socket = connect({ host: HOST, port: options.port, noDelay: true });
  await withTimeout(once(socket, 'connect'), `connecting to collab-server port ${options.port}`);
  const stream: Duplex = options.onRemoteUpdate ? new UpdateTap(socket, options.onRemoteUpdate) : socket;
  const session = new CollabSession(stream, { document: BENCH_DOCUMENT, clientName: options.name, doc: options.doc });
  let closing = false;
  const lost: Array<(why: string) => void> = [];
  session.once('end', (end: { refusal?: { message: string }; error?: Error }) => {
    if (closing) return;
    const why = end.refusal?.message ?? end.error?.message ?? 'the server closed the connection';
    for (const l of lost) l(why);
  });
  await withTimeout(session.whenSynced(), `sync with collab-server port ${options.port}`);
  return {
    doc: options.doc,
    changesSent: () => session.sentChanges,
    changesAcked: () => session.ackedChanges,
    onAck: (listener) => void session.on('ack', listener),
    onLost: (listener) => void lost.push(listener),
    close: () => {
      closing = true;
      session.close();
    },
  };
}

/**
 * A client of the y-websocket server: a WebSocket to ws://HOST:PORT/bench speaking y-protocols
 * sync (message type 0). The server sends its step 1 on connect; the client answers with step 2
 * and sends its own step 1; the server's step 2 makes it synced. Local updates go out as sync
 * updates. The server also relays each update back to its sender; the bench ignores those echoes.
 */
export async function connectYWebsocket(options: ClientOptions): Promise<BenchClient> {
  const { doc, onRemoteUpdate } = options;
  const ws = new WebSocket(`ws://${HOST}:${options.port}/${BENCH_DOCUMENT}`, { perMessageDeflate: false });
  ws.binaryType = 'nodebuffer';
  let closing = false;
  let sent = 0;
  let synced!: () => void;
  const whenSynced = new Promise<void>((resolve) => (synced = resolve));
  const lost: Array<(why: string) => void> = [];
  const send = (encoder: encoding.Encoder) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(encoding.toUint8Array(encoder));
  };
  const onLocalUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === FROM_SERVER) return;
    sent++;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0);
    syncProtocol.writeUpdate(encoder, update);
    send(encoder);
  };
  let sentStep1 = false;
  ws.on('message', (data: Buffer) => {
    const remote = onRemoteUpdate && syncUpdateOf(data);
    if (remote) return onRemoteUpdate(remote);
    const decoder = decoding.createDecoder(data);
    if (decoding.readVarUint(decoder) !== 0) return; // awareness: not used by the bench
    const syncType = decoding.readVarUint(decoder);
    if (syncType === 0) {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, 0);
      syncProtocol.writeSyncStep2(encoder, doc, decoding.readVarUint8Array(decoder));
      sent++;
      send(encoder);
      if (!sentStep1) {
        sentStep1 = true;
        const step1 = encoding.createEncoder();
        encoding.writeVarUint(step1, 0);
        syncProtocol.writeSyncStep1(step1, doc);
        send(step1);
      }
      return;
    }
    Y.applyUpdate(doc, decoding.readVarUint8Array(decoder), FROM_SERVER);
    if (syncType === 1) synced();
  });
  ws.on('close', () => {
    doc.off('update', onLocalUpdate);
    if (!closing) for (const l of lost) l('the server closed the WebSocket');
  });
  ws.on('error', (error: Error) => {
    if (!closing) for (const l of lost) l(error.message);
  });
  await withTimeout(once(ws, 'open'), `connecting to y-websocket port ${options.port}`);
  doc.on('update', onLocalUpdate);
  await withTimeout(whenSynced, `sync with y-websocket port ${options.port}`);
  return {
    doc,
    changesSent: () => sent,
    changesAcked: () => 0,
    onAck: () => undefined,
    onLost: (listener) => void lost.push(listener),
    close: () => {
      closing = true;
      doc.off('update', onLocalUpdate);
      ws.terminate();
    },
  };
}
