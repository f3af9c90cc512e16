import { HostNotFoundError } from './errors';
import { resolveHost, type Lookup } from './resolve-host';

function dnsError(code: string, host: string): Error {
  return Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code, hostname: host });
}

describe('resolveHost', () => {
  it.each([
    ['::1', { address: '::1', family: 6 }],
    ['127.0.0.1', { address: '127.0.0.1', family: 4 }],
    ['::ffff:127.0.0.1', { address: '127.0.0.1', family: 4 }],
    ['fe80::1%lo', { address: 'fe80::1%lo', family: 6 }],
  ])('returns the literal %s without asking DNS', async (host, expected) => {
    const lookup = jest.fn<ReturnType<Lookup>, Parameters<Lookup>>();
    await expect(resolveHost(host, { lookup })).resolves.toEqual([expected]);
    expect(lookup).not.toHaveBeenCalled();
  });

  it('resolves localhost through the system resolver', async () => {
    const found = await resolveHost('localhost');
    expect(found).toContainEqual({ address: '127.0.0.1', family: 4 });
  });

  it('asks the resolver for the family wanted and keeps only that family', async () => {
    const lookup = jest.fn<ReturnType<Lookup>, Parameters<Lookup>>(async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    await expect(resolveHost('both', { family: 6, lookup })).resolves.toEqual([{ address: '::1', family: 6 }]);
    expect(lookup).toHaveBeenCalledWith('both', 6);
  });

  it('drops duplicates and prints addresses in one form', async () => {
    const lookup: Lookup = async () => [
      { address: '::1', family: 6 },
      { address: '0:0:0:0:0:0:0:1', family: 6 },
      { address: '127.0.0.1', family: 4 },
      { address: '::ffff:127.0.0.1', family: 6 },
    ];
    await expect(resolveHost('dup', { lookup })).resolves.toEqual([
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ]);
  });

  it('throws HostNotFoundError naming the host when the name does not exist', async () => {
    const cause = dnsError('ENOTFOUND', 'nosuch.invalid');
    const err = await resolveHost('nosuch.invalid', { lookup: async () => Promise.reject(cause) }).catch((e) => e);
    expect(err).toBeInstanceOf(HostNotFoundError);
    expect(err.code).toBe('COLLAB_ERR_HOST_NOT_FOUND');
    expect(err.host).toBe('nosuch.invalid');
    expect(err.message).toBe('host "nosuch.invalid" was not found (ENOTFOUND)');
    expect(err.cause).toBe(cause);
  });

  it('says a temporary DNS failure is temporary', async () => {
    const err = await resolveHost('flaky', { lookup: async () => Promise.reject(dnsError('EAI_AGAIN', 'flaky')) }).catch((e) => e);
    expect(err).toBeInstanceOf(HostNotFoundError);
    expect(err.message).toMatch(/^host "flaky" could not be resolved: .*try again later \(EAI_AGAIN\)$/);
  });

  it('shows the reason of any other resolver failure', async () => {
    const err = await resolveHost('odd', { lookup: async () => Promise.reject(new Error('resolver exploded')) }).catch((e) => e);
    expect(err).toBeInstanceOf(HostNotFoundError);
    expect(err.message).toBe('host "odd" could not be resolved (resolver exploded)');
  });

  it('throws HostNotFoundError when the family filter leaves nothing', async () => {
    const lookup: Lookup = async () => [{ address: '127.0.0.1', family: 4 }];
    await expect(resolveHost('v4only', { family: 6, lookup })).rejects.toThrow(
      new HostNotFoundError('v4only', 'host "v4only" has no IPv6 address'),
    );
    await expect(resolveHost('::1', { family: 4 })).rejects.toBeInstanceOf(HostNotFoundError);
  });

  it('throws HostNotFoundError when the resolver returns nothing', async () => {
    await expect(resolveHost('empty', { lookup: async () => [] })).rejects.toThrow('host "empty" has no addresses');
  });
});
