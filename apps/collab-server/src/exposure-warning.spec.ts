import type { ListenResult } from '@collab/address';
import { exposureWarning } from './exposure-warning';

const on = (address: string, dualStack = false): ListenResult => ({
  address,
  port: 8080,
  family: address.includes(':') ? 6 : 4,
  dualStack,
});

describe('exposureWarning', () => {
  it('warns that anyone can edit when listening on every interface without TLS or a token', () => {
    expect(exposureWarning(on('::', true), { tls: false, token: false })).toBe(
      'Listening on [::]:8080 without TLS or a token: anyone who can reach this port can read and edit every document (set --token and --tls-cert/--tls-key)',
    );
    expect(exposureWarning(on('0.0.0.0'), { tls: false, token: false })).toMatch(/^Listening on 0\.0\.0\.0:8080 without TLS or a token/);
    expect(exposureWarning(on('192.168.1.10'), { tls: false, token: false })).toMatch(/^Listening on 192\.168\.1\.10:8080 /);
  });

  it('warns more softly with TLS but no token, and about a clear-text token without TLS', () => {
    expect(exposureWarning(on('::', true), { tls: true, token: false })).toMatch(
      /with TLS but no token: anyone who can connect can read and edit/,
    );
    expect(exposureWarning(on('::', true), { tls: false, token: true })).toMatch(
      /without TLS: the token and every edit cross the network unencrypted/,
    );
  });

  it('says nothing with both TLS and a token, or on loopback', () => {
    expect(exposureWarning(on('::', true), { tls: true, token: true })).toBeUndefined();
    expect(exposureWarning(on('127.0.0.1'), { tls: false, token: false })).toBeUndefined();
    expect(exposureWarning(on('::1'), { tls: false, token: false })).toBeUndefined();
  });
});
