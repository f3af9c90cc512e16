import {
  DEFAULT_MAX_FRAME_BYTES,
  EmptyFrameError,
  FrameTooLargeError,
  InvalidMaxFrameBytesError,
  encodeFrame,
  encodeFrames,
  writeFrameHeader,
} from './index';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('encodeFrame', () => {
  it('prefixes the payload with its length as a big-endian uint32', () => {
    expect(encodeFrame(Buffer.from('abc')).toString('hex')).toBe('00000003616263');
  });

  it('writes a multi-byte length most significant byte first', () => {
    expect(encodeFrame(new Uint8Array(0x020304)).subarray(0, 4)).toEqual(hex('00 02 03 04'));
  });

  it('accepts a plain Uint8Array view and copies only its own bytes', () => {
    const backing = new Uint8Array([9, 9, 0x61, 0x62, 9]);
    expect(encodeFrame(backing.subarray(2, 4))).toEqual(hex('00000002 6162'));
  });

  it('rejects an empty payload with EmptyFrameError', () => {
    expect(() => encodeFrame(new Uint8Array(0))).toThrow(EmptyFrameError);
    expect(() => encodeFrame(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'COLLAB_ERR_EMPTY_FRAME' }));
  });

  it('rejects a payload longer than maxFrameBytes with FrameTooLargeError', () => {
    let caught: unknown;
    try {
      encodeFrame(Buffer.from('abcde'), 4);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FrameTooLargeError);
    expect(caught).toMatchObject({ code: 'COLLAB_ERR_FRAME_TOO_LARGE', announcedBytes: 5, maxFrameBytes: 4 });
  });

  it('accepts a payload of exactly maxFrameBytes', () => {
    expect(encodeFrame(Buffer.from('abcd'), 4)).toEqual(hex('00000004 61626364'));
  });

  it('applies the 16 MiB default limit when none is given', () => {
    expect(() => encodeFrame(new Uint8Array(DEFAULT_MAX_FRAME_BYTES + 1))).toThrow(FrameTooLargeError);
    expect(encodeFrame(new Uint8Array(DEFAULT_MAX_FRAME_BYTES)).length).toBe(DEFAULT_MAX_FRAME_BYTES + 4);
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 32])('rejects maxFrameBytes %p with a full sentence', (max) => {
    expect(() => encodeFrame(Buffer.from('a'), max)).toThrow(InvalidMaxFrameBytesError);
    expect(() => encodeFrame(Buffer.from('a'), max)).toThrow(/^maxFrameBytes must be an integer from 1 to 4294967295/);
  });
});

describe('encodeFrames', () => {
  it('concatenates the frames of every payload in order', () => {
    expect(encodeFrames([Buffer.from('a'), Buffer.from('bc')])).toEqual(hex('00000001 61  00000002 6263'));
  });

  it('returns an empty buffer for no payloads', () => {
    expect(encodeFrames([]).length).toBe(0);
  });

  it('rejects the batch if any payload is empty or too large', () => {
    expect(() => encodeFrames([Buffer.from('a'), new Uint8Array(0)])).toThrow(EmptyFrameError);
    expect(() => encodeFrames([Buffer.from('a'), Buffer.from('abc')], 2)).toThrow(FrameTooLargeError);
  });
});

describe('writeFrameHeader', () => {
  it('writes the header at the offset and returns the offset after it', () => {
    const target = new Uint8Array(6).fill(0xee);
    expect(writeFrameHeader(target, 1, 0x010203)).toBe(5);
    expect(Buffer.from(target)).toEqual(hex('ee 00010203 ee'));
  });

  it('rejects a header that does not fit in the target', () => {
    expect(() => writeFrameHeader(new Uint8Array(4), 1, 1)).toThrow(RangeError);
  });

  it('rejects sizes the decoder would reject', () => {
    expect(() => writeFrameHeader(new Uint8Array(4), 0, 0)).toThrow(EmptyFrameError);
    expect(() => writeFrameHeader(new Uint8Array(4), 0, 9, 8)).toThrow(FrameTooLargeError);
  });
});
