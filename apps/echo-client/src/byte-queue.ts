/**
 * Bytes received but not yet consumed, read back in exact counts: one `data` event is not
 * one message, so a reply of n bytes may arrive in pieces or together with the next one.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiter: { bytes: number; resolve: (data: Buffer) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  /** Bytes waiting to be read. */
  get size(): number {
    return this.length;
  }

  /** Adds received bytes, completing a pending read when it now has enough. */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    this.settle();
  }

  /** Fails the pending read and every later one (the connection is gone). */
  fail(error: Error): void {
    this.failure ??= error;
    this.settle();
  }

  /** Resolves with exactly `bytes` bytes, as soon as that many have arrived. */
  read(bytes: number): Promise<Buffer> {
    if (this.waiter) return Promise.reject(new Error('ByteQueue allows one read at a time'));
    return new Promise<Buffer>((resolve, reject) => {
      this.waiter = { bytes, resolve, reject };
      this.settle();
    });
  }

  /** Drops a pending read (after a timeout); its bytes stay queued for later reads. */
  cancel(): void {
    this.waiter = undefined;
  }

  private settle(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.length >= w.bytes) {
      this.waiter = undefined;
      w.resolve(this.take(w.bytes));
    } else if (this.failure) {
      this.waiter = undefined;
      w.reject(this.failure);
    }
  }

  private take(bytes: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= bytes) {
      // The common case: the reply sits inside one chunk; slice without copying.
      const out = first.subarray(0, bytes);
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
      this.length -= bytes;
      return out;
    }
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.chunks[0]!;
      const n = Math.min(chunk.length, bytes - filled);
      chunk.copy(out, filled, 0, n);
      filled += n;
      if (n === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(n);
    }
    this.length -= bytes;
    return out;
  }
}
