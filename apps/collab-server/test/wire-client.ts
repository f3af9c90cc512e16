// A client that speaks the wire protocol byte by byte, for crafted input: it sends any frame or
// any bytes, keeps every message it receives, and, once joined, keeps a Y.Doc in step with the
// server so a test can also edit like a well-behaved client and wait for its ACKs.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import * as Y from 'yjs';
import {
  MessageType,
  SyncType,
  TEXT_NAME,
  decodeMessage,
  encodeMessageFrame,
  makeHello,
  type ErrorMessage,
  type Message,
} from '@collab/collab-protocol';
import { FrameDecoder } from '@collab/framing';

const open = new Set<WireClient>();

/** Destroys every wire client still open; call from afterEach. */
export function closeAllClients(): void {
  for (const client of open) client.destroy();
  open.clear();
}

/** Where to connect from and to. */
export interface WireConnectOptions {
  /** Server address (default 127.0.0.1). */
  host?: string;
  /** Source address (127.0.0.2, say: another loopback address, traffic still goes to `host`). */
  localAddress?: string;
}

const REMOTE = Symbol('remote');

/** One raw connection to the server. */
export class WireClient {
  readonly messages: Message[] = [];
  readonly doc = new Y.Doc();
  /** Document-changing frames sent (SYNC step 2 and update), for ACK numbering. */
  changesSent = 0;
  /** The server's latest ACK. */
  acked = 0;
  /** Set once the socket closed. */
  closed = false;
  /** Bytes received so far. */
  bytesReceived = 0;
  /** The largest frame payload received. */
  largestFrame = 0;
  private readonly decoder = new FrameDecoder({ maxFrameBytes: 1 << 30 });
  private joinedStep2 = false;

  private constructor(readonly socket: Socket) {
    open.add(this);
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      for (const payload of this.decoder.write(chunk)) {
        this.largestFrame = Math.max(this.largestFrame, payload.length);
        this.onMessage(decodeMessage(payload));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      open.delete(this);
    });
  }

  /** Connects (waits for the TCP handshake). */
  static async connect(port: number, options: WireConnectOptions = {}): Promise<WireClient> {
    const socket = connect({ host: options.host ?? '127.0.0.1', port, localAddress: options.localAddress });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    return new WireClient(socket);
  }

  /** Connects, says HELLO and syncs: resolves once the server's step 2 is applied. */
  static async join(
    port: number,
    options: WireConnectOptions & { document?: string; name?: string; token?: string; timeoutMs?: number } = {},
  ): Promise<WireClient> {
    const client = await WireClient.connect(port, options);
    client.hello(options.document, options.name ?? 'peer', options.token);
    await client.waitFor(() => client.joinedStep2, 'the server sync step 2', options.timeoutMs);
    return client;
  }

  /** The document's text as this client has it. */
  text(): string {
    return this.doc.getText(TEXT_NAME).toString();
  }

  /** Sends one message in one frame. */
  send(message: Message): void {
    this.socket.write(encodeMessageFrame(message, 1 << 30));
  }

  /** Sends bytes as they are. */
  sendRaw(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  /** HELLO; the client then answers the server's sync step 1 like a real client. */
  hello(document = 'temp', name = 'raw', token = ''): void {
    this.send(makeHello({ document, clientName: name, token }));
  }

  /** A SYNC update, counted for ACKs; returns its number. */
  sendUpdate(update: Uint8Array): number {
    this.send({ type: MessageType.Sync, syncType: SyncType.Update, data: update });
    return ++this.changesSent;
  }

  /** An edit of the local text, sent as the update Yjs makes of it; returns its number. */
  edit(change: (text: Y.Text) => void): number {
    let update: Uint8Array | undefined;
    const capture = (u: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) update = u;
    };
    this.doc.on('update', capture);
    try {
      this.doc.transact(() => change(this.doc.getText(TEXT_NAME)));
    } finally {
      this.doc.off('update', capture);
    }
    if (!update) throw new Error('the edit changed nothing');
    return this.sendUpdate(update);
  }

  /** Appends text and waits until the server has stored it. */
  async append(text: string, timeoutMs?: number): Promise<void> {
    const n = this.edit((t) => t.insert(t.length, text));
    await this.waitForAck(n, timeoutMs);
  }

  async waitForAck(n: number, timeoutMs?: number): Promise<void> {
    await this.waitFor(() => this.acked >= n, `ACK ${n}`, timeoutMs);
  }

  /** The first ERROR received, if any. */
  error(): ErrorMessage | undefined {
    return this.messages.find((m): m is ErrorMessage => m.type === MessageType.Error);
  }

  /** Waits for the server's ERROR and the close that follows it. */
  async refusal(timeoutMs?: number): Promise<ErrorMessage> {
    await this.waitFor(() => this.error() !== undefined, 'an ERROR', timeoutMs);
    await this.waitFor(() => this.closed, 'the close after the ERROR', timeoutMs);
    return this.error()!;
  }

  /** Sends PING and resolves with the milliseconds until PONG. */
  async ping(timeoutMs?: number): Promise<number> {
    const pongs = () => this.messages.filter((m) => m.type === MessageType.Pong).length;
    const before = pongs();
    const start = performance.now();
    this.send({ type: MessageType.Ping });
    await this.waitFor(() => pongs() > before, 'PONG', timeoutMs);
    return performance.now() - start;
  }

  /** Polls until `check` holds; fails naming `what` (and whether the connection closed). */
  async waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until) {
        const error = this.error();
        throw new Error(
          `timed out waiting for ${what}${this.closed ? ' (the connection closed' + (error ? `: ERROR ${error.code} ${error.message}` : '') + ')' : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Closes the socket (FIN). */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
    open.delete(this);
  }

  private onMessage(message: Message): void {
    this.messages.push(message);
    switch (message.type) {
      case MessageType.Sync:
        if (message.syncType === SyncType.Step1) {
          // The server asks what we have that it lacks: nothing it has not seen, for a fresh client.
          this.send({ type: MessageType.Sync, syncType: SyncType.Step1, data: Y.encodeStateVector(this.doc) });
          this.send({ type: MessageType.Sync, syncType: SyncType.Step2, data: Y.encodeStateAsUpdate(this.doc, message.data) });
          this.changesSent++;
          return;
        }
        Y.applyUpdate(this.doc, message.data, REMOTE);
        if (message.syncType === SyncType.Step2) this.joinedStep2 = true;
        return;
      case MessageType.Ack:
        this.acked = Math.max(this.acked, message.count);
        return;
      case MessageType.Ping:
        this.send({ type: MessageType.Pong });
        return;
      default:
        return;
    }
  }
}
