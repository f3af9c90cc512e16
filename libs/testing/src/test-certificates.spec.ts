import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { makeTestCertificates } from './test-certificates';

describe('makeTestCertificates', () => {
  it('makes a server certificate for localhost, 127.0.0.1 and ::1 signed by its CA', () => {
    const certs = makeTestCertificates();
    try {
      const ca = new X509Certificate(readFileSync(certs.caCert));
      const server = new X509Certificate(readFileSync(certs.serverCert));
      expect(ca.ca).toBe(true);
      expect(server.ca).toBe(false);
      expect(server.verify(ca.publicKey)).toBe(true);
      expect(server.checkHost('localhost')).toBe('localhost');
      expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(server.checkIP('::1')).toBe('::1');
      expect(existsSync(certs.serverKey)).toBe(true);
    } finally {
      certs.remove();
      certs.remove();
    }
    expect(existsSync(certs.dir)).toBe(false);
  });
});
