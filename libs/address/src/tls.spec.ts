import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { makeTestCertificates, type TestCertificates } from '@collab/testing';
import { createTcpServer, type HandshakeFailure } from './create-tcp-server';
import { ConnectError, TlsCertificateError, TlsFileError } from './errors';
import { connectTls } from './tls-connect';
import { loadCertificateAuthority, loadServerCredentials } from './tls-files';

let certs: TestCertificates;
const servers: Server[] = [];
const sockets: Socket[] = [];

beforeAll(() => {
  certs = makeTestCertificates();
});

afterAll(() => certs.remove());

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A TLS echo server on loopback (both families) with the test CA's server certificate. */
async function startTlsEcho(cert = certs.serverCert, key = certs.serverKey) {
  const credentials = await loadServerCredentials(cert, key);
  const failures: HandshakeFailure[] = [];
  const accepted: Socket[] = [];
  const server = createTcpServer({ tls: credentials, noDelay: true, onHandshakeFailure: (f) => failures.push(f) }, (socket) => {
    accepted.push(socket);
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  servers.push(server);
  server.listen({ host: '::', port: 0, ipv6Only: false });
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, failures, accepted };
}

async function roundTrip(socket: Socket, text: string): Promise<string> {
  socket.write(text);
  const [data] = (await once(socket, 'data')) as [Buffer];
  return data.toString();
}

const hint = '(use --ca FILE to trust its CA)';

describe('connectTls and createTcpServer', () => {
  it.each(['127.0.0.1', '::1', 'localhost'])('talks TLS to %s when the CA is given, and checks the certificate', async (host) => {
    const { port } = await startTlsEcho();
    const ca = await loadCertificateAuthority(certs.caCert);
    const { socket } = await connectTls({ host, port, tls: { ca, untrustedHint: hint } });
    sockets.push(socket);
    expect((socket as TLSSocket).authorized).toBe(true);
    expect((socket as TLSSocket).encrypted).toBe(true);
    expect(await roundTrip(socket, 'hello')).toBe('hello');
  });

  it('refuses a certificate from a CA it does not trust, in one sentence with the hint', async () => {
    const { port, accepted } = await startTlsEcho();
    const err = await connectTls({ host: '127.0.0.1', port, tls: { untrustedHint: hint } }).catch((e) => e);
    expect(err).toBeInstanceOf(TlsCertificateError);
    expect(err.code).toBe('COLLAB_ERR_TLS_UNTRUSTED');
    expect(err.message).toBe(`the server's certificate is not trusted: unable to verify the first certificate ${hint}`);
    expect(accepted).toHaveLength(0);
  });

  it('refuses a self-signed certificate', async () => {
    const { port } = await startTlsEcho(certs.selfSignedCert, certs.selfSignedKey);
    const err = await connectTls({ host: '::1', port, tls: { ca: await loadCertificateAuthority(certs.caCert) } }).catch((e) => e);
    expect(err).toBeInstanceOf(TlsCertificateError);
    expect(err.verifyCode).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(err.message).toBe("the server's certificate is not trusted: self-signed certificate");
  });

  it('refuses a trusted certificate made out for another name', async () => {
    const { port } = await startTlsEcho();
    const err = await connectTls({
      host: 'collab.example',
      port,
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
      tls: { ca: await loadCertificateAuthority(certs.caCert) },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TlsCertificateError);
    expect(err.verifyCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(err.message).toMatch(/^the server's certificate is not valid for collab\.example: .*collab\.example.* DNS:localhost/);
  });

  it('fails cleanly against a server that does not speak TLS', async () => {
    const plain = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      s.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    servers.push(plain);
    plain.listen({ host: '127.0.0.1', port: 0 });
    await once(plain, 'listening');
    const { port } = plain.address() as { port: number };
    const err = await connectTls({ host: '127.0.0.1', port, timeoutMs: 5000, tls: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.message).toMatch(
      new RegExp(
        `^could not connect to 127\\.0\\.0\\.1 port ${port}: 127\\.0\\.0\\.1 \\(ERR_SSL_\\w+ .+\\); the server does not seem to speak TLS$`,
      ),
    );
    expect(err.message).not.toMatch(/\.c:\d+/);
  });

  it('reports a client that does not speak TLS as a failed handshake, never as a connection', async () => {
    const { port, failures, accepted } = await startTlsEcho();
    const raw = connect({ host: '127.0.0.1', port });
    sockets.push(raw);
    raw.on('error', () => undefined);
    raw.write('HELLO plain text\r\n\r\n');
    await once(raw, 'close');
    expect(accepted).toHaveLength(0);
    expect(failures).toEqual([{ remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/), reason: expect.any(String), quiet: false }]);
  });

  it('counts a probe that connects and leaves as a quiet failure', async () => {
    const { port, failures } = await startTlsEcho();
    const probe = connect({ host: '::1', port });
    sockets.push(probe);
    await once(probe, 'connect');
    probe.destroy();
    const until = Date.now() + 2000;
    while (failures.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(failures).toEqual([
      { remote: expect.stringMatching(/^\[::1\]:\d+$/), reason: expect.stringMatching(/^ECONNRESET/), quiet: true },
    ]);
  });

  it('says so when the server echoes the ClientHello back, as a plain echo server does', async () => {
    const echo = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      s.pipe(s);
    });
    servers.push(echo);
    echo.listen({ host: '::1', port: 0 });
    await once(echo, 'listening');
    const { port } = echo.address() as { port: number };
    const err = await connectTls({ host: '::1', port, timeoutMs: 5000, tls: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.message).toMatch(/the server does not seem to speak TLS$/);
  });

  it('gives a plain net.Server without credentials', async () => {
    const server = createTcpServer({}, (s) => s.end());
    expect(server.constructor.name).toBe('Server');
    expect('addContext' in server).toBe(false);
  });
});

describe('loadServerCredentials', () => {
  it('reads a certificate and its key and sums the certificate up', async () => {
    const credentials = await loadServerCredentials(certs.serverCert, certs.serverKey);
    expect(credentials.summary).toMatch(/^certificate for DNS:localhost, IP Address:127\.0\.0\.1, IP Address:::1, valid until \d{4}-/);
    expect(credentials.expired).toBe(false);
  });

  it('names a file that cannot be read', async () => {
    const missing = join(certs.dir, 'missing.pem');
    const err = await loadServerCredentials(missing, certs.serverKey).catch((e) => e);
    expect(err).toBeInstanceOf(TlsFileError);
    expect(err.code).toBe('COLLAB_ERR_TLS_FILE');
    expect(err.message).toBe(`cannot read the TLS certificate file ${missing}: ENOENT no such file or directory`);
  });

  it('says when a file holds no certificate or no key', async () => {
    const garbage = join(certs.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    await expect(loadServerCredentials(garbage, certs.serverKey)).rejects.toThrow(`${garbage} does not hold a PEM certificate`);
    await expect(loadServerCredentials(certs.serverCert, garbage)).rejects.toThrow(`${garbage} does not hold a usable PEM private key`);
  });

  it('says when the key belongs to another certificate', async () => {
    await expect(loadServerCredentials(certs.serverCert, certs.selfSignedKey)).rejects.toThrow(
      `the key in ${certs.selfSignedKey} does not belong to the certificate in ${certs.serverCert}`,
    );
  });
});

describe('loadCertificateAuthority', () => {
  it('reads a PEM CA and refuses a file that holds none', async () => {
    expect((await loadCertificateAuthority(certs.caCert)).toString()).toContain('BEGIN CERTIFICATE');
    await expect(loadCertificateAuthority(certs.caKey)).rejects.toThrow(`${certs.caKey} does not hold a PEM CA certificate`);
    await expect(loadCertificateAuthority(join(certs.dir, 'none.pem'))).rejects.toThrow(/^cannot read the CA file .*none\.pem: ENOENT/);
  });
});
