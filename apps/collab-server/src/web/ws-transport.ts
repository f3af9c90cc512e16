// A client over WebSocket: y-websocket's protocol, one message per WebSocket message (PROTOCOL.md
// types 0-3, byte for byte; ACK and the rest of ours only for clients that asked for them). The
// core sees it as any other transport. What TCP does with frames, WebSocket does itself: `ws`
// refuses a message larger than maxPayload before buffering its body (close 1009), and checks
// every frame (close 1002 or 1007 on a bad one). As on TCP, messages queued in one tick leave in one
// write, and a message relayed to every client of a document is framed once, not once per client.

import { ErrorCode } from '@collab/collab-protocol';
import type { Socket } from 'node:net';
import type { Connection, Refusal, Transport } from '@collab/collab-core';
import type { Logger } from '@collab/logging';
import * as wsModule from 'ws';
import type { RawData, WebSocket } from 'ws';
import { frameOnce } from '../frame-once';
import { TickWriter } from '../tick-writer';
import { closeCodeFor, closeReason } from './close-codes';

/** Settings of a WsTransport. */
export interface WsTransportOptions {
  /** The client's address, normalised (`127.0.0.1`, `::1`), and as logs show it (`[::1]:51234`). */
  remoteAddress: string;
  remoteLabel: string;
  /** The connection under the WebSocket: messages sent in one tick go out at its end in one write. */
  socket: Socket;
  /** Unsent output past which a client that does not read is dropped. */
  maxSendBufferBytes: number;
  /**
   * How often to ping the client (its pong counts as activity for the idle timeout), and how long
   * the server may stay silent towards it: y-websocket's provider drops a connection that has
   * brought no message for 30 s, and a client alone in a document gets none, so after this long
   * without one it is sent an empty AWARENESS update, which every y-protocols client ignores.
   */
  keepAliveMs: number;
  logger: Logger;
}

/** How long a closed connection may take to read its close frame before it is cut. */
const LINGER_MS = 2000;

/** ws's framing function: the package exports its Sender, @types/ws does not declare it. */
type FrameFunction = (data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }) => Buffer[];
const wsFrame = (wsModule as unknown as { Sender: { frame: FrameFunction } }).Sender.frame;
const BINARY_MESSAGE = { fin: true, opcode: 2, mask: false, readOnly: true, rsv1: false };

/**
 * The WebSocket frame of a payload, header and body in one buffer: one write per client (ws.send
 * makes two), made once however many clients get it. Server frames are not masked and the server
 * negotiates no compression (perMessageDeflate: false), so the frame is the same bytes for every client.
 */
const frameOf = frameOnce((payload) =>
  Buffer.concat(wsFrame(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), BINARY_MESSAGE)),
);

/** AWARENESS with an update listing no clients: changes nothing anywhere. */
const EMPTY_AWARENESS = Uint8Array.of(1, 1, 0);

/** One WebSocket connection, carrying messages between the socket and the core's Connection. */
export class WsTransport implements Transport {
  readonly remoteAddress: string;
  readonly remoteLabel: string;
  private connection: Connection | undefined;
  private closing = false;
  private lastSent = performance.now();
  private keepAlive: NodeJS.Timeout | undefined;
  /**
   * Frames go past ws's own sender (which queues nothing here: no compression). Pings and pongs
   * ws writes meanwhile may go first (control frames may come between messages); the close frame
   * may not, so close() writes what is queued before it.
   */
  private readonly output = new TickWriter((data) => {
    const { socket } = this.options;
    if (this.ws.readyState === this.ws.OPEN && !socket.destroyed && socket.writable) socket.write(data);
  });

  constructor(
    private readonly ws: WebSocket,
    private readonly options: WsTransportOptions,
  ) {
    this.remoteAddress = options.remoteAddress;
    this.remoteLabel = options.remoteLabel;
    ws.on('error', this.onError);
  }

  /** Starts carrying messages to and from `connection` (or, when the core refused it, only lets the socket close). */
  attach(connection: Connection | undefined): void {
    this.connection = connection;
    this.ws.once('close', () => {
      clearInterval(this.keepAlive);
      this.connection?.closed();
    });
    if (!connection) return;
    this.ws.on('message', this.onMessage);
    this.ws.on('pong', () => connection.activity());
    this.ws.on('ping', () => connection.activity());
    this.keepAlive = setInterval(this.onKeepAlive, this.options.keepAliveMs);
    this.keepAlive.unref();
  }

  send(payload: Uint8Array): void {
    const { ws } = this;
    if (ws.readyState !== ws.OPEN) return;
    this.lastSent = performance.now();
    this.output.push(frameOf(payload));
    const waiting = ws.bufferedAmount + this.output.queuedBytes;
    if (waiting > this.options.maxSendBufferBytes) {
      this.options.logger.warn(
        `Client ${this.connection?.label ?? this.remoteLabel} is not reading (${waiting} bytes waiting); disconnecting it, it will resynchronise when it reconnects`,
      );
      this.output.clear();
      ws.terminate();
    }
  }

  close(refusal?: Refusal): void {
    if (this.closing) return;
    this.closing = true;
    this.ws.off('message', this.onMessage);
    clearInterval(this.keepAlive);
    this.output.flush();
    if (refusal) this.ws.close(closeCodeFor(refusal.code), closeReason(refusal.message));
    else this.ws.close(1000);
    // A client that does not answer the close frame must not hold the connection open.
    setTimeout(() => this.ws.terminate(), LINGER_MS).unref();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    if (!this.closing) this.ws.resume();
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    const connection = this.connection!;
    if (this.closing) return;
    connection.activity();
    if (!isBinary) {
      connection.fail(ErrorCode.ProtocolError, 'A text message is not part of the protocol: Yjs messages are binary.');
      return;
    }
    const payload = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (payload.length > connection.maxMessageBytes) {
      connection.fail(ErrorCode.FrameTooLarge, `A message of ${payload.length} bytes is larger than ${connection.maxMessageBytes}.`);
      return;
    }
    connection.receive(payload);
  };

  private readonly onKeepAlive = (): void => {
    const { ws } = this;
    if (this.closing || ws.readyState !== ws.OPEN) return;
    ws.ping();
    if (performance.now() - this.lastSent >= this.options.keepAliveMs - 1) this.send(EMPTY_AWARENESS);
  };

  /** `ws` found the client's bytes unusable (a bad frame, a message past maxPayload); it closes the socket itself. */
  private readonly onError = (error: Error & { code?: string }): void => {
    this.closing = true;
    const who = this.connection?.label ?? this.remoteLabel;
    this.options.logger.warn(`Closed the WebSocket of client ${who}: ${error.message}${error.code ? ` (${error.code})` : ''}`);
  };
}
