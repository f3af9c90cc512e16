import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { familyOf } from './family-of';
import { normalizeAddress } from './normalize-address';

describe('normalizeAddress', () => {
  it.each([
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:7f00:1', '127.0.0.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0::1%lo', 'fe80::1%lo'],
    ['10.0.0.1', '10.0.0.1'],
    ['localhost', 'localhost'],
  ])('prints %s as %s', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });

  it('is idempotent and keeps the address the same', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const once = normalizeAddress(address);
        expect(normalizeAddress(once)).toBe(once);
        const a = ipaddr.process(address).toNormalizedString();
        expect(ipaddr.process(once).toNormalizedString()).toBe(a);
      }),
    );
  });
});

describe('familyOf', () => {
  it.each([
    ['127.0.0.1', 4],
    ['::ffff:127.0.0.1', 4],
    ['::1', 6],
    ['fe80::1%lo', 6],
    ['localhost', undefined],
    ['127.1', undefined],
    ['[::1]', undefined],
    ['', undefined],
  ])('says %j is %s', (input, expected) => {
    expect(familyOf(input)).toBe(expected);
  });
});
