import {
  DEFAULT_MAX_FRAME_BYTES,
  EmptyFrameError,
  FrameDecoder,
  FrameTooLargeError,
  FramingError,
  InvalidMaxFrameBytesError,
  TruncatedFrameError,
  encodeFrame,
} from './index';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const texts = (payloads: Buffer[]): string[] => payloads.map((p) => p.toString());

/** Three frames: 'a', 'bc', 'hello'; 22 bytes, so a split lands in every header and body. */
const THREE_FRAMES = hex('00000001 61  00000002 6263  00000005 68656c6c6f');

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (err) {
    return err;
  }
  throw new Error('expected the action to throw');
}

describe('FrameDecoder', () => {
  it('returns the payload of one whole frame', () => {
    expect(texts(new FrameDecoder().write(hex('00000003 616263')))).toEqual(['abc']);
  });

  it('returns nothing until a frame is complete', () => {
    const decoder = new FrameDecoder();
    expect(decoder.write(hex('00000003 6162'))).toEqual([]);
    expect(texts(decoder.write(hex('63')))).toEqual(['abc']);
  });

  it('joins a header split across two writes', () => {
    const decoder = new FrameDecoder();
    expect(decoder.write(hex('0000'))).toEqual([]);
    expect(texts(decoder.write(hex('0003 616263')))).toEqual(['abc']);
  });

  it('returns every frame of a chunk that holds many', () => {
    expect(texts(new FrameDecoder().write(THREE_FRAMES))).toEqual(['a', 'bc', 'hello']);
  });

  it('keeps the start of the next frame when a chunk ends inside it', () => {
    const decoder = new FrameDecoder();
    expect(texts(decoder.write(hex('00000001 61  000000')))).toEqual(['a']);
    expect(texts(decoder.write(hex('02 6263')))).toEqual(['bc']);
  });

  it('reassembles one frame from a thousand 1-byte chunks', () => {
    const payload = Buffer.alloc(996, 0x7a);
    const stream = encodeFrame(payload);
    expect(stream.length).toBe(1000);
    const decoder = new FrameDecoder();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...decoder.write(stream.subarray(i, i + 1)));
    expect(out).toEqual([payload]);
    expect(decoder.idle).toBe(true);
  });

  it('decodes a multi-frame stream split at any one byte offset', () => {
    for (let cut = 0; cut <= THREE_FRAMES.length; cut++) {
      const decoder = new FrameDecoder();
      const out = [...decoder.write(THREE_FRAMES.subarray(0, cut)), ...decoder.write(THREE_FRAMES.subarray(cut))];
      expect({ cut, payloads: texts(out) }).toEqual({ cut, payloads: ['a', 'bc', 'hello'] });
    }
  });

  it('decodes a multi-frame stream split at any two byte offsets', () => {
    for (let first = 0; first <= THREE_FRAMES.length; first++) {
      for (let second = first; second <= THREE_FRAMES.length; second++) {
        const decoder = new FrameDecoder();
        const out = [
          ...decoder.write(THREE_FRAMES.subarray(0, first)),
          ...decoder.write(THREE_FRAMES.subarray(first, second)),
          ...decoder.write(THREE_FRAMES.subarray(second)),
        ];
        expect({ first, second, payloads: texts(out) }).toEqual({ first, second, payloads: ['a', 'bc', 'hello'] });
      }
    }
  });

  it('returns a payload lying inside one chunk as a view of that chunk, without copying', () => {
    const chunk = hex('00000002 6162  00000001 63');
    const [ab, c] = new FrameDecoder().write(chunk);
    chunk[4] = 0x41; // the payloads share the chunk's memory, so they see the change
    chunk[10] = 0x43;
    expect(texts([ab, c])).toEqual(['Ab', 'C']);
  });

  it('copies a payload that spans chunks into one buffer of its own', () => {
    const decoder = new FrameDecoder();
    const first = hex('00000004 6162');
    const second = hex('6364');
    decoder.write(first);
    const [payload] = decoder.write(second);
    first.fill(0x41);
    second.fill(0x41);
    expect(payload.toString()).toBe('abcd');
  });

  it('accepts Uint8Array chunks that are views into a larger buffer', () => {
    const backing = new Uint8Array([0xff, 0, 0, 0, 2, 0x68, 0x69, 0xff]);
    expect(texts(new FrameDecoder().write(backing.subarray(1, 7)))).toEqual(['hi']);
  });

  it('ignores empty chunks', () => {
    const decoder = new FrameDecoder();
    expect(decoder.write(new Uint8Array(0))).toEqual([]);
    decoder.write(hex('000000'));
    expect(decoder.write(Buffer.alloc(0))).toEqual([]);
    expect(texts(decoder.write(hex('01 61')))).toEqual(['a']);
  });

  it('decodes a 16 MiB frame arriving in 64 KiB chunks', () => {
    const payload = Buffer.alloc(DEFAULT_MAX_FRAME_BYTES, 0x5a);
    const stream = encodeFrame(payload);
    const decoder = new FrameDecoder();
    const out: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 64 * 1024) out.push(...decoder.write(stream.subarray(at, at + 64 * 1024)));
    expect(out).toHaveLength(1);
    expect(out[0].equals(payload)).toBe(true);
  });

  it('counts in bufferedBytes the bytes waiting for the rest of a frame', () => {
    const decoder = new FrameDecoder();
    decoder.write(hex('0000'));
    expect(decoder.bufferedBytes).toBe(2);
    decoder.write(hex('0003 61'));
    expect(decoder.bufferedBytes).toBe(1); // the header is read; one body byte waits
    decoder.write(hex('6263'));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('is idle between frames and not idle inside a header or a body', () => {
    const decoder = new FrameDecoder();
    expect(decoder.idle).toBe(true);
    decoder.write(hex('00'));
    expect(decoder.idle).toBe(false);
    decoder.write(hex('000002'));
    expect(decoder.idle).toBe(false); // header complete, body not started
    decoder.write(hex('61'));
    expect(decoder.idle).toBe(false);
    decoder.write(hex('62'));
    expect(decoder.idle).toBe(true);
  });

  it('accepts a payload of exactly maxFrameBytes', () => {
    expect(texts(new FrameDecoder({ maxFrameBytes: 3 }).write(hex('00000003 616263')))).toEqual(['abc']);
  });

  it('rejects a header announcing more than maxFrameBytes before any body arrives', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 3 });
    const err = thrownBy(() => decoder.write(hex('00000004')));
    expect(err).toBeInstanceOf(FrameTooLargeError);
    expect(err).toBeInstanceOf(FramingError);
    expect(err).toMatchObject({ code: 'COLLAB_ERR_FRAME_TOO_LARGE', announcedBytes: 4, maxFrameBytes: 3 });
    expect((err as Error).message).toBe('A frame of 4 bytes exceeds the limit of 3 bytes.');
  });

  it('rejects an oversized header split across writes as soon as its fourth byte arrives', () => {
    const decoder = new FrameDecoder();
    expect(decoder.write(hex('ffff'))).toEqual([]);
    expect(decoder.write(hex('ff'))).toEqual([]);
    expect(() => decoder.write(hex('ff'))).toThrow(FrameTooLargeError);
  });

  it('applies the 16 MiB default limit when none is given', () => {
    expect(new FrameDecoder().maxFrameBytes).toBe(DEFAULT_MAX_FRAME_BYTES);
    expect(new FrameDecoder().write(hex('01000000'))).toEqual([]);
    expect(() => new FrameDecoder().write(hex('01000001'))).toThrow(FrameTooLargeError);
  });

  it('rejects a header announcing 0 bytes with EmptyFrameError', () => {
    const err = thrownBy(() => new FrameDecoder().write(hex('00000000 61')));
    expect(err).toBeInstanceOf(EmptyFrameError);
    expect(err).toMatchObject({ code: 'COLLAB_ERR_EMPTY_FRAME' });
  });

  it('throws the same error on every write after a failure', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1 });
    const err = thrownBy(() => decoder.write(hex('00000002')));
    expect(thrownBy(() => decoder.write(hex('00000001 61')))).toBe(err);
    expect(thrownBy(() => decoder.end())).toBe(err);
    expect(decoder.error).toBe(err);
  });

  it('drops every buffered byte when it fails', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1 });
    expect(() => decoder.write(hex('00000002 6162 6364'))).toThrow(FrameTooLargeError);
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.idle).toBe(false);
  });

  it('delivers through decode() the payloads that precede a bad header in the same chunk', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 2 });
    const seen: string[] = [];
    expect(() => decoder.decode(hex('00000001 61  00000002 6263  00000003'), (p) => seen.push(p.toString()))).toThrow(FrameTooLargeError);
    expect(seen).toEqual(['a', 'bc']);
  });

  it('keeps the rest of a chunk for the next call when the decode() callback throws', () => {
    const decoder = new FrameDecoder();
    const boom = new Error('handler failed');
    expect(() =>
      decoder.decode(hex('00000001 61  00000001 62'), () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(decoder.error).toBeUndefined();
    expect(texts(decoder.write(new Uint8Array(0)))).toEqual(['b']);
  });

  it('ends cleanly on a frame boundary', () => {
    const decoder = new FrameDecoder();
    decoder.write(hex('00000001 61'));
    expect(() => decoder.end()).not.toThrow();
  });

  it('reports a stream cut inside a header as TruncatedFrameError', () => {
    const decoder = new FrameDecoder();
    decoder.write(hex('000000'));
    const err = thrownBy(() => decoder.end());
    expect(err).toBeInstanceOf(TruncatedFrameError);
    expect(err).toMatchObject({ code: 'COLLAB_ERR_TRUNCATED_FRAME', receivedBytes: 3, announcedBytes: undefined });
  });

  it('reports a stream cut inside a body as TruncatedFrameError', () => {
    const decoder = new FrameDecoder();
    decoder.write(hex('00000005 6162'));
    expect(thrownBy(() => decoder.end())).toMatchObject({
      code: 'COLLAB_ERR_TRUNCATED_FRAME',
      receivedBytes: 6,
      announcedBytes: 5,
    });
  });

  it.each([0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32])('rejects maxFrameBytes %p when constructed', (maxFrameBytes) => {
    const err = thrownBy(() => new FrameDecoder({ maxFrameBytes }));
    expect(err).toBeInstanceOf(InvalidMaxFrameBytesError);
    expect(err).toMatchObject({ code: 'COLLAB_ERR_INVALID_MAX_FRAME_BYTES' });
  });

  it('accepts the largest limit a uint32 header can express', () => {
    expect(new FrameDecoder({ maxFrameBytes: 2 ** 32 - 1 }).write(hex('ffffffff'))).toEqual([]);
  });
});
