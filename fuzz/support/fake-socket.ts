// An in-process stand-in for the net.Socket a ClientConnection (or a CollabSession) talks
// over: a million TCP connections would take hours, this takes microseconds. It implements
// only what those classes use, and it delivers incoming bytes synchronously from receive(),
// so an exception thrown by a 'data' listener surfaces at the call that delivered the bytes
// instead of as an uncaught exception somewhere in the event loop (on a real socket it would
// crash the process).
import { EventEmitter } from 'node:events';

/** What the far end of a socket does with the bytes written to this end. */
export type WriteSink = (chunk: Buffer) => void;

/** A socket with no kernel behind it; the test plays the peer through receive() and peerEnd(). */
export class FakeSocket extends EventEmitter {
  destroyed = false;
  writable = true;
  readonly writableLength = 0;
  /** True once this end called end() (half-closed its side, as after an ERROR). */
  ended = false;
  /** Bytes written after end() or destroy(): a real socket would refuse them with an 'error'. */
  writesAfterClose = 0;
  /** Every chunk written by the owner of this end, in order. */
  readonly written: Buffer[] = [];
  remoteAddress = '127.0.0.1';
  remotePort = 40_000;
  private paused = false;
  private readonly held: Buffer[] = [];
  private sink: WriteSink | undefined;

  /** Sends what is written here to `sink` too (the other end of a pair); written[] still records it. */
  pipeTo(sink: WriteSink): void {
    this.sink = sink;
  }

  setNoDelay(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }

  cork(): void {}

  uncork(): void {}

  write(chunk: Uint8Array | string): boolean {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    if (this.destroyed || this.ended) {
      this.writesAfterClose++;
      return false;
    }
    this.written.push(bytes);
    this.sink?.(bytes);
    return true;
  }

  end(chunk?: Uint8Array): this {
    if (chunk) this.write(chunk);
    this.ended = true;
    this.writable = false;
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.writable = false;
    process.nextTick(() => this.emit('close', false));
    return this;
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    while (!this.paused && this.held.length) this.emit('data', this.held.shift());
    return this;
  }

  /** The peer's bytes arrive: 'data' is emitted now, so listener exceptions propagate to the caller. */
  receive(chunk: Buffer): void {
    if (this.destroyed || chunk.length === 0) return;
    if (this.paused) this.held.push(chunk);
    else this.emit('data', chunk);
  }

  /** The peer closes its side: 'end', then (no half-open sockets, as with net.createServer) 'close'. */
  peerEnd(): void {
    if (this.destroyed) return;
    this.emit('end');
    this.destroy();
  }
}

/** What a socket pair reports to its owner. */
export interface SocketPairHooks {
  /** An exception thrown by the listeners of the end that received the bytes. */
  onEscape(error: unknown, side: 'a' | 'b'): void;
  /** Bytes were written by either end (before they are delivered). */
  onWrite?(side: 'a' | 'b'): void;
}

/**
 * Two connected ends. Bytes written to one arrive at the other on a later turn of the event
 * loop, as over TCP (never re-entrantly inside the writer's own handler).
 */
export function fakeSocketPair(hooks: SocketPairHooks): [FakeSocket, FakeSocket] {
  const a = new FakeSocket();
  const b = new FakeSocket();
  const deliver = (from: 'a' | 'b', to: FakeSocket) => (chunk: Buffer) => {
    hooks.onWrite?.(from);
    setImmediate(() => {
      try {
        to.receive(chunk);
      } catch (error) {
        hooks.onEscape(error, from === 'a' ? 'b' : 'a');
      }
    });
  };
  a.pipeTo(deliver('a', b));
  b.pipeTo(deliver('b', a));
  const closeOther = (other: FakeSocket) => () => setImmediate(() => other.peerEnd());
  a.once('close', closeOther(b));
  b.once('close', closeOther(a));
  return [a, b];
}
