import { AddressError, ConnectError, HostNotFoundError, InvalidAddressError, ListenError } from './errors';

describe('errors', () => {
  it('give each kind of failure its stable code and keep the cause', () => {
    const cause = new Error('underlying');
    const cases: Array<[AddressError, string]> = [
      [new InvalidAddressError('bad', { cause }), 'COLLAB_ERR_BAD_ADDRESS'],
      [new HostNotFoundError('h', 'not found', { cause }), 'COLLAB_ERR_HOST_NOT_FOUND'],
      [new ListenError('in use', { cause }), 'COLLAB_ERR_LISTEN'],
      [new ConnectError('refused', [], { cause }), 'COLLAB_ERR_CONNECT'],
    ];
    for (const [err, code] of cases) {
      expect(err).toBeInstanceOf(AddressError);
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe(code);
      expect(err.cause).toBe(cause);
    }
  });

  it('keeps the attempts of a ConnectError and the host of a HostNotFoundError', () => {
    const attempts = [{ address: '::1', family: 6 as const, error: 'timed out' }];
    expect(new ConnectError('x', attempts).attempts).toEqual(attempts);
    expect(new HostNotFoundError('nowhere', 'x').host).toBe('nowhere');
  });
});
