// Fuzz target 1: FrameDecoder (write, decode) and readFrames, fed random byte streams and
// mutated encodings of valid frame sequences in random chunkings. Each outcome is compared with
// a reference model that reads the whole stream at once, as PROTOCOL.md "Frames" describes it.
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import {
  DEFAULT_MAX_FRAME_BYTES,
  EmptyFrameError,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameTooLargeError,
  FramingError,
  InvalidMaxFrameBytesError,
  MAX_FRAME_BYTES_LIMIT,
  TruncatedFrameError,
  encodeFrames,
  readFrames,
} from '@collab/framing';
import { mutateBytes, mutationsArb, splitAt, type Mutation } from '../support/byte-mutation';
import { fail, sameBytes, type FuzzTarget } from '../support/fuzz-target';

type Api = 'write' | 'decode' | 'readFrames';

/** Where the bytes come from: noise, or frames (mutated or not) of known payloads. */
export type FrameStream =
  | { readonly kind: 'random'; readonly bytes: Uint8Array }
  | { readonly kind: 'frames'; readonly payloads: readonly Uint8Array[]; readonly mutations: readonly Mutation[] };

/** One input of the frame decoder target. */
export interface FrameDecoderInput {
  readonly maxFrameBytes: number;
  readonly stream: FrameStream;
  /** Chunk boundaries (folded into the stream's length; repeats give empty chunks). */
  readonly cuts: readonly number[];
  readonly api: Api;
  /** Whether the stream then ends (end() / the 'end' event). */
  readonly end: boolean;
}

/** What reading the whole stream at once yields. */
interface Expected {
  /** Payloads in order, each with the stream offset just past its last byte. */
  payloads: Array<{ bytes: Uint8Array; endOffset: number }>;
  /** A bad header: the offset of its last byte (the decoder must fail on the chunk holding it). */
  failure?: { kind: 'empty' | 'too-large'; at: number; announced: number };
  /** What an end() right after the stream must report; undefined for a clean end. */
  truncated?: { receivedBytes: number; announcedBytes: number | undefined };
  /** Bytes of the last, incomplete frame held after the stream: header bytes, or body bytes once its header is read. */
  held: number;
}

function readWhole(stream: Uint8Array, maxFrameBytes: number): Expected {
  const bytes = Buffer.from(stream.buffer, stream.byteOffset, stream.byteLength);
  const payloads: Expected['payloads'] = [];
  let pos = 0;
  for (;;) {
    const left = bytes.length - pos;
    if (left < FRAME_HEADER_BYTES) {
      return { payloads, held: left, truncated: left === 0 ? undefined : { receivedBytes: left, announcedBytes: undefined } };
    }
    const announced = bytes.readUInt32BE(pos);
    if (announced === 0) return { payloads, held: 0, failure: { kind: 'empty', at: pos + 3, announced } };
    if (announced > maxFrameBytes) return { payloads, held: 0, failure: { kind: 'too-large', at: pos + 3, announced } };
    const body = left - FRAME_HEADER_BYTES;
    if (body < announced) {
      return { payloads, held: body, truncated: { receivedBytes: FRAME_HEADER_BYTES + body, announcedBytes: announced } };
    }
    const end = pos + FRAME_HEADER_BYTES + announced;
    payloads.push({ bytes: bytes.subarray(pos + FRAME_HEADER_BYTES, end), endOffset: end });
    pos = end;
  }
}

function streamBytes(stream: FrameStream): Uint8Array {
  if (stream.kind === 'random') return stream.bytes;
  const valid = stream.payloads.length ? encodeFrames(stream.payloads, MAX_FRAME_BYTES_LIMIT) : new Uint8Array(0);
  return stream.mutations.length ? mutateBytes(valid, stream.mutations) : valid;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function checkFailure(error: unknown, expected: NonNullable<Expected['failure']>, maxFrameBytes: number): void {
  if (expected.kind === 'empty') {
    if (!(error instanceof EmptyFrameError) || error.code !== 'COLLAB_ERR_EMPTY_FRAME') {
      fail(`expected EmptyFrameError for the header ending at byte ${expected.at}, got ${describe(error)}`);
    }
    return;
  }
  if (
    !(error instanceof FrameTooLargeError) ||
    error.code !== 'COLLAB_ERR_FRAME_TOO_LARGE' ||
    error.announcedBytes !== expected.announced ||
    error.maxFrameBytes !== maxFrameBytes
  ) {
    fail(`expected FrameTooLargeError(${expected.announced} > ${maxFrameBytes}) at byte ${expected.at}, got ${describe(error)}`);
  }
}

function checkTruncated(error: unknown, expected: NonNullable<Expected['truncated']>): void {
  if (
    !(error instanceof TruncatedFrameError) ||
    error.code !== 'COLLAB_ERR_TRUNCATED_FRAME' ||
    error.receivedBytes !== expected.receivedBytes ||
    error.announcedBytes !== expected.announcedBytes
  ) {
    fail(`expected TruncatedFrameError(${expected.receivedBytes}, ${expected.announcedBytes}) at the end, got ${describe(error)}`);
  }
}

function checkPayloads(got: readonly Uint8Array[], expected: ReadonlyArray<{ bytes: Uint8Array }>, what: string): void {
  if (got.length !== expected.length) fail(`${what}: got ${got.length} payloads, expected ${expected.length}`);
  got.forEach((payload, i) => {
    if (!sameBytes(payload, expected[i].bytes)) fail(`${what}: payload ${i} differs from the one in the stream`);
  });
}

/** FrameDecoder.write or .decode, chunk by chunk, against the model. */
function checkDecoder(input: FrameDecoderInput, bytes: Uint8Array, chunks: Buffer[], expected: Expected): void {
  const { maxFrameBytes } = input;
  const decoder = new FrameDecoder({ maxFrameBytes });
  const got: Buffer[] = [];
  let start = 0;
  for (const chunk of chunks) {
    const before = got.length;
    try {
      if (input.api === 'write') got.push(...decoder.write(chunk));
      else decoder.decode(chunk, (payload) => got.push(payload));
    } catch (error) {
      if (!(error instanceof FramingError)) fail(`the decoder threw something other than a FramingError: ${describe(error)}`);
      const failure = expected.failure;
      if (!failure) fail(`the decoder threw on a stream the model reads without error: ${describe(error)}`);
      checkFailure(error, failure, maxFrameBytes);
      // The limit is enforced on the header alone: the chunk with its last byte throws.
      if (failure.at < start || failure.at >= start + chunk.length) {
        fail(`the bad header ending at byte ${failure.at} was reported by the chunk [${start}, ${start + chunk.length})`);
      }
      // write() loses what the failing chunk completed with its return value; decode() delivers it.
      const delivered = input.api === 'write' ? got.slice(0, before) : got;
      const wanted = expected.payloads.filter((p) => (input.api === 'write' ? p.endOffset <= start : true));
      checkPayloads(delivered, wanted, `payloads before the ${failure.kind} header`);
      if (decoder.bufferedBytes !== 0 || decoder.idle || decoder.error !== error) {
        fail('a failed decoder must hold no bytes, not be idle, and expose its error');
      }
      for (const again of [() => decoder.write(Buffer.of(0, 0, 0, 1, 0x61)), () => decoder.end()]) {
        let rethrown: unknown;
        try {
          again();
        } catch (later) {
          rethrown = later;
        }
        if (rethrown !== error) fail(`a failed decoder did not throw the same error again: ${describe(rethrown)}`);
      }
      return;
    }
    start += chunk.length;
    // Memory stays bounded: never more than one incomplete frame (at most maxFrameBytes of body) is held.
    if (decoder.bufferedBytes >= Math.max(FRAME_HEADER_BYTES, maxFrameBytes)) {
      fail(`the decoder holds ${decoder.bufferedBytes} bytes with maxFrameBytes ${maxFrameBytes}`);
    }
  }
  if (expected.failure) fail(`the stream has a ${expected.failure.kind} header at byte ${expected.failure.at}, but no chunk threw`);
  checkPayloads(got, expected.payloads, 'payloads');
  if (decoder.bufferedBytes !== expected.held) fail(`the decoder holds ${decoder.bufferedBytes} bytes, the model ${expected.held}`);
  if (decoder.idle !== (expected.truncated === undefined)) fail(`idle is ${decoder.idle} after ${bytes.length} bytes`);
  if (!input.end) return;
  try {
    decoder.end();
  } catch (error) {
    if (!expected.truncated) fail(`end() threw on a stream ending on a frame boundary: ${describe(error)}`);
    checkTruncated(error, expected.truncated);
    return;
  }
  if (expected.truncated) fail('end() accepted a stream that stops inside a frame');
}

/** readFrames on a bare event emitter, against the model. */
function checkReader(input: FrameDecoderInput, chunks: Buffer[], expected: Expected): void {
  const stream = new EventEmitter();
  const got: Buffer[] = [];
  const errors: unknown[] = [];
  readFrames(
    stream as unknown as NodeJS.ReadableStream,
    (payload) => {
      if (errors.length) fail('readFrames delivered a frame after reporting an error');
      got.push(payload);
    },
    (error) => errors.push(error),
    { maxFrameBytes: input.maxFrameBytes },
  );
  for (const chunk of chunks) stream.emit('data', chunk);
  if (input.end) stream.emit('end');
  checkPayloads(got, expected.payloads, 'readFrames payloads');
  const wantedError = expected.failure ?? (input.end ? expected.truncated : undefined);
  if (errors.length > 1) fail(`readFrames reported ${errors.length} errors; at most one is allowed`);
  if (!wantedError) {
    if (errors.length) fail(`readFrames reported an error on a good stream: ${describe(errors[0])}`);
  } else {
    if (!errors.length) fail('readFrames reported no error on a bad stream');
    if (expected.failure) checkFailure(errors[0], expected.failure, input.maxFrameBytes);
    else checkTruncated(errors[0], expected.truncated!);
  }
  const detached = stream.listenerCount('data') === 0;
  if (detached !== (wantedError !== undefined || input.end)) fail(`readFrames is ${detached ? '' : 'still '}listening after the stream`);
}

function check(input: FrameDecoderInput): void {
  if (!Number.isInteger(input.maxFrameBytes) || input.maxFrameBytes < 1 || input.maxFrameBytes > MAX_FRAME_BYTES_LIMIT) {
    try {
      new FrameDecoder({ maxFrameBytes: input.maxFrameBytes });
    } catch (error) {
      if (error instanceof InvalidMaxFrameBytesError) return;
      fail(`a bad maxFrameBytes was refused with ${describe(error)}`);
    }
    fail(`maxFrameBytes ${input.maxFrameBytes} was accepted`);
  }
  const bytes = streamBytes(input.stream);
  const expected = readWhole(bytes, input.maxFrameBytes);
  const { stream } = input;
  // Unmutated frames within the limit must come back exactly, whatever the chunking.
  if (stream.kind === 'frames' && !stream.mutations.length && stream.payloads.every((p) => p.length <= input.maxFrameBytes)) {
    checkPayloads(
      expected.payloads.map((p) => p.bytes),
      stream.payloads.map((bytes) => ({ bytes })),
      'model of a valid stream',
    );
  }
  const chunks = splitAt(bytes, input.cuts);
  if (input.api === 'readFrames') checkReader(input, chunks, expected);
  else checkDecoder(input, bytes, chunks, expected);
}

const payloadArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 24 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 600 }) },
);

const streamArb: fc.Arbitrary<FrameStream> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 80 }) }) },
  {
    // Headers announcing small lengths, so random bodies sometimes fit and sometimes do not.
    weight: 1,
    arbitrary: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 40 })), { maxLength: 6 }).map((parts) => ({
      kind: 'random' as const,
      bytes: Buffer.concat(parts.map(([n, body]) => Buffer.concat([Buffer.from([0, 0, 0, n]), body]))),
    })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('frames' as const),
      payloads: fc.array(payloadArb, { maxLength: 8 }),
      mutations: fc.constant([] as Mutation[]),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('frames' as const),
      payloads: fc.array(payloadArb, { maxLength: 8 }),
      mutations: mutationsArb(4),
    }),
  },
);

const maxFrameBytesArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(600, 1024, DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_LIMIT) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 64 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, Number.NaN, MAX_FRAME_BYTES_LIMIT + 1) },
);

/** Arbitrary input of the frame decoder target. */
export const frameDecoderInputArb: fc.Arbitrary<FrameDecoderInput> = fc.record({
  maxFrameBytes: maxFrameBytesArb,
  stream: streamArb,
  cuts: fc.oneof(fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 60 })),
  api: fc.constantFrom<Api>('write', 'decode', 'readFrames'),
  end: fc.boolean(),
});

/** Checks one input of the frame decoder target; throws when a property does not hold. */
export function checkFrameDecoderInput(input: FrameDecoderInput): void {
  check(input);
}

/** FrameDecoder and readFrames: payloads or a FramingError, never more held than one frame, valid streams exact. */
export const frameDecoderTarget: FuzzTarget<FrameDecoderInput> = {
  name: 'frame-decoder',
  summary: 'random and mutated frame streams in random chunkings: exact payloads or the right FramingError, memory bounded',
  input: frameDecoderInputArb,
  open: async () => ({ async: false, check, close: async () => undefined }),
};
