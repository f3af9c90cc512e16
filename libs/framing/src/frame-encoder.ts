import { FRAME_HEADER_BYTES } from './constants';
import { EmptyFrameError, FrameTooLargeError } from './errors';
import { resolveMaxFrameBytes } from './max-frame-bytes';

function checkPayloadBytes(payloadBytes: number, maxFrameBytes: number): void {
  if (payloadBytes === 0) throw new EmptyFrameError();
  if (payloadBytes > maxFrameBytes) throw new FrameTooLargeError(payloadBytes, maxFrameBytes);
}

/** Writes one header at `offset` of a caller's buffer and returns the offset after it; lets callers send header and payload with writev, without copying the payload. */
export function writeFrameHeader(target: Uint8Array, offset: number, payloadBytes: number, maxFrameBytes?: number): number {
  checkPayloadBytes(payloadBytes, resolveMaxFrameBytes(maxFrameBytes));
  if (!Number.isInteger(offset) || offset < 0 || offset + FRAME_HEADER_BYTES > target.byteLength) {
    throw new RangeError(`A frame header needs ${FRAME_HEADER_BYTES} bytes at offset ${offset} of a ${target.byteLength}-byte buffer.`);
  }
  // Bytes by hand: works on any Uint8Array, not just Buffer.
  target[offset] = payloadBytes >>> 24;
  target[offset + 1] = (payloadBytes >>> 16) & 0xff;
  target[offset + 2] = (payloadBytes >>> 8) & 0xff;
  target[offset + 3] = payloadBytes & 0xff;
  return offset + FRAME_HEADER_BYTES;
}

/** Returns header and payload as one Buffer, ready for a single socket write. */
export function encodeFrame(payload: Uint8Array, maxFrameBytes?: number): Buffer {
  checkPayloadBytes(payload.byteLength, resolveMaxFrameBytes(maxFrameBytes));
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.byteLength);
  frame.writeUInt32BE(payload.byteLength, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** Encodes many frames into one Buffer so a burst (e.g. a sync reply) costs one write; nothing is built unless every payload is valid. */
export function encodeFrames(payloads: readonly Uint8Array[], maxFrameBytes?: number): Buffer {
  const max = resolveMaxFrameBytes(maxFrameBytes);
  let total = 0;
  for (const payload of payloads) {
    checkPayloadBytes(payload.byteLength, max);
    total += FRAME_HEADER_BYTES + payload.byteLength;
  }
  const frames = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const payload of payloads) {
    frames.writeUInt32BE(payload.byteLength, offset);
    frames.set(payload, offset + FRAME_HEADER_BYTES);
    offset += FRAME_HEADER_BYTES + payload.byteLength;
  }
  return frames;
}
