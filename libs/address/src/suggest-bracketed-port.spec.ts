import { suggestBracketedPort } from './suggest-bracketed-port';

describe('suggestBracketedPort', () => {
  it.each([
    ['::1:8081', '[::1]:8081'],
    ['2001:db8::1:443', '[2001:db8::1]:443'],
    [' ::1:7 ', '[::1]:7'],
  ])('reads %j as an address with a port: %s', (input, suggestion) => {
    expect(suggestBracketedPort(input)).toBe(suggestion);
  });

  it.each([
    ['::1', 'the loopback address itself: no port follows a whole group'],
    ['::8081', 'the same with a bigger number'],
    ['2001:db8::80', 'what is left, 2001:db8:, is not an address'],
    ['1:2:3:4:5:6:7:8', 'seven groups without :: are not an address'],
    ['::ffff:127.0.0.1', 'the last part is an IPv4 address, not a port'],
    ['::1:0', 'port 0 cannot be connected to'],
    ['::1:ffff', 'hex digits are not a port'],
    ['fe80::1%eth0', 'a zone, not a port'],
    ['localhost:8081', 'not an IPv6 address at all'],
    ['[::1]:8081', 'already bracketed'],
  ])('suggests nothing for %j (%s)', (input) => {
    expect(suggestBracketedPort(input)).toBeUndefined();
  });
});
