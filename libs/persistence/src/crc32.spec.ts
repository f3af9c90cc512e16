import fc from 'fast-check';
import { crc32 } from './crc32';
import { prefixCrcs, rangeCrc } from './crc32-range';

describe('crc32', () => {
  it("gives the standard check value CBF43926 for '123456789'", () => {
    expect(crc32(Buffer.from('123456789')).toString(16).toUpperCase()).toBe('CBF43926');
  });

  it('gives 0 for no bytes', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('continues a checksum across chunks', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    expect(crc32(data)).toBe(0x414fa339);
    expect(crc32(data, 10, data.length, crc32(data, 0, 10))).toBe(0x414fa339);
  });

  it('computes any range from prefix checksums', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (bytes, x, y) => {
        const a = bytes.length === 0 ? 0 : x % (bytes.length + 1);
        const b = a + (bytes.length === 0 ? 0 : y % (bytes.length - a + 1));
        const prefix = prefixCrcs(bytes, 0, bytes.length);
        expect(rangeCrc(prefix, a, b)).toBe(crc32(bytes, a, b));
      }),
    );
  });
});
