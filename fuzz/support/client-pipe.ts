// The client end of a MemoryTransport, as a Duplex stream a CollabSession can speak over.
// Bytes cross on a later turn of the event loop in both directions, as over TCP (never
// re-entrantly inside the writer's own handler); the server closing ends the stream, and the
// client destroying it is the peer closing its side.
import { Duplex } from 'node:stream';
import type { MemoryTransport } from './memory-transport';

/** What a pipe reports to whoever runs it. */
export interface ClientPipeHooks {
  /** Bytes are on their way (settle() waits for them). */
  activity(): void;
  /** The client's own handlers threw on bytes from the server. */
  clientEscaped(error: unknown): void;
  /** Each frame the client writes, before it is delivered. */
  clientWrote?(chunk: Buffer): void;
}

/** A Duplex whose writes go to the server through `transport`, and which reads what the server sends. */
export class ClientPipe extends Duplex {
  constructor(
    private readonly transport: MemoryTransport,
    private readonly hooks: ClientPipeHooks,
  ) {
    // Not half-open: once the server has closed, the client's side closes too, as a socket's would.
    super({ allowHalfOpen: false });
    transport.sink = (frame) => {
      hooks.activity();
      setImmediate(() => {
        if (this.destroyed) return;
        try {
          this.push(frame);
        } catch (error) {
          hooks.clientEscaped(error);
        }
      });
    };
    transport.onClose = () => {
      hooks.activity();
      setImmediate(() => {
        if (!this.destroyed) this.push(null);
      });
    };
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hooks.activity();
    this.hooks.clientWrote?.(chunk);
    setImmediate(() => {
      this.transport.receive(chunk);
      callback();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.hooks.activity();
    setImmediate(() => this.transport.peerEnd());
    callback(error);
  }
}
