import fc from 'fast-check';
import { interleaveFamilies } from './interleave-families';
import type { Family, ResolvedAddress } from './types';

const v4 = (n: number): ResolvedAddress => ({ address: `127.0.0.${n}`, family: 4 });
const v6 = (n: number): ResolvedAddress => ({ address: `::${n}`, family: 6 });

describe('interleaveFamilies', () => {
  it('starts with IPv6 and alternates families', () => {
    expect(interleaveFamilies([v4(1), v4(2), v6(1), v6(2)])).toEqual([v6(1), v4(1), v6(2), v4(2)]);
  });

  it('puts the rest of the longer family at the end', () => {
    expect(interleaveFamilies([v4(1), v4(2), v4(3), v6(1)])).toEqual([v6(1), v4(1), v4(2), v4(3)]);
  });

  it('keeps a single family in resolver order', () => {
    expect(interleaveFamilies([v4(3), v4(1)])).toEqual([v4(3), v4(1)]);
  });

  it('reorders without losing or adding addresses, keeping order within each family', () => {
    const entry = fc.tuple(fc.constantFrom<Family>(4, 6), fc.nat(255)).map(([family, n]) => (family === 4 ? v4(n) : v6(n)));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), (input) => {
        const out = interleaveFamilies(input);
        expect(out).toHaveLength(input.length);
        for (const family of [4, 6]) {
          expect(out.filter((a) => a.family === family)).toEqual(input.filter((a) => a.family === family));
        }
        if (input.some((a) => a.family === 6)) expect(out[0].family).toBe(6);
      }),
    );
  });
});
