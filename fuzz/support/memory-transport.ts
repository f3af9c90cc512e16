// A Transport with no socket behind it, doing what apps/collab-server's TcpTransport does with
// one: 4-byte frames decoded with the session's current limit (small before HELLO), a framing
// error turned into connection.fail (ERROR 4 or 3), an ERROR frame on close(refusal), reading
// paused and resumed, closed() once both sides are done. The peer is played through receive()
// and peerEnd(); what the server sends is kept as frames, or handed to a sink (a client's pipe).
// An exception a Connection method throws would leave a socket's 'data' handler and crash a
// real server: it is reported to `escaped` instead.
import { FRAME_HEADER_BYTES, FrameDecoder, FrameTooLargeError, FramingError } from '@collab/framing';
import { ErrorCode, encodeMessage, makeErrorMessage } from '@collab/collab-protocol';
import type { Connection, Refusal, Transport } from '@collab/collab-core';

/** What a MemoryTransport reports to whoever runs it. */
export interface MemoryTransportHooks {
  /** Bytes moved either way (settle() waits until nothing does). */
  activity(): void;
  /** The server sent this message (to any client). */
  sent?(payload: Uint8Array): void;
  /** An exception escaped the core while handling the peer's bytes. */
  escaped(error: unknown, where: string): void;
}

/** One in-memory connection between a peer (the fuzz input, or a client's pipe) and a Connection. */
export class MemoryTransport implements Transport {
  /** Frames the server sent (header included), in order, unless a sink takes them. */
  readonly frames: Buffer[] = [];
  /** Messages the core queued after it closed the transport (a TCP socket would drop them). */
  sendsAfterClose = 0;
  /** True once the server closed (after its ERROR, if any). */
  closing = false;
  /** True once the peer closed its side. */
  peerEnded = false;
  /** Takes each frame instead of `frames`; set before attach(). */
  sink: ((frame: Buffer) => void) | undefined;
  /** Called once when the server closes its side. */
  onClose: (() => void) | undefined;
  private connection: Connection | undefined;
  // Replaced by the session's limit before every read, as TcpTransport does.
  private readonly decoder = new FrameDecoder({ maxFrameBytes: 1024 });
  private paused = false;
  private held: Buffer[] = [];
  private finished = false;

  constructor(
    readonly remoteAddress: string,
    readonly remoteLabel: string,
    private readonly hooks: MemoryTransportHooks,
  ) {}

  /** Starts feeding `connection` (undefined: the core refused the connection, and already closed it). */
  attach(connection: Connection | undefined): void {
    this.connection = connection;
    if (this.peerEnded) this.finish();
  }

  send(payload: Uint8Array): void {
    if (this.closing) {
      this.sendsAfterClose++;
      return;
    }
    this.emit(payload);
  }

  close(refusal?: Refusal): void {
    if (this.closing) return;
    if (refusal) this.emit(encodeMessage(makeErrorMessage(refusal.code, refusal.message)));
    this.closing = true;
    this.held = [];
    this.onClose?.();
    // A socket closes once the peer has closed too (or the linger timer cut it).
    if (this.peerEnded) this.finish();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (this.closing) return;
    this.paused = false;
    while (!this.paused && this.held.length) this.deliver(this.held.shift()!);
  }

  /** The peer's bytes arrive, as one 'data' event. */
  receive(chunk: Uint8Array): void {
    if (this.peerEnded || this.closing || chunk.length === 0) return;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.paused) this.held.push(bytes);
    else this.deliver(bytes);
  }

  /** The peer closes: a frame cut short is a protocol error, then the connection is closed. */
  peerEnd(): void {
    if (this.peerEnded) return;
    this.peerEnded = true;
    this.held = [];
    if (!this.closing && this.connection) {
      try {
        this.decoder.end();
      } catch (error) {
        if (error instanceof FramingError) this.refuseFraming(error);
        else this.hooks.escaped(error, "the transport's 'end' handler");
      }
    }
    this.finish();
  }

  private emit(payload: Uint8Array): void {
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.byteLength);
    frame.writeUInt32BE(payload.byteLength, 0);
    frame.set(payload, FRAME_HEADER_BYTES);
    this.hooks.activity();
    this.hooks.sent?.(payload);
    if (this.sink) this.sink(frame);
    else this.frames.push(frame);
  }

  private deliver(chunk: Buffer): void {
    const connection = this.connection;
    if (!connection || this.closing) return;
    this.hooks.activity();
    try {
      connection.activity();
      this.decoder.maxFrameBytes = connection.maxMessageBytes;
      this.decoder.decode(chunk, (payload) => {
        if (this.closing) return;
        connection.receive(payload);
        // The session may allow larger messages from now on (after HELLO).
        this.decoder.maxFrameBytes = connection.maxMessageBytes;
      });
    } catch (error) {
      if (error instanceof FramingError) this.refuseFraming(error);
      else this.hooks.escaped(error, "the transport's 'data' handler");
    }
  }

  private refuseFraming(error: FramingError): void {
    try {
      this.connection?.fail(error instanceof FrameTooLargeError ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolError, error.message);
    } catch (escape) {
      this.hooks.escaped(escape, 'Connection.fail');
    }
  }

  /** Both sides are done: the core hears closed() once, on a later turn (a socket's 'close' event). */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.hooks.activity();
    setImmediate(() => {
      try {
        this.connection?.closed();
      } catch (error) {
        this.hooks.escaped(error, "the transport's 'close' handler");
      }
    });
  }
}
