import { isLoopback } from './is-loopback';

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST'])('is true for %s', (host) => {
    expect(isLoopback(host)).toBe(true);
  });

  it.each(['::', '0.0.0.0', '192.168.1.10', '2001:db8::1', 'example.org', '::ffff:10.0.0.1'])('is false for %s', (host) => {
    expect(isLoopback(host)).toBe(false);
  });
});
