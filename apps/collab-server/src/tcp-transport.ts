// A client over TCP (or TLS): PROTOCOL.md's 4-byte length-prefixed frames on a socket. Frames
// queued in one tick go out in one write (the socket is corked until the next tick); a client
// that does not read what it is sent is dropped before its backlog grows without bound; a frame
// larger than the session allows now (small before HELLO) is refused before its body is read.

import type { Socket } from 'node:net';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameTooLargeError, FramingError } from '@collab/framing';
import { ErrorCode, encodeMessage, makeErrorMessage } from '@collab/collab-protocol';
import type { Connection, Refusal, Transport } from '@collab/collab-core';
import type { Logger } from '@collab/logging';
import { formatEndpoint, normalizeAddress } from '@collab/address';

/** Limits of a TcpTransport. */
export interface TcpTransportOptions {
  /** Unsent output past which a client that does not read is dropped. */
  maxSendBufferBytes: number;
  logger: Logger;
}

/** How long a closed connection may take to read its ERROR before it is cut. */
const LINGER_MS = 2000;

/** One TCP connection, carrying framed messages between a socket and the core's Connection. */
export class TcpTransport implements Transport {
  readonly remoteAddress: string;
  readonly remoteLabel: string;
  private connection: Connection | undefined;
  private readonly decoder = new FrameDecoder({ maxFrameBytes: 1024 });
  private corked = false;
  private closing = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: TcpTransportOptions,
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '?');
    this.remoteLabel = formatEndpoint(this.remoteAddress, socket.remotePort ?? 0);
    socket.setNoDelay(true);
    socket.on('error', (error: NodeJS.ErrnoException) =>
      options.logger.debug(`Socket error for ${this.remoteLabel}: ${error.code ?? error.message}`),
    );
  }

  /** Starts carrying messages to and from `connection` (or, when the core refused it, only lets the socket close). */
  attach(connection: Connection | undefined): void {
    this.connection = connection;
    this.socket.once('close', () => this.connection?.closed());
    if (!connection) return;
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onEnd);
  }

  send(payload: Uint8Array): void {
    const { socket } = this;
    if (socket.destroyed || !socket.writable) return;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    header.writeUInt32BE(payload.byteLength, 0);
    socket.write(header);
    socket.write(payload);
    if (socket.writableLength > this.options.maxSendBufferBytes) {
      this.options.logger.warn(
        `Client ${this.connection?.label ?? this.remoteLabel} is not reading (${socket.writableLength} bytes waiting); disconnecting it, it will resynchronise when it reconnects`,
      );
      // Nothing more it sent is handled: the rest of a read could ask for the document again and again.
      this.closing = true;
      this.stopReading();
      socket.destroy();
    }
  }

  close(refusal?: Refusal): void {
    if (this.closing) return;
    this.closing = true;
    this.stopReading();
    if (refusal) this.send(encodeMessage(makeErrorMessage(refusal.code, refusal.message)));
    this.socket.end();
    // A client that does not read its ERROR must not hold the connection open.
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closing) this.socket.resume();
  }

  private readonly onData = (chunk: Buffer): void => {
    const connection = this.connection!;
    connection.activity();
    try {
      this.decoder.maxFrameBytes = connection.maxMessageBytes;
      this.decoder.decode(chunk, (payload) => {
        if (this.closing) return;
        connection.receive(payload);
        // The session may allow larger messages from now on (after HELLO).
        this.decoder.maxFrameBytes = connection.maxMessageBytes;
      });
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      this.refuseFraming(error);
    }
  };

  private readonly onEnd = (): void => {
    try {
      this.decoder.end();
    } catch (error) {
      if (error instanceof FramingError) this.refuseFraming(error);
    }
  };

  private refuseFraming(error: FramingError): void {
    this.connection?.fail(error instanceof FrameTooLargeError ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolError, error.message);
  }

  private stopReading(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
  }
}
