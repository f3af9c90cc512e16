import fc from 'fast-check';
import { InvalidAddressError } from './errors';
import { formatEndpoint } from './format-endpoint';
import { normalizeAddress } from './normalize-address';
import { parseHostPort, parsePort } from './parse-host-port';

describe('parseHostPort', () => {
  it.each([
    ['localhost', { host: 'localhost', port: 8081 }],
    ['127.0.0.1', { host: '127.0.0.1', port: 8081 }],
    ['::1', { host: '::1', port: 8081 }],
    ['[::1]:8081', { host: '::1', port: 8081 }],
    ['[::1]', { host: '::1', port: 8081 }],
    ['example.com:80', { host: 'example.com', port: 80 }],
    ['127.0.0.1:9', { host: '127.0.0.1', port: 9 }],
    ['fe80::1%lo', { host: 'fe80::1%lo', port: 8081 }],
    ['[fe80::1%lo]:80', { host: 'fe80::1%lo', port: 80 }],
    ['[::ffff:127.0.0.1]:7', { host: '::ffff:127.0.0.1', port: 7 }],
    ['  localhost:65535 \n', { host: 'localhost', port: 65535 }],
  ])('reads %j', (input, expected) => {
    expect(parseHostPort(input, 8081)).toEqual(expected);
  });

  it('takes a bare IPv6 literal ending in digits as a host, not a port', () => {
    expect(parseHostPort('2001:db8::80', 9)).toEqual({ host: '2001:db8::80', port: 9 });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['host:', /no port/],
    [':8080', /no host/],
    ['host:0', /bad port/],
    ['host:65536', /bad port/],
    ['host:-1', /bad port/],
    ['host:8o', /bad port/],
    ['host:1.5', /bad port/],
    ['1:2:3', /not a valid IPv6 address/],
    ['[::1', /without a matching/],
    ['[::1]8081', /unexpected text/],
    ['[localhost]:80', /brackets are only for IPv6/],
    ['[127.0.0.1]:80', /brackets are only for IPv6/],
    ['bad host:80', /not a valid host/],
  ])('refuses %j with InvalidAddressError', (input, message) => {
    let caught: unknown;
    try {
      parseHostPort(input, 8081);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidAddressError);
    expect((caught as InvalidAddressError).code).toBe('COLLAB_ERR_BAD_ADDRESS');
    expect((caught as Error).message).toMatch(message);
  });

  it('refuses a default port outside 1..65535', () => {
    expect(() => parseHostPort('localhost', 0)).toThrow(InvalidAddressError);
  });

  it('reads back whatever formatEndpoint prints', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 1, max: 65535 }), (address, port) => {
        const parsed = parseHostPort(formatEndpoint(address, port), 1);
        expect(parsed).toEqual({ host: normalizeAddress(address), port });
      }),
    );
  });
});

describe('parsePort', () => {
  it('accepts 1 and 65535 and refuses 0 and 65536', () => {
    expect(parsePort('1')).toBe(1);
    expect(parsePort('65535')).toBe(65535);
    expect(() => parsePort('0')).toThrow(/from 1 to 65535/);
    expect(() => parsePort('65536')).toThrow(InvalidAddressError);
  });
});
