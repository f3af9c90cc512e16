import fc from 'fast-check';
import { EmptyFrameError, FrameDecoder, FrameTooLargeError, encodeFrame, encodeFrames } from './index';

const payloadsArb = fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 20 });
/** Cut points, folded into the stream's length later; duplicates yield empty chunks on purpose. */
const cutsArb = fc.array(fc.nat(), { maxLength: 30 });

function split(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const points = cuts.map((cut) => cut % (stream.length + 1)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, stream.length]) {
    chunks.push(stream.subarray(start, point));
    start = point;
  }
  return chunks;
}

/** Feeds chunks through decode() and reports what came out and which chunk threw, if any. */
function feed(decoder: FrameDecoder, chunks: readonly Buffer[]) {
  const payloads: Buffer[] = [];
  let start = 0;
  for (const chunk of chunks) {
    try {
      decoder.decode(chunk, (payload) => payloads.push(payload));
    } catch (error) {
      return { payloads, error, thrownByChunk: { start, end: start + chunk.length } };
    }
    start += chunk.length;
  }
  return { payloads, error: undefined, thrownByChunk: undefined };
}

describe('FrameDecoder properties', () => {
  it('decodes exactly the encoded payloads, in order, whatever the chunking', () => {
    fc.assert(
      fc.property(payloadsArb, cutsArb, (payloads, cuts) => {
        const decoder = new FrameDecoder({ maxFrameBytes: 200 });
        const out: Buffer[] = [];
        for (const chunk of split(encodeFrames(payloads), cuts)) out.push(...decoder.write(chunk));
        expect(out).toEqual(payloads.map((p) => Buffer.from(p)));
        expect(decoder.idle).toBe(true);
        expect(decoder.bufferedBytes).toBe(0);
      }),
    );
  });

  it('rejects an oversized header as soon as its last byte arrives, whatever the chunking', () => {
    fc.assert(
      fc.property(
        payloadsArb,
        fc.integer({ min: 200, max: 100_000 }).chain((max) => fc.tuple(fc.constant(max), fc.integer({ min: max + 1, max: 2 ** 32 - 1 }))),
        fc.uint8Array({ maxLength: 300 }),
        cutsArb,
        (payloads, [maxFrameBytes, announced], body, cuts) => {
          const good = encodeFrames(payloads);
          const header = Buffer.alloc(4);
          header.writeUInt32BE(announced);
          const decoder = new FrameDecoder({ maxFrameBytes });
          const result = feed(decoder, split(Buffer.concat([good, header, body]), cuts));

          expect(result.error).toBeInstanceOf(FrameTooLargeError);
          expect(result.error).toMatchObject({ announcedBytes: announced, maxFrameBytes });
          // Thrown by the chunk holding the header's last byte: no body was waited for.
          const lastHeaderByte = good.length + 3;
          expect(result.thrownByChunk!.start).toBeLessThanOrEqual(lastHeaderByte);
          expect(result.thrownByChunk!.end).toBeGreaterThan(lastHeaderByte);
          expect(result.payloads).toEqual(payloads.map((p) => Buffer.from(p)));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
    );
  });

  it('rejects an empty frame wherever it falls and however the stream is chunked', () => {
    fc.assert(
      fc.property(payloadsArb, fc.uint8Array({ maxLength: 50 }), cutsArb, (payloads, after, cuts) => {
        const good = encodeFrames(payloads);
        const decoder = new FrameDecoder({ maxFrameBytes: 200 });
        const result = feed(decoder, split(Buffer.concat([good, Buffer.alloc(4), after]), cuts));
        expect(result.error).toBeInstanceOf(EmptyFrameError);
        expect(result.payloads).toEqual(payloads.map((p) => Buffer.from(p)));
      }),
    );
  });

  it('encodes a batch exactly as the frames of its payloads one after another', () => {
    fc.assert(
      fc.property(payloadsArb, (payloads) => {
        expect(encodeFrames(payloads)).toEqual(Buffer.concat(payloads.map((p) => encodeFrame(p))));
      }),
    );
  });
});
