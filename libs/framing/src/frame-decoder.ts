import { FRAME_HEADER_BYTES } from './constants';
import { EmptyFrameError, FrameTooLargeError, FramingError, TruncatedFrameError } from './errors';
import { resolveMaxFrameBytes } from './max-frame-bytes';

/** Options shared by FrameDecoder and readFrames. */
export interface FrameDecoderOptions {
  /** Largest payload accepted, in bytes (default DEFAULT_MAX_FRAME_BYTES). */
  maxFrameBytes?: number;
}

const AWAITING_HEADER = -1;

/**
 * Streaming frame decoder with no I/O: push chunks split anywhere, get whole payloads out.
 *
 * Chunks are kept as a list, never concatenated on arrival, so a large frame arriving in
 * many chunks costs O(n). A payload lying inside one chunk is returned as a zero-copy view
 * of that chunk (so it shares memory with what was written); only a payload that spans
 * chunks is copied, once.
 */
export class FrameDecoder {
  private limit: number;

  private chunks: Buffer[] = [];
  // Bytes of chunks[0] already consumed; cheaper than re-slicing the head chunk per frame.
  private offset = 0;
  private buffered = 0;
  // Payload length announced by a header already consumed, or AWAITING_HEADER.
  private payloadBytes = AWAITING_HEADER;
  private failure: FramingError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.limit = resolveMaxFrameBytes(options.maxFrameBytes);
  }

  /** The payload limit in force, after applying the default. */
  get maxFrameBytes(): number {
    return this.limit;
  }

  /**
   * Changes the limit for the headers read from now on (a server allows a client only a small
   * first frame, a larger one after its handshake); a header already read keeps its check.
   */
  set maxFrameBytes(value: number) {
    this.limit = resolveMaxFrameBytes(value);
  }

  /** Bytes held waiting for the rest of a frame (a header already read is not counted). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True when no partial frame is pending; false after a failure, which is never a clean end. */
  get idle(): boolean {
    return this.failure === undefined && this.payloadBytes === AWAITING_HEADER && this.buffered === 0;
  }

  /** The error that made this decoder unusable, if any; lets a caller tell it apart from its own exceptions. */
  get error(): FramingError | undefined {
    return this.failure;
  }

  /**
   * Feeds bytes; returns every payload completed by this chunk (possibly none).
   * On a bad header it throws, and payloads completed earlier in the same chunk are lost
   * with the return value; use decode() when they must still be handled.
   */
  write(chunk: Uint8Array): Buffer[] {
    this.append(chunk);
    const payloads: Buffer[] = [];
    for (let payload = this.next(); payload !== undefined; payload = this.next()) payloads.push(payload);
    return payloads;
  }

  /**
   * Feeds bytes and hands each completed payload to onPayload before looking at the next
   * header, so what precedes a bad header is delivered whatever the chunking.
   * If onPayload throws, the rest of the chunk stays buffered for the next call.
   */
  decode(chunk: Uint8Array, onPayload: (payload: Buffer) => void): void {
    this.append(chunk);
    for (let payload = this.next(); payload !== undefined; payload = this.next()) onPayload(payload);
  }

  /** Declares the end of the stream: throws TruncatedFrameError if a frame is incomplete. */
  end(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.idle) return;
    const announced = this.payloadBytes === AWAITING_HEADER ? undefined : this.payloadBytes;
    const received = announced === undefined ? this.buffered : FRAME_HEADER_BYTES + this.buffered;
    throw this.fail(new TruncatedFrameError(received, announced));
  }

  private append(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    if (chunk.byteLength === 0) return; // an empty chunk in the list would break take()
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.buffered += chunk.byteLength;
  }

  /** Next complete payload, or undefined when too few bytes are buffered. */
  private next(): Buffer | undefined {
    if (this.payloadBytes === AWAITING_HEADER) {
      if (this.buffered < FRAME_HEADER_BYTES) return undefined;
      const announced = this.takeHeader();
      // Checked before waiting for any body, so an oversized frame is never buffered.
      if (announced === 0) throw this.fail(new EmptyFrameError());
      if (announced > this.limit) throw this.fail(new FrameTooLargeError(announced, this.limit));
      this.payloadBytes = announced;
    }
    if (this.buffered < this.payloadBytes) return undefined;
    const payload = this.take(this.payloadBytes);
    this.payloadBytes = AWAITING_HEADER;
    return payload;
  }

  private takeHeader(): number {
    this.buffered -= FRAME_HEADER_BYTES;
    const head = this.chunks[0];
    const start = this.offset;
    if (head.length - start >= FRAME_HEADER_BYTES) {
      this.advance(head, start + FRAME_HEADER_BYTES);
      return head.readUInt32BE(start);
    }
    // The header is cut across chunks: assemble it without allocating.
    let value = 0;
    for (let i = 0; i < FRAME_HEADER_BYTES; i++) {
      const chunk = this.chunks[0];
      value = value * 256 + chunk[this.offset];
      this.advance(chunk, this.offset + 1);
    }
    return value;
  }

  private take(length: number): Buffer {
    this.buffered -= length;
    const head = this.chunks[0];
    const start = this.offset;
    if (head.length - start >= length) {
      this.advance(head, start + length);
      return start === 0 && length === head.length ? head : head.subarray(start, start + length);
    }
    const payload = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0];
      const from = this.offset;
      const count = Math.min(chunk.length - from, length - filled);
      chunk.copy(payload, filled, from, from + count);
      filled += count;
      this.advance(chunk, from + count);
    }
    return payload;
  }

  /** Moves the read position within the head chunk, dropping it once fully read. */
  private advance(head: Buffer, to: number): void {
    if (to === head.length) {
      this.chunks.shift();
      this.offset = 0;
    } else {
      this.offset = to;
    }
  }

  private fail(error: FramingError): FramingError {
    this.failure = error;
    this.chunks = [];
    this.offset = 0;
    this.buffered = 0;
    this.payloadBytes = AWAITING_HEADER;
    return error;
  }
}
