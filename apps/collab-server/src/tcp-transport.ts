// A client over TCP (or TLS): PROTOCOL.md's 4-byte length-prefixed frames on a socket. Frames
// sent in one tick go out at its end in one write of one buffer (tick-writer.ts); a client
// that does not read what it is sent is dropped before its backlog grows without bound; a frame
// larger than the session allows now (small before HELLO) is refused before its body is read.
// Every connection starts here, undecided: its first byte (or its silence) says whether it is a
// framed client, a plain-text one (handed over with onText) or an HTTP request (answered with a
// hint and closed); see protocol-detection.ts. A refusal the core makes before that is said once
// the client's language is known.

import type { Socket } from 'node:net';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameTooLargeError, FramingError } from '@collab/framing';
import { ErrorCode, encodeMessage, makeErrorMessage } from '@collab/collab-protocol';
import type { Connection, Refusal, Transport } from '@collab/collab-core';
import type { Logger } from '@collab/logging';
import { formatEndpoint, normalizeAddress } from '@collab/address';
import { frameOnce } from './frame-once';
import { TickWriter } from './tick-writer';
import { detectProtocol, httpHint } from './protocol-detection';

/** Limits of a TcpTransport. */
export interface TcpTransportOptions {
  /** Unsent output past which a client that does not read is dropped. */
  maxSendBufferBytes: number;
  logger: Logger;
  /** How long a new connection may stay silent before it is taken as a plain-text client. */
  textAfterMs: number;
  /** The web editor's port, named in the answer to an HTTP request. */
  webPort: number;
  /**
   * The connection speaks plain text: the socket is the callee's from now on, with `first` (the
   * bytes read so far, if any); `replacing` is the framed session it started as.
   */
  onText(first: Uint8Array | undefined, replacing: Connection): void;
}

/** The frame of a payload, made once however many clients it goes to: length prefix and payload in one buffer. */
const frameOf = frameOnce((payload) => {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.byteLength);
  frame.writeUInt32BE(payload.byteLength, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
});

/** What the connection turned out to speak. */
type Mode = 'undecided' | 'framed' | 'text' | 'http';

/** How long a closed connection may take to read its ERROR before it is cut. */
const LINGER_MS = 2000;

/** One TCP connection, carrying framed messages between a socket and the core's Connection. */
export class TcpTransport implements Transport {
  readonly remoteAddress: string;
  readonly remoteLabel: string;
  private connection: Connection | undefined;
  private readonly decoder = new FrameDecoder({ maxFrameBytes: 1024 });
  private readonly output = new TickWriter((data) => {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(data);
  });
  private closing = false;
  private mode: Mode = 'undecided';
  /** A refusal made while the connection was undecided: said once its language is known. */
  private refusal: Refusal | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;

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
    // Listening from the start: a refused connection is read too, to learn how to say why.
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    this.silenceTimer = setTimeout(() => this.decideText(undefined), options.textAfterMs);
    this.silenceTimer.unref();
    socket.once('close', () => clearTimeout(this.silenceTimer));
  }

  /** Starts carrying messages to and from `connection` (or, when the core refused it, only lets the socket close). */
  attach(connection: Connection | undefined): void {
    this.connection = connection;
    this.socket.once('close', () => {
      // Handed over as plain text: the core ended that session already.
      if (this.mode !== 'text') this.connection?.closed();
    });
  }

  send(payload: Uint8Array): void {
    const { socket } = this;
    if (socket.destroyed || !socket.writable) return;
    this.output.push(frameOf(payload));
    const waiting = socket.writableLength + this.output.queuedBytes;
    if (waiting > this.options.maxSendBufferBytes) {
      this.options.logger.warn(
        `Client ${this.connection?.label ?? this.remoteLabel} is not reading (${waiting} bytes waiting); disconnecting it, it will resynchronise when it reconnects`,
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
    // A client that does not read its ERROR must not hold the connection open (nor one that
    // says nothing while its language is unknown: the silence decides within textAfterMs).
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
    if (this.mode === 'undecided') {
      this.refusal = refusal;
      return;
    }
    this.stopReading();
    if (refusal) this.send(encodeMessage(makeErrorMessage(refusal.code, refusal.message)));
    this.output.flush();
    this.socket.end();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closing) this.socket.resume();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.mode === 'undecided') return this.decide(chunk);
    if (this.mode !== 'framed') return;
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
    if (this.mode !== 'framed') return;
    try {
      this.decoder.end();
    } catch (error) {
      if (error instanceof FramingError) this.refuseFraming(error);
    }
  };

  /** The first bytes say what the client speaks. */
  private decide(first: Buffer): void {
    clearTimeout(this.silenceTimer);
    const kind = detectProtocol(first);
    if (kind === 'text') return this.decideText(first);
    if (kind === 'http') {
      this.mode = 'http';
      this.stopReading();
      this.options.logger.warn(
        `HTTP request from ${this.remoteLabel} on the editing port (a browser, or a web page trying its luck); answered with a pointer to port ${this.options.webPort} and closed`,
      );
      this.socket.end(httpHint(this.options.webPort));
      if (!this.closing) {
        this.closing = true;
        setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
      }
      return;
    }
    this.mode = 'framed';
    if (this.closing) {
      // Refused while undecided: the refusal as an ERROR frame, now that the client reads frames.
      this.stopReading();
      if (this.refusal) this.send(encodeMessage(makeErrorMessage(this.refusal.code, this.refusal.message)));
      this.output.flush();
      this.socket.end();
      return;
    }
    this.onData(first);
  }

  /** The connection speaks plain text (its first bytes, or its silence, said so). */
  private decideText(first: Buffer | undefined): void {
    if (this.mode !== 'undecided' || this.socket.destroyed) return;
    clearTimeout(this.silenceTimer);
    this.mode = 'text';
    this.stopReading();
    if (this.closing) {
      if (this.refusal) this.socket.write(`${this.refusal.message}\n`);
      this.socket.end();
      return;
    }
    this.options.onText(first, this.connection!);
  }

  private refuseFraming(error: FramingError): void {
    this.connection?.fail(error instanceof FrameTooLargeError ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolError, error.message);
  }

  private stopReading(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
  }
}
