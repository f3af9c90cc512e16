import { formatEndpoint } from './format-endpoint';

describe('formatEndpoint', () => {
  it.each([
    ['127.0.0.1', 8081, '127.0.0.1:8081'],
    ['::1', 8081, '[::1]:8081'],
    ['::ffff:10.1.2.3', 5000, '10.1.2.3:5000'],
    ['2001:0db8::0001', 80, '[2001:db8::1]:80'],
    ['fe80::1%lo', 80, '[fe80::1%lo]:80'],
    ['localhost', 8080, 'localhost:8080'],
  ])('prints %s port %d as %s', (address, port, expected) => {
    expect(formatEndpoint(address, port)).toBe(expected);
  });
});
